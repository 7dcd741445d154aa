/**
 * `skiff store`: runs one member of Skiff's replicated store, with etcd's flag names, serving the etcd v3 gRPC API
 * on its client URLs. startStoreMember() is the same thing as a library call, for `skiff control` to embed.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { ServerCredentials } from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { flagHelpLines, parseCommandFlags } from '../../lib/command-flags.js';
import { closeServer, listenOn } from '../../lib/http-server.js';
import { sendMetrics } from '../../lib/metrics-response.js';
import { parseDuration } from '../../lib/duration.js';
import type { Logger } from '../../lib/log.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import type { Clock } from './clock.js';
import type { EtcdApiMember, EtcdApiServer, Uint64Like } from './etcdapi/index.js';
import { clusterIdOf, parseInitialCluster, type ClusterMember } from './member/cluster.js';
import { DEFAULT_SNAPSHOT_COUNT, type Ticker } from './member/node.js';
import { ErrMembership } from './member/errors.js';
import { ErrMemberRemovedMessage, Membership, fetchMembers, loadMembership, type MemberRecord, type MembersInfo, type MembershipOptions } from './member/membership.js';
import { RaftStore } from './member/raft-store.js';
import { HttpTransport, type TlsOptions } from './member/transport.js';
import { storeMetrics } from './metrics.js';
import { NONE, type NodeId } from './raft/messages.js';

export { DEFAULT_SNAPSHOT_COUNT };

export interface StoreMemberOptions {
  /** This member's name in `initialCluster`. Default 'default'. */
  readonly name?: string;
  /** Default `<name>.skiff`. */
  readonly dataDir?: string;
  /** etcd's --initial-cluster: name=peerURL,... Default `<name>=http://localhost:2380` (a single member). */
  readonly initialCluster?: string;
  /** Default 'skiff-cluster'. Members of one cluster must agree. */
  readonly initialClusterToken?: string;
  /** Where the peer transport listens. Default: this member's URL in `initialCluster`. */
  readonly listenPeerUrl?: string;
  /** Where the etcd v3 API listens; empty: no client API (an embedded member). */
  readonly listenClientUrls?: readonly string[];
  /** Client URLs told to clients and peers. Default: listenClientUrls with the actual ports. */
  readonly advertiseClientUrls?: readonly string[];
  readonly heartbeatMs?: number;
  readonly electionTimeoutMs?: number;
  readonly snapshotCount?: number;
  readonly snapshotCatchUpEntries?: number;
  readonly maxSnapshots?: number;
  readonly walSegmentSizeBytes?: number;
  readonly requestTimeoutMs?: number;
  readonly reads?: 'linearizable' | 'serializable';
  /** Period of progress notifications to idle watches that asked for them. Default 10 minutes, as etcd. */
  readonly progressNotifyIntervalMs?: number;
  readonly peerTls?: TlsOptions;
  /** etcd's --initial-cluster-state: 'existing' joins a running cluster this member was added to. Default 'new'. */
  readonly initialClusterState?: 'new' | 'existing';
  /** TLS for https:// client URLs (etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth). */
  readonly clientTls?: ClientTlsOptions;
  readonly clock?: Clock;
  readonly ticker?: Ticker;
  readonly logger?: Logger;
  /** The member stopped on its own (WAL failure). */
  readonly onFatal?: (error: unknown) => void;
  /** Where the member's metrics (etcd's names: store/metrics.ts) are registered; none when unset. */
  readonly metrics?: Registry;
}

export interface ClientTlsOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA of client certificates (--trusted-ca-file). */
  readonly ca?: string | Buffer;
  /** Demand a client certificate signed by `ca` (--client-cert-auth). */
  readonly clientCertAuth?: boolean;
}

export interface StoreMember {
  readonly store: RaftStore;
  readonly name: string;
  readonly memberId: number;
  readonly clusterId: string;
  readonly peerPort: number;
  /** One per listenClientUrls entry. */
  readonly clientPorts: readonly number[];
  /** The member registry (run-time membership changes). */
  readonly membership: Membership;
  close(): Promise<void>;
}

