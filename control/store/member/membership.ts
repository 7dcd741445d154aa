/**
 * Run-time membership, as etcd's: members added, removed and updated while the cluster runs (etcdctl member
 * add/remove/update), one change at a time.
 *
 * What is replicated: adding and removing a member are Raft configuration changes whose context carries the
 * member's peer URLs; a member's name and client URLs (published by the member itself once it runs, as etcd's
 * publish) and a change of peer URLs (MemberUpdate) are membership commands in normal log entries. Every member
 * applies them in log order to its registry, which it keeps in `<data-dir>/members.json` with the index applied
 * (so a restart replaying older entries does not go back), and tells its peer transport where members are.
 *
 * A member that joins (--initial-cluster-state existing) first asks a running member for the registry over the
 * peer URL (GET /members: cluster id, members, removed ids), finds itself by its peer URLs, and starts with an
 * empty log; the leader sends it the log or a snapshot. A member sees the registry an existing member had when it
 * joined, plus every change after; the one-change-at-a-time rule (no change while an added member has not
 * started) keeps a change from slipping between the two.
 *
 * A removed member stops, as etcd's, with "the member has been permanently removed from the cluster": when it
 * applies its own removal, or, if the leader dropped it before it could, when the leader's registry says so (it
 * asks once it has had no leader for a while).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Logger } from '../../../lib/log.js';
import { silentLogger } from '../../../lib/log.js';
import { NONE, type ConfChange, type NodeId } from '../raft/messages.js';
import { ErrMembership, ErrNoLeader, ErrNotLeader } from './errors.js';
import type { MembershipHooks, RaftNode } from './node.js';
import type { TlsOptions, Transport } from './transport.js';

export interface MemberRecord {
  readonly id: NodeId;
  /** '' until the member has started and published it (etcdctl shows "unstarted"). */
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
}

/** Membership changes that ride in normal log entries (see RaftNode.proposeMembership). */
export type MembershipCommand =
  | { readonly type: 'member'; readonly op: 'publish'; readonly id: NodeId; readonly name: string; readonly clientUrls: readonly string[] }
  | { readonly type: 'member'; readonly op: 'update'; readonly id: NodeId; readonly peerUrls: readonly string[] };

/** What GET /members answers on the peer URL. */
export interface MembersInfo {
  readonly clusterId: string;
  /** The answering member and the leader it knows (0: none). */
  readonly self: NodeId;
  readonly leader: NodeId;
  readonly members: readonly MemberRecord[];
  readonly removed: readonly NodeId[];
}

interface Persisted {
  readonly format: 'skiff.members/v1';
  readonly clusterId: string;
  readonly self: NodeId;
  /** The log index the registry reflects. */
  readonly index: number;
  readonly members: readonly MemberRecord[];
  readonly removed: readonly NodeId[];
}

const FILE = 'members.json';
export const ErrMemberRemovedMessage = 'the member has been permanently removed from the cluster';

/** The registry a data dir holds, if any (a member that ran with this version). */
export function loadMembership(dataDir: string): Persisted | undefined {
  const path = join(dataDir, FILE);
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Persisted>;
  if (parsed.format !== 'skiff.members/v1' || typeof parsed.clusterId !== 'string' || typeof parsed.self !== 'number') {
    throw new Error(`${path} is not a Skiff member registry`);
  }
  return parsed as Persisted;
}

/** A new member's id, from the cluster, its peer URLs and the time (as etcd's MemberAdd). 52 bits, never 0. */
export function newMemberId(clusterId: string, peerUrls: readonly string[], now: number): NodeId {
  const h = createHash('sha256').update(`${clusterId}\0${[...peerUrls].sort().join(',')}\0${now}`).digest();
  const id = Number(h.readBigUInt64BE(0) >> 12n);
  return id === 0 ? 1 : id;
}