function hostPort(url: string): { url: string; scheme: 'http' | 'https'; host: string; port: number; listen: string } {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`client URL ${url}: expected http:// or https://`);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || (scheme === 'https' ? 443 : 80));
  return { url, scheme, host, port, listen: `${host.includes(':') ? `[${host}]` : host}:${port}` };
}

let cachedVersion: string | undefined;
function skiffVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    cachedVersion = pkg.version ?? '0.0.0';
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}

/** Starts a store member: recovers its data dir, joins its peers, and serves the etcd API if asked to. */
export async function startStoreMember(options: StoreMemberOptions = {}): Promise<StoreMember> {
  const log = options.logger ?? silentLogger();
  const name = options.name ?? 'default';
  const token = options.initialClusterToken ?? 'skiff-cluster';
  const members = parseInitialCluster(options.initialCluster ?? `${name}=http://localhost:2380`, token);
  const self = members.find((m) => m.name === name);
  if (self === undefined) {
    throw new Error(`--initial-cluster has no member named "${name}" (members: ${members.map((m) => m.name).join(', ')})`);
  }
  const dataDir = options.dataDir ?? `${name}.skiff`;
  const listenClient = (options.listenClientUrls ?? []).map(hostPort);
  const join = options.initialClusterState === 'existing';
  // Who this member is and in which cluster: what its data dir recorded; else, when joining, what a running
  // member says (it was added with etcdctl member add); else, for a founder, what --initial-cluster implies.
  const { memberId, clusterId, initial } = await identify(dataDir, name, self, members, token, join, options.peerTls, log);
  const peers = new Map(initial.members.map((m) => [m.id, m.peerUrls[0]!] as const));
  let membership: Membership | undefined;
  const transport = new HttpTransport({
    id: memberId,
    peers,
    listen: options.listenPeerUrl ?? self.peerUrls[0]!,
    clusterId,
    clientUrls: options.advertiseClientUrls ?? (options.listenClientUrls ?? []),
    ...(options.peerTls ? { tls: options.peerTls } : {}),
    membersInfo: () => membership?.info(),
    logger: log,
  });
  log.info({ member: name, memberId: memberId.toString(16), clusterId, dataDir, join, members: initial.members.map((m) => m.name || m.id.toString(16)) }, 'store: starting member');
  const clientPorts: number[] = [];
  const advertised = (): readonly string[] => options.advertiseClientUrls ?? listenClient.map((l, i) => `${l.scheme}://${l.host}:${clientPorts[i] ?? l.port}`);
  let member: StoreMember | undefined;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  membership = new Membership({
    self: memberId,
    name,
    clusterId,
    dataDir,
    initial,
    transport,
    clientUrls: advertised,
    ...(options.peerTls ? { peerTls: options.peerTls } : {}),
    logger: log,
    onRemoved: (error) => {
      log.error({ err: error.message }, 'store: this member was removed from the cluster; stopping');
      if (options.onFatal) options.onFatal(error);
      else void member?.close();
    },
  });
  // etcd's minimum lease TTL: 1.5 election timeouts (in whole heartbeats), rounded up to whole seconds, so a
  // lease cannot expire during the election that follows a leader's failure.
  const heartbeatMs = options.heartbeatMs ?? 100;
  const electionTicks = Math.round((options.electionTimeoutMs ?? 1000) / heartbeatMs);
  const minLeaseTtl = Math.max(1, Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000));
  const metrics = options.metrics ? storeMetrics(options.metrics) : undefined;
  const store = await RaftStore.open({
    minLeaseTtl,
    id: memberId,
    name,
    peers: initial.members.map((m) => m.id),
    join,
    membership,
    dataDir,
    transport,
    clusterId,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.electionTimeoutMs !== undefined ? { electionTimeoutMs: options.electionTimeoutMs } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.snapshotCount !== undefined ? { snapshotCount: options.snapshotCount } : {}),
    ...(options.snapshotCatchUpEntries !== undefined ? { snapshotCatchUpEntries: options.snapshotCatchUpEntries } : {}),
    ...(options.maxSnapshots !== undefined ? { maxSnapshots: options.maxSnapshots } : {}),
    wal: { ...(options.walSegmentSizeBytes !== undefined ? { segmentSizeBytes: options.walSegmentSizeBytes } : {}), ...metrics?.wal },
    ...(metrics ? { onSnapshotSaved: metrics.onSnapshotSaved } : {}),
    ...(options.reads !== undefined ? { reads: options.reads } : {}),
    ...(options.progressNotifyIntervalMs !== undefined ? { progressIntervalMs: options.progressNotifyIntervalMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.ticker ? { ticker: options.ticker } : {}),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    logger: log,
  });
  const node = store.node;
  metrics?.watch(() => node.status());
  log.info({ peerPort: transport.port, status: node.status() }, 'store: member started; waiting for a leader');

  const servers: EtcdApiServer[] = [];
  try {
    let sizeCache = { at: 0, bytes: 0 };
    const dbSize = (): number => {
      if (Date.now() - sizeCache.at > 5000) {
        sizeCache = { at: Date.now(), bytes: JSON.stringify(store.memory.snapshot()).length };
      }
      return sizeCache.bytes;
    };
    const registry = membership;
    const toApi = (m: MemberRecord): EtcdApiMember => ({
      id: BigInt(m.id),
      name: m.name,
      peerURLs: m.peerUrls,
      clientURLs: m.id === memberId ? advertised() : m.clientUrls.length > 0 ? m.clientUrls : (transport.peerClientUrls(m.id) ?? []),
    });
    const memberIdOf = (id: Uint64Like): NodeId => {
      const big = BigInt(id);
      if (big <= 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) throw new ErrMembership('member-not-found');
      return Number(big);
    };
    // The etcd API (gRPC) is loaded only when served: the control plane's embedded member serves it only when
    // asked (--listen-client-urls), and @grpc/grpc-js with the etcd protos is ~4 MB of heap it would carry for nothing.
    if (listenClient.length > 0) {
      const { startEtcdApiServer } = await import('./etcdapi/index.js');
      const credentials = await clientCredentials(options.clientTls);
      for (const l of listenClient) {
        if (l.scheme === 'https' && credentials === undefined) {
          throw new Error(`client URL ${l.url}: https:// needs --cert-file and --key-file`);
        }
        const server = await startEtcdApiServer({
          store,
          listen: l.listen,
          ...(l.scheme === 'https' ? { credentials } : {}),
          cluster: {
            clusterId: BigInt(clusterId),
            memberId: BigInt(memberId),
            name,
            peerURLs: self.peerUrls,
            clientURLs: advertised(),
            members: () => registry.list().map(toApi),
            add: async (peerURLs, isLearner) => {
              const r = await registry.add(peerURLs, isLearner);
              return { member: toApi(r.member), members: r.members.map(toApi) };
            },
            remove: async (id) => (await registry.remove(memberIdOf(id))).map(toApi),
            update: async (id, peerURLs) => (await registry.update(memberIdOf(id), peerURLs)).map(toApi),
          },
          status: () => {
            const s = node.status();
            const size = dbSize();
            return {
              version: `3.5.0-skiff-${skiffVersion()}`,
              dbSize: size,
              leader: BigInt(s.leader),
              raftIndex: s.commit,
              raftTerm: s.term,
              raftAppliedIndex: s.applied,
              dbSizeInUse: size,
            };
          },
          raftTerm: () => node.status().term,
          logger: log,
        });
        servers.push(server);
        clientPorts.push(server.port);
      }
    }
  } catch (err) {
    for (const s of servers) await s.close();
    membership.close();
    await store.close();
    throw err;
  }
  membership.attach(node);
  if (clientPorts.length > 0) log.info({ clientPorts }, 'store: serving the etcd v3 API');
  // A progress line once the member knows a leader (or after a while, why not).
  const started = Date.now();
  const waitLeader = setInterval(() => {
    const s = node.status();
    if (s.leader !== NONE) {
      clearInterval(waitLeader);
      log.info({ leader: s.leader.toString(16), term: s.term, afterMs: Date.now() - started, applied: s.applied }, 'store: ready; leader known');
    } else if (Date.now() - started > 30_000) {
      clearInterval(waitLeader);
      log.warn({}, 'store: no leader after 30 s; is a quorum of members up?');
    }
  }, 20);
  waitLeader.unref();

  let closed = false;
  member = {
    store,
    name,
    memberId,
    clusterId,
    peerPort: transport.port,
    clientPorts,
    membership,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(waitLeader);
      membership.close();
      for (const s of servers) await s.close();
      await store.close();
    },
  };
  return member;
}

/**
 * This member's id, its cluster's id and the member registry to start from: the data dir's own (a restart); or,
 * joining a running cluster, a running member's, in which this member is found by its peer URLs; or, for a
 * founder's first start, --initial-cluster's.
 */
async function identify(
  dataDir: string,
  name: string,
  self: ClusterMember,
  members: readonly ClusterMember[],
  token: string,
  join: boolean,
  peerTls: TlsOptions | undefined,
  log: Logger,
): Promise<{ memberId: NodeId; clusterId: string; initial: MembershipOptions['initial'] }> {
  const persisted = loadMembership(dataDir);
  if (persisted !== undefined) {
    if (persisted.removed.includes(persisted.self)) {
      throw new Error(`${ErrMemberRemovedMessage}; the data dir ${dataDir} must be removed before this member can be added again`);
    }
    return { memberId: persisted.self, clusterId: persisted.clusterId, initial: persisted };
  }
  if (!join) {
    const founders = members.map((m) => ({ id: m.id, name: m.name, peerUrls: m.peerUrls, clientUrls: [] }));
    return { memberId: self.id, clusterId: clusterIdOf(members, token), initial: { members: founders } };
  }
  const others = members.filter((m) => m.name !== name).flatMap((m) => m.peerUrls);
  if (others.length === 0) throw new Error('--initial-cluster-state existing: --initial-cluster lists no other member to join');
  let info: MembersInfo | undefined;
  for (let attempt = 0; info === undefined; attempt++) {
    try {
      info = await fetchMembers(others, peerTls);
    } catch (err) {
      if (attempt >= 10) throw new Error(`cannot join the cluster: ${err instanceof Error ? err.message : String(err)}`);
      log.warn({ err: String(err) }, 'store: no running member answered yet; retrying');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const wanted = [...self.peerUrls].sort().join(',');
  const me = info.members.find((m) => [...m.peerUrls].sort().join(',') === wanted);
  if (me === undefined) {
    throw new Error(
      `the cluster has no member with peer URLs ${self.peerUrls.join(',')}; add it first (etcdctl member add ${name} --peer-urls=${self.peerUrls.join(',')})`,
    );
  }
  if (me.name !== '' && me.name !== name) throw new Error(`the member with peer URLs ${self.peerUrls.join(',')} is named "${me.name}", not "${name}"`);
  log.info({ memberId: me.id.toString(16), clusterId: info.clusterId, members: info.members.length }, 'store: joining a running cluster');
  return { memberId: me.id, clusterId: info.clusterId, initial: { members: info.members, removed: info.removed } };
}

/** gRPC server credentials for https:// client URLs (etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth). */
async function clientCredentials(tls: ClientTlsOptions | undefined): Promise<ServerCredentials | undefined> {
  if (tls === undefined) return undefined;
  const grpc = await import('@grpc/grpc-js');
  const ca = tls.ca === undefined ? null : Buffer.from(tls.ca);
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], tls.clientCertAuth === true);
}