/** etcd accepts peer URLs with a scheme of http or https, a host and a port, and nothing else. */
export function validPeerUrls(urls: readonly string[]): boolean {
  if (urls.length === 0) return false;
  return urls.every((u) => {
    try {
      const url = new URL(u);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.port !== '' && (url.pathname === '/' || url.pathname === '');
    } catch {
      return false;
    }
  });
}

const sameUrls = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().every((u, i) => u === [...b].sort()[i]);

/** Asks running members (their peer URLs) for the registry; the first to answer wins. */
export async function fetchMembers(peerUrls: readonly string[], tls: TlsOptions | undefined, timeoutMs = 3000): Promise<MembersInfo> {
  const errors: string[] = [];
  for (const base of peerUrls) {
    try {
      return await getJson<MembersInfo>(new URL('/members', base), tls, timeoutMs);
    } catch (err) {
      errors.push(`${base}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`no running member answered (${errors.join('; ')})`);
}

function getJson<T>(url: URL, tls: TlsOptions | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const options = {
      timeout: timeoutMs,
      ...(url.protocol === 'https:' && tls !== undefined
        ? { cert: tls.clientCert ?? tls.cert, key: tls.clientKey ?? tls.key, ...(tls.ca !== undefined ? { ca: tls.ca } : {}) }
        : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export interface MembershipOptions {
  readonly self: NodeId;
  readonly name: string;
  readonly clusterId: string;
  readonly dataDir: string;
  /** The registry to start from when the data dir has none (founders: --initial-cluster; joiners: a peer's). */
  readonly initial: Persisted | { readonly members: readonly MemberRecord[]; readonly removed?: readonly NodeId[] };
  readonly transport: Transport;
  /** This member's advertised client URLs (published into the registry). */
  readonly clientUrls: () => readonly string[];
  readonly peerTls?: TlsOptions;
  readonly logger?: Logger;
  /** This member was removed from the cluster: it must stop. */
  readonly onRemoved: (error: Error) => void;
}

export class Membership implements MembershipHooks {
  private readonly members = new Map<NodeId, MemberRecord>();
  private readonly removed = new Set<NodeId>();
  private index: number;
  private node: RaftNode | undefined;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private noLeaderSince: number | undefined;
  private publishing = false;
  private removedSelf = false;
  private reconciling = false;
  private lastReconcile = 0;

  constructor(private readonly options: MembershipOptions) {
    this.log = options.logger ?? silentLogger();
    for (const m of options.initial.members) this.members.set(m.id, { ...m });
    for (const id of options.initial.removed ?? []) this.removed.add(id);
    this.index = 'index' in options.initial ? options.initial.index : 0;
    for (const m of this.members.values()) if (m.peerUrls[0] !== undefined) options.transport.setPeer?.(m.id, m.peerUrls[0]);
    this.persist();
  }

  /** Starts publishing this member's attributes and watching for its removal. */
  attach(node: RaftNode): void {
    this.node = node;
    this.timer = setInterval(() => this.background(), Math.max(100, node.heartbeatMs * 2));
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  get clusterId(): string {
    return this.options.clusterId;
  }

  list(): MemberRecord[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id);
  }

  info(): MembersInfo {
    return {
      clusterId: this.options.clusterId,
      self: this.options.self,
      leader: this.node?.leader ?? NONE,
      members: this.list(),
      removed: [...this.removed],
    };
  }

  // --- The API (any member; changes run on the leader) -----------------------------------------------------------

  async add(peerUrls: readonly string[], isLearner = false): Promise<{ member: MemberRecord; members: MemberRecord[] }> {
    const r = (await this.atLeader('memberAdd', { peerUrls, isLearner })) as { index: number; id: NodeId };
    await this.requireNode().waitApplied(r.index);
    const member = this.members.get(r.id) ?? { id: r.id, name: '', peerUrls, clientUrls: [] };
    return { member, members: this.list() };
  }

  async remove(id: NodeId): Promise<MemberRecord[]> {
    const r = (await this.atLeader('memberRemove', { id })) as { index: number };
    if (id !== this.options.self) await this.requireNode().waitApplied(r.index);
    return this.list().filter((m) => m.id !== id);
  }

  async update(id: NodeId, peerUrls: readonly string[]): Promise<MemberRecord[]> {
    const r = (await this.atLeader('memberUpdate', { id, peerUrls })) as { index: number };
    await this.requireNode().waitApplied(r.index);
    return this.list();
  }

  private async atLeader(method: string, params: Record<string, unknown>): Promise<unknown> {
    const node = this.requireNode();
    const lead = node.leader;
    if (lead === NONE) throw new ErrNoLeader('no leader to change the membership');
    if (lead === node.id) return this.rpc(method, params);
    return node.transport.call(lead, method, params, node.requestTimeoutMs);
  }

  /** Leader side of add/remove/update (called locally, or for a peer that forwarded it). */
  rpc(method: string, params: unknown): Promise<unknown> | undefined {
    const p = (params ?? {}) as { peerUrls?: unknown; id?: unknown; isLearner?: unknown };
    const urls = Array.isArray(p.peerUrls) ? p.peerUrls.filter((u): u is string => typeof u === 'string') : [];
    const id = typeof p.id === 'number' ? p.id : NONE;
    switch (method) {
      case 'memberAdd':
        return this.leaderAdd(urls, p.isLearner === true);
      case 'memberRemove':
        return this.leaderRemove(id);
      case 'memberUpdate':
        return this.leaderUpdate(id, urls);
      default:
        return undefined;
    }
  }

  private async leaderAdd(peerUrls: string[], isLearner: boolean): Promise<{ index: number; id: NodeId }> {
    const node = this.requireNode();
    if (!node.isLeader) throw new ErrNotLeader('membership changes go to the leader');
    if (isLearner) throw new ErrMembership('member-learner');
    if (!validPeerUrls(peerUrls)) throw new ErrMembership('member-bad-urls');
    for (const m of this.members.values()) {
      if (m.peerUrls.some((u) => peerUrls.includes(u))) throw new ErrMembership('peer-url-exists');
    }
    this.oneAtATime();
    const id = newMemberId(this.options.clusterId, peerUrls, Date.now());
    if (this.members.has(id) || this.removed.has(id)) throw new ErrMembership('member-exists');
    const index = await node.proposeConfChange({ type: 'addNode', nodeId: id, context: JSON.stringify({ peerUrls }) });
    if (!this.members.has(id)) throw new ErrNotLeader('the membership change was lost to a leader change');
    this.log.info({ member: id.toString(16), peerUrls, index }, 'membership: member added');
    return { index, id };
  }

  private async leaderRemove(id: NodeId): Promise<{ index: number }> {
    const node = this.requireNode();
    if (!node.isLeader) throw new ErrNotLeader('membership changes go to the leader');
    if (!this.members.has(id)) throw new ErrMembership('member-not-found');
    // etcd's IsReadyToRemoveVotingMember: the started members left must still be a quorum of those left; and
    // one change at a time, except that removing an added member that never started cancels that change.
    const left = this.list().filter((m) => m.id !== id);
    const started = left.filter((m) => m.name !== '').length;
    if (started < Math.floor(left.length / 2) + 1) throw new ErrMembership('member-not-enough-started');
    if (this.members.get(id)!.name !== '') this.oneAtATime();
    const index = await node.proposeConfChange({ type: 'removeNode', nodeId: id });
    if (this.members.has(id)) throw new ErrNotLeader('the membership change was lost to a leader change');
    this.log.info({ member: id.toString(16), index }, 'membership: member removed');
    return { index };
  }

  private async leaderUpdate(id: NodeId, peerUrls: string[]): Promise<{ index: number }> {
    const node = this.requireNode();
    if (!node.isLeader) throw new ErrNotLeader('membership changes go to the leader');
    if (!this.members.has(id)) throw new ErrMembership('member-not-found');
    if (!validPeerUrls(peerUrls)) throw new ErrMembership('member-bad-urls');
    for (const m of this.members.values()) {
      if (m.id !== id && m.peerUrls.some((u) => peerUrls.includes(u))) throw new ErrMembership('peer-url-exists');
    }
    await node.proposeMembership({ type: 'member', op: 'update', id, peerUrls });
    return { index: node.status().applied };
  }

  /** One change at a time: none while an added member has not started (etcd's strict reconfiguration check). */
  private oneAtATime(): void {
    const unstarted = this.list().filter((m) => m.name === '');
    if (unstarted.length > 0) {
      throw new ErrMembership('member-not-enough-started', `member ${unstarted[0]!.id.toString(16)} was added and has not started yet`);
    }
  }

  // --- Applying the log ------------------------------------------------------------------------------------------

  applyConfChange(cc: ConfChange, index: number): void {
    if (index <= this.index) return;
    this.index = index;
    if (cc.type === 'addNode') {
      let peerUrls: string[] = [];
      try {
        const ctx = cc.context === undefined ? undefined : (JSON.parse(cc.context) as { peerUrls?: unknown });
        if (Array.isArray(ctx?.peerUrls)) peerUrls = ctx.peerUrls.filter((u): u is string => typeof u === 'string');
      } catch {
        this.log.warn({ index }, 'membership: conf change with an unreadable context');
      }
      // The founders' bootstrap entries carry no context: the registry already has them from --initial-cluster.
      if (!this.members.has(cc.nodeId) && peerUrls.length > 0) {
        this.members.set(cc.nodeId, { id: cc.nodeId, name: '', peerUrls, clientUrls: [] });
        this.options.transport.setPeer?.(cc.nodeId, peerUrls[0]!);
        this.log.info({ member: cc.nodeId.toString(16), peerUrls, index }, 'membership: applied member add');
      }
    } else if (this.members.has(cc.nodeId) || !this.removed.has(cc.nodeId)) {
      this.members.delete(cc.nodeId);
      this.removed.add(cc.nodeId);
      this.options.transport.removePeer?.(cc.nodeId);
      this.log.info({ member: cc.nodeId.toString(16), index }, 'membership: applied member removal');
      if (cc.nodeId === this.options.self) this.selfRemoved();
    }
    this.persist();
  }

  applyCommand(cmd: MembershipCommand, index: number): unknown {
    if (index <= this.index) return undefined;
    this.index = index;
    const m = this.members.get(cmd.id);
    if (m !== undefined) {
      if (cmd.op === 'publish') {
        this.members.set(cmd.id, { ...m, name: cmd.name, clientUrls: [...cmd.clientUrls] });
      } else {
        this.members.set(cmd.id, { ...m, peerUrls: [...cmd.peerUrls] });
        if (cmd.peerUrls[0] !== undefined) this.options.transport.setPeer?.(cmd.id, cmd.peerUrls[0]);
      }
    }
    this.persist();
    return undefined;
  }

  private persist(): void {
    const data: Persisted = {
      format: 'skiff.members/v1',
      clusterId: this.options.clusterId,
      self: this.options.self,
      index: this.index,
      members: this.list(),
      removed: [...this.removed],
    };
    const path = join(this.options.dataDir, FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(data));
    renameSync(`${path}.tmp`, path);
  }

  private selfRemoved(): void {
    if (this.removedSelf) return;
    this.removedSelf = true;
    this.log.warn({ member: this.options.self.toString(16) }, `membership: ${ErrMemberRemovedMessage}; the data dir used by this member must be removed`);
    // As etcd, a little later: the leader should first hear that this member applied its removal.
    setTimeout(() => this.options.onRemoved(new Error(ErrMemberRemovedMessage)), 1000).unref();
  }

  // --- Background: publish attributes, notice a removal the log did not bring ------------------------------------

  private background(): void {
    const node = this.node;
    if (node === undefined || this.removedSelf) return;
    if (this.removed.has(this.options.self)) return this.selfRemoved();
    const lead = node.leader;
    const self = this.members.get(this.options.self);
    const clientUrls = [...this.options.clientUrls()];
    if (lead !== NONE && self !== undefined && !this.publishing && (self.name !== this.options.name || !sameUrls(self.clientUrls, clientUrls))) {
      this.publishing = true;
      node
        .proposeMembership({ type: 'member', op: 'publish', id: this.options.self, name: this.options.name, clientUrls })
        .then(
          () => this.log.info({ name: this.options.name, clientUrls }, 'membership: published this member\'s name and client URLs'),
          (err: unknown) => this.log.debug({ err: String(err) }, 'membership: publishing failed; will retry'),
        )
        .finally(() => (this.publishing = false));
    }
    if (lead !== NONE) {
      this.noLeaderSince = undefined;
      this.maybeReconcile(node);
      return;
    }
    const now = Date.now();
    this.noLeaderSince ??= now;
    if (now - this.noLeaderSince < 3 * node.electionTimeoutMs) return;
    this.noLeaderSince = now;
    const peers = this.list()
      .filter((m) => m.id !== this.options.self)
      .flatMap((m) => m.peerUrls);
    void this.checkRemoved(peers);
  }

  /**
   * A snapshot from the leader may hold membership changes this member never saw as entries (it was down): Raft's
   * voters then differ from the registry. The leader's registry fills the gap: members this one does not know,
   * and removals it missed.
   */
  private maybeReconcile(node: RaftNode): void {
    const voters = node.status().voters;
    const known = new Set(this.members.keys());
    const differ = voters.length !== known.size || voters.some((id) => !known.has(id));
    const now = Date.now();
    if (!differ || voters.length === 0 || this.reconciling || now - this.lastReconcile < 1000) return;
    this.reconciling = true;
    this.lastReconcile = now;
    const peers = this.list()
      .filter((m) => m.id !== this.options.self)
      .flatMap((m) => m.peerUrls);
    void this.fromLeader(peers)
      .then((info) => {
        if (info === undefined) return;
        let changed = false;
        for (const m of info.members) {
          if (this.members.has(m.id) || !voters.includes(m.id)) continue;
          this.members.set(m.id, { ...m });
          if (m.peerUrls[0] !== undefined) this.options.transport.setPeer?.(m.id, m.peerUrls[0]);
          changed = true;
        }
        for (const id of info.removed) {
          if (!this.members.has(id) || voters.includes(id)) continue;
          this.members.delete(id);
          this.removed.add(id);
          this.options.transport.removePeer?.(id);
          changed = true;
        }
        if (changed) {
          this.log.info({ members: this.list().map((m) => m.name || m.id.toString(16)) }, 'membership: caught up with the leader\'s member list (changes that came in a snapshot)');
          this.persist();
        }
      })
      .finally(() => (this.reconciling = false));
  }

  /** The registry as the leader has it (peers' answers are only trusted from the leader), or undefined. */
  private async fromLeader(peerUrls: readonly string[]): Promise<MembersInfo | undefined> {
    for (const url of peerUrls) {
      try {
        const info = await getJson<MembersInfo>(new URL('/members', url), this.options.peerTls, 2000);
        if (info.clusterId === this.options.clusterId && info.leader === info.self) return info;
      } catch {
        // try the next
      }
    }
    return undefined;
  }

  /** Asks the peers; only a leader's word that this member was removed counts (a lagging peer may not know it). */
  private async checkRemoved(peerUrls: readonly string[]): Promise<void> {
    const info = await this.fromLeader(peerUrls);
    if (info?.removed.includes(this.options.self) === true) this.selfRemoved();
  }

  private requireNode(): RaftNode {
    if (this.node === undefined) throw new ErrNoLeader('member not started');
    return this.node;
  }
}