const FLAGS = {
  name: { def: 'default', help: 'Human-readable name of this member' },
  'data-dir': { def: '<name>.skiff', help: 'Directory for the WAL and snapshots' },
  'initial-cluster': { def: '<name>=http://localhost:2380', help: 'Initial members: name=peer-url,...' },
  'initial-cluster-token': { def: 'skiff-cluster', help: 'Token shared by the initial members (ids derive from it)' },
  'initial-cluster-state': { def: 'new', help: '"new" for a founding member; "existing" to join a running cluster after etcdctl member add' },
  'listen-peer-urls': { def: "this member's URL in --initial-cluster", help: 'URL to listen on for peer traffic' },
  'initial-advertise-peer-urls': { def: '', help: "Accepted for etcd compatibility; this member's peer URLs come from --initial-cluster" },
  'listen-client-urls': { def: 'http://localhost:2379', help: 'URLs to serve the etcd v3 API on (comma separated)' },
  'advertise-client-urls': { def: '--listen-client-urls', help: 'Client URLs told to clients and peers' },
  'heartbeat-interval': { def: '100', help: 'Time (ms) of a heartbeat interval (one Raft tick)' },
  'election-timeout': { def: '1000', help: 'Time (ms) for an election to time out' },
  'snapshot-count': { def: String(DEFAULT_SNAPSHOT_COUNT), help: 'Applied entries between two snapshots' },
  'snapshot-catchup-entries': { def: '5000', help: 'Entries kept behind a snapshot for slow followers' },
  'max-snapshots': { def: '5', help: 'Snapshot files to retain' },
  'wal-segment-size': { def: '67108864', help: 'Bytes after which a WAL segment is cut' },
  'cert-file': { def: 'none', help: 'Certificate for the client URLs (https://)' },
  'key-file': { def: 'none', help: 'Key of --cert-file' },
  'trusted-ca-file': { def: 'none', help: 'CA of client certificates (with --client-cert-auth)' },
  'client-cert-auth': { def: 'false', help: 'Demand client certificates signed by --trusted-ca-file' },
  'peer-cert-file': { def: 'none', help: 'Certificate for peer traffic (https:// peer URLs)' },
  'peer-key-file': { def: 'none', help: 'Key of --peer-cert-file' },
  'peer-trusted-ca-file': { def: 'none', help: 'CA of the peers; peers must then present a certificate it signed' },
  'peer-client-cert-auth': { def: 'false', help: 'Accepted for etcd compatibility: with --peer-trusted-ca-file peers always need certificates' },
  'experimental-watch-progress-notify-interval': { def: '10m', help: 'Period of progress notifications to idle watches that ask for them' },
  consistency: { def: 'l', help: 'Read consistency: l (linearizable) or s (serializable)' },
  'listen-metrics-urls': { def: 'none', help: 'http:// URLs (comma separated) to serve /metrics (etcd_* names) and /health on' },
  'log-level': { def: 'info', help: 'debug, info, warn or error' },
} as const;

export function storeHelp(): string {
  const lines = [
    'Usage: skiff store [flags]',
    '',
    "Runs one member of Skiff's replicated store (Raft) and serves the etcd v3 API (etcdctl and etcd clients work).",
    'Flags follow etcd. Example, three members on one host:',
    '  skiff store --name a --initial-cluster a=http://127.0.0.1:2380,b=http://127.0.0.1:2480,c=http://127.0.0.1:2580 \\',
    '    --listen-client-urls http://127.0.0.1:2379',
    '',
    'Flags:',
  ];
  lines.push(...flagHelpLines([...Object.entries(FLAGS).map(([name, f]) => [`--${name}`, `${f.help} (default ${f.def})`] as const), ['-h, --help', 'Show this help']]));
  return lines.join('\n');
}

/** A flag's positive whole number, `def` when absent; an Error naming the flag and `expected` when it is not one. */
export function positiveInt(flag: string, value: string | undefined, def: number, expected = 'a positive integer'): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${flag}: expected ${expected}, got "${value}"`);
  return n;
}

function durationFlag(flag: string, value: string | undefined, def: number): number {
  if (value === undefined) return def;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new Error(`--${flag}: expected a positive duration such as "10m" or "500ms", got "${value}"`);
  return ms;
}

/** `skiff store [flags]`. Returns the exit code. */
export async function runStore(argv: string[]): Promise<number> {
  const options = Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }]));
  // etcd's boolean flags may stand alone: --client-cert-auth means --client-cert-auth=true.
  const bools = new Set(['--client-cert-auth', '--peer-client-cert-auth']);
  const args = argv.map((a, i) => (bools.has(a) && !/^(true|false)$/.test(argv[i + 1] ?? '') ? `${a}=true` : a));
  const parsed = parseCommandFlags('store', storeHelp, { args, options });
  if ('exitCode' in parsed) return parsed.exitCode;
  const values: Record<string, string | boolean | undefined> = parsed.values;
  const str = (k: keyof typeof FLAGS): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const list = (k: keyof typeof FLAGS): string[] | undefined =>
    str(k)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  let memberOptions: StoreMemberOptions;
  let metricsUrls: ReturnType<typeof hostPort>[] = [];
  const logger = createLogger('skiff-store', str('log-level') ?? process.env.SKIFF_LOG_LEVEL ?? 'info');
  try {
    const state = str('initial-cluster-state') ?? 'new';
    if (state !== 'new' && state !== 'existing') throw new Error(`--initial-cluster-state: expected new or existing, got "${state}"`);
    const certFile = str('cert-file');
    const keyFile = str('key-file');
    const trustedCa = str('trusted-ca-file');
    const certAuth = str('client-cert-auth') ?? 'false';
    if (certAuth !== 'true' && certAuth !== 'false') throw new Error(`--client-cert-auth: expected true or false, got "${certAuth}"`);
    if ((certFile === undefined) !== (keyFile === undefined)) throw new Error('--cert-file and --key-file go together');
    if (certAuth === 'true' && trustedCa === undefined) throw new Error('--client-cert-auth needs --trusted-ca-file');
    const clientTls: ClientTlsOptions | undefined =
      certFile !== undefined && keyFile !== undefined
        ? {
            cert: readFileSync(certFile),
            key: readFileSync(keyFile),
            ...(trustedCa !== undefined ? { ca: readFileSync(trustedCa) } : {}),
            clientCertAuth: certAuth === 'true',
          }
        : undefined;
    const consistency = str('consistency') ?? 'l';
    if (consistency !== 'l' && consistency !== 's') throw new Error(`--consistency: expected l or s, got "${consistency}"`);
    const name = str('name') ?? 'default';
    const advertise = list('advertise-client-urls');
    const peerUrl = list('listen-peer-urls')?.[0];
    const peerCert = str('peer-cert-file');
    const peerKey = str('peer-key-file');
    const peerCa = str('peer-trusted-ca-file');
    if ((peerCert === undefined) !== (peerKey === undefined)) throw new Error('--peer-cert-file and --peer-key-file go together');
    const peerCertAuth = str('peer-client-cert-auth') ?? 'false';
    if (peerCertAuth !== 'true' && peerCertAuth !== 'false') throw new Error(`--peer-client-cert-auth: expected true or false, got "${peerCertAuth}"`);
    if (peerCertAuth === 'true' && peerCa === undefined) throw new Error('--peer-client-cert-auth needs --peer-trusted-ca-file');
    const peerTls =
      peerCert !== undefined && peerKey !== undefined
        ? { cert: readFileSync(peerCert), key: readFileSync(peerKey), ...(peerCa !== undefined ? { ca: readFileSync(peerCa) } : {}) }
        : undefined;
    memberOptions = {
      ...(peerTls !== undefined ? { peerTls } : {}),
      ...(clientTls !== undefined ? { clientTls } : {}),
      initialClusterState: state,
      name,
      dataDir: str('data-dir') ?? `${name}.skiff`,
      initialCluster: str('initial-cluster') ?? `${name}=http://localhost:2380`,
      initialClusterToken: str('initial-cluster-token') ?? 'skiff-cluster',
      ...(peerUrl !== undefined ? { listenPeerUrl: peerUrl } : {}),
      listenClientUrls: list('listen-client-urls') ?? ['http://localhost:2379'],
      ...(advertise !== undefined ? { advertiseClientUrls: advertise } : {}),
      heartbeatMs: positiveInt('heartbeat-interval', str('heartbeat-interval'), 100),
      electionTimeoutMs: positiveInt('election-timeout', str('election-timeout'), 1000),
      snapshotCount: positiveInt('snapshot-count', str('snapshot-count'), DEFAULT_SNAPSHOT_COUNT),
      snapshotCatchUpEntries: positiveInt('snapshot-catchup-entries', str('snapshot-catchup-entries'), 5_000),
      maxSnapshots: positiveInt('max-snapshots', str('max-snapshots'), 5),
      walSegmentSizeBytes: positiveInt('wal-segment-size', str('wal-segment-size'), 64 * 1024 * 1024),
      reads: consistency === 's' ? 'serializable' : 'linearizable',
      progressNotifyIntervalMs: durationFlag('experimental-watch-progress-notify-interval', str('experimental-watch-progress-notify-interval'), 600_000),
      logger,
    };
    metricsUrls = (list('listen-metrics-urls') ?? []).map((url) => {
      const u = hostPort(url);
      if (u.scheme !== 'http') throw new Error(`--listen-metrics-urls: ${url}: only http:// is served`);
      return u;
    });
    if (memberOptions.electionTimeoutMs! < 2 * memberOptions.heartbeatMs!) {
      throw new Error('--election-timeout must be at least twice --heartbeat-interval (etcd recommends 10x)');
    }
  } catch (err) {
    process.stderr.write(`skiff store: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }

  let fatal: ((error: unknown) => void) | undefined;
  const fatalError = new Promise<unknown>((resolve) => (fatal = resolve));
  let member: StoreMember;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metricsServers: Server[] = [];
  try {
    member = await startStoreMember({ ...memberOptions, metrics: registry, onFatal: (e) => fatal?.(e) });
    const started = member;
    try {
      for (const u of metricsUrls) metricsServers.push(await serveStoreMetrics(u.host, u.port, registry, () => started.store.node.status().leader !== NONE));
    } catch (err) {
      for (const server of metricsServers) await closeServer(server);
      await started.close();
      throw new Error(`--listen-metrics-urls: ${err instanceof Error ? err.message : String(err)}`);
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    logger.error({ err }, 'store: failed to start');
    process.stderr.write(`skiff store: cannot start: ${message}\n`);
    logger.flush?.();
    return 1;
  }
  const outcome = await Promise.race([
    new Promise<'signal'>((resolve) => {
      process.once('SIGTERM', () => resolve('signal'));
      process.once('SIGINT', () => resolve('signal'));
    }),
    fatalError.then((e) => ({ fatal: e })),
  ]);
  logger.info({}, 'store: shutting down');
  for (const server of metricsServers) await closeServer(server);
  await member.close();
  if (outcome !== 'signal') {
    const e = outcome.fatal;
    process.stderr.write(`skiff store: stopped after a fatal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return 0;
}

/**
 * etcd's --listen-metrics-urls: /metrics in Prometheus' text format, and /health as etcd answers it (200
 * {"health":"true"} with a leader, 503 {"health":"false"} without one).
 */
async function serveStoreMetrics(host: string, port: number, registry: Registry, hasLeader: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' });
      res.end();
    } else if (path === '/metrics') {
      sendMetrics(res, registry);
    } else if (path === '/health') {
      const ok = hasLeader();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(ok ? { health: 'true', reason: '' } : { health: 'false', reason: 'RAFT NO LEADER' }));
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found\n');
    }
  });
  await listenOn(server, port, host);
  return server;
}
