/**
 * `skiff store`: runs one member of Skiff's replicated store, with etcd's flag names, serving the etcd v3 gRPC API
 * on its client URLs. startStoreMember() is the same thing as a library call, for `skiff control` to embed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../lib/duration.js';
import type { Logger } from '../../lib/log.js';
import { createLogger, silentLogger } from '../../lib/log.js';
import type { Clock } from './clock.js';
import { startEtcdApiServer, type EtcdApiMember, type EtcdApiServer } from './etcdapi/index.js';
import { clusterIdOf, parseInitialCluster, type ClusterMember } from './member/cluster.js';
import type { Ticker } from './member/node.js';
import { RaftStore } from './member/raft-store.js';
import { HttpTransport, type TlsOptions } from './member/transport.js';
import { NONE } from './raft/messages.js';

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
  readonly clock?: Clock;
  readonly ticker?: Ticker;
  readonly logger?: Logger;
  /** The member stopped on its own (WAL failure). */
  readonly onFatal?: (error: unknown) => void;
}

export interface StoreMember {
  readonly store: RaftStore;
  readonly name: string;
  readonly memberId: number;
  readonly clusterId: string;
  readonly peerPort: number;
  /** One per listenClientUrls entry. */
  readonly clientPorts: readonly number[];
  readonly members: readonly ClusterMember[];
  close(): Promise<void>;
}

function hostPort(url: string): { host: string; port: number; listen: string } {
  const u = new URL(url);
  if (u.protocol !== 'http:') throw new Error(`client URL ${url}: only http:// is supported for now (TLS for clients is not wired yet)`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(u.port || 80);
  return { host, port, listen: `${host.includes(':') ? `[${host}]` : host}:${port}` };
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
  const clusterId = clusterIdOf(members, token);
  const dataDir = options.dataDir ?? `${name}.skiff`;
  const listenClient = (options.listenClientUrls ?? []).map(hostPort);
  const peers = new Map(members.map((m) => [m.id, m.peerUrls[0]!] as const));
  const transport = new HttpTransport({
    id: self.id,
    peers,
    listen: options.listenPeerUrl ?? self.peerUrls[0]!,
    clusterId,
    clientUrls: options.advertiseClientUrls ?? (options.listenClientUrls ?? []),
    ...(options.peerTls ? { tls: options.peerTls } : {}),
    logger: log,
  });
  log.info({ member: name, memberId: self.id.toString(16), clusterId, dataDir, members: members.map((m) => m.name) }, 'store: starting member');
  // etcd's minimum lease TTL: 1.5 election timeouts (in whole heartbeats), rounded up to whole seconds, so a
  // lease cannot expire during the election that follows a leader's failure.
  const heartbeatMs = options.heartbeatMs ?? 100;
  const electionTicks = Math.round((options.electionTimeoutMs ?? 1000) / heartbeatMs);
  const minLeaseTtl = Math.max(1, Math.ceil((Math.floor((3 * electionTicks) / 2) * heartbeatMs) / 1000));
  const store = await RaftStore.open({
    minLeaseTtl,
    id: self.id,
    name,
    peers: members.map((m) => m.id),
    dataDir,
    transport,
    clusterId,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    ...(options.electionTimeoutMs !== undefined ? { electionTimeoutMs: options.electionTimeoutMs } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.snapshotCount !== undefined ? { snapshotCount: options.snapshotCount } : {}),
    ...(options.snapshotCatchUpEntries !== undefined ? { snapshotCatchUpEntries: options.snapshotCatchUpEntries } : {}),
    ...(options.maxSnapshots !== undefined ? { maxSnapshots: options.maxSnapshots } : {}),
    ...(options.walSegmentSizeBytes !== undefined ? { wal: { segmentSizeBytes: options.walSegmentSizeBytes } } : {}),
    ...(options.reads !== undefined ? { reads: options.reads } : {}),
    ...(options.progressNotifyIntervalMs !== undefined ? { progressIntervalMs: options.progressNotifyIntervalMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.ticker ? { ticker: options.ticker } : {}),
    ...(options.onFatal ? { onFatal: options.onFatal } : {}),
    logger: log,
  });
  const node = store.node;
  log.info({ peerPort: transport.port, status: node.status() }, 'store: member started; waiting for a leader');

  const servers: EtcdApiServer[] = [];
  const clientPorts: number[] = [];
  try {
    let sizeCache = { at: 0, bytes: 0 };
    const dbSize = (): number => {
      if (Date.now() - sizeCache.at > 5000) {
        sizeCache = { at: Date.now(), bytes: JSON.stringify(store.memory.snapshot()).length };
      }
      return sizeCache.bytes;
    };
    const advertised = (): readonly string[] => options.advertiseClientUrls ?? listenClient.map((l, i) => `http://${l.host}:${clientPorts[i] ?? l.port}`);
    const memberList = (): EtcdApiMember[] =>
      members.map((m) => ({
        id: BigInt(m.id),
        name: m.name,
        peerURLs: m.peerUrls,
        clientURLs: m.id === self.id ? advertised() : (transport.peerClientUrls(m.id) ?? []),
      }));
    for (const l of listenClient) {
      const server = await startEtcdApiServer({
        store,
        listen: l.listen,
        cluster: {
          clusterId: BigInt(clusterId),
          memberId: BigInt(self.id),
          name,
          peerURLs: self.peerUrls,
          clientURLs: advertised(),
          members: memberList,
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
  } catch (err) {
    for (const s of servers) await s.close();
    await store.close();
    throw err;
  }
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
  return {
    store,
    name,
    memberId: self.id,
    clusterId,
    peerPort: transport.port,
    clientPorts,
    members,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(waitLeader);
      for (const s of servers) await s.close();
      await store.close();
    },
  };
}

const FLAGS = {
  name: { def: 'default', help: 'Human-readable name of this member' },
  'data-dir': { def: '<name>.skiff', help: 'Directory for the WAL and snapshots' },
  'initial-cluster': { def: '<name>=http://localhost:2380', help: 'Initial members: name=peer-url,...' },
  'initial-cluster-token': { def: 'skiff-cluster', help: 'Token shared by the initial members (ids derive from it)' },
  'initial-cluster-state': { def: 'new', help: 'Only "new" (adding members at run time is not supported yet)' },
  'listen-peer-urls': { def: "this member's URL in --initial-cluster", help: 'URL to listen on for peer traffic' },
  'initial-advertise-peer-urls': { def: '', help: 'Accepted for etcd compatibility; peers come from --initial-cluster' },
  'listen-client-urls': { def: 'http://localhost:2379', help: 'URLs to serve the etcd v3 API on (comma separated)' },
  'advertise-client-urls': { def: '--listen-client-urls', help: 'Client URLs told to clients and peers' },
  'heartbeat-interval': { def: '100', help: 'Time (ms) of a heartbeat interval (one Raft tick)' },
  'election-timeout': { def: '1000', help: 'Time (ms) for an election to time out' },
  'snapshot-count': { def: '10000', help: 'Applied entries between two snapshots' },
  'snapshot-catchup-entries': { def: '5000', help: 'Entries kept behind a snapshot for slow followers' },
  'max-snapshots': { def: '5', help: 'Snapshot files to retain' },
  'wal-segment-size': { def: '67108864', help: 'Bytes after which a WAL segment is cut' },
  'peer-cert-file': { def: 'none', help: 'Certificate for peer traffic (https:// peer URLs)' },
  'peer-key-file': { def: 'none', help: 'Key of --peer-cert-file' },
  'peer-trusted-ca-file': { def: 'none', help: 'CA of the peers; peers must then present a certificate it signed' },
  'experimental-watch-progress-notify-interval': { def: '10m', help: 'Period of progress notifications to idle watches that ask for them' },
  consistency: { def: 'l', help: 'Read consistency: l (linearizable) or s (serializable)' },
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
  for (const [name, f] of Object.entries(FLAGS)) lines.push(`  --${name.padEnd(28)}${f.help} (default ${f.def})`);
  lines.push(`  ${'-h, --help'.padEnd(30)}Show this help`);
  return lines.join('\n');
}

function positiveInt(flag: string, value: string | undefined, def: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${flag}: expected a positive integer, got "${value}"`);
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
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }]));
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`skiff store: ${err instanceof Error ? err.message : String(err)}\nRun "skiff store --help" for the flags.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${storeHelp()}\n`);
    return 0;
  }
  const str = (k: keyof typeof FLAGS): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const list = (k: keyof typeof FLAGS): string[] | undefined =>
    str(k)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  let memberOptions: StoreMemberOptions;
  const logger = createLogger('skiff-store', str('log-level') ?? process.env.SKIFF_LOG_LEVEL ?? 'info');
  try {
    if ((str('initial-cluster-state') ?? 'new') !== 'new') throw new Error('--initial-cluster-state: only "new" is supported');
    const consistency = str('consistency') ?? 'l';
    if (consistency !== 'l' && consistency !== 's') throw new Error(`--consistency: expected l or s, got "${consistency}"`);
    const name = str('name') ?? 'default';
    const advertise = list('advertise-client-urls');
    const peerUrl = list('listen-peer-urls')?.[0];
    const peerCert = str('peer-cert-file');
    const peerKey = str('peer-key-file');
    const peerCa = str('peer-trusted-ca-file');
    if ((peerCert === undefined) !== (peerKey === undefined)) throw new Error('--peer-cert-file and --peer-key-file go together');
    const peerTls =
      peerCert !== undefined && peerKey !== undefined
        ? { cert: readFileSync(peerCert), key: readFileSync(peerKey), ...(peerCa !== undefined ? { ca: readFileSync(peerCa) } : {}) }
        : undefined;
    memberOptions = {
      ...(peerTls !== undefined ? { peerTls } : {}),
      name,
      dataDir: str('data-dir') ?? `${name}.skiff`,
      initialCluster: str('initial-cluster') ?? `${name}=http://localhost:2380`,
      initialClusterToken: str('initial-cluster-token') ?? 'skiff-cluster',
      ...(peerUrl !== undefined ? { listenPeerUrl: peerUrl } : {}),
      listenClientUrls: list('listen-client-urls') ?? ['http://localhost:2379'],
      ...(advertise !== undefined ? { advertiseClientUrls: advertise } : {}),
      heartbeatMs: positiveInt('heartbeat-interval', str('heartbeat-interval'), 100),
      electionTimeoutMs: positiveInt('election-timeout', str('election-timeout'), 1000),
      snapshotCount: positiveInt('snapshot-count', str('snapshot-count'), 10_000),
      snapshotCatchUpEntries: positiveInt('snapshot-catchup-entries', str('snapshot-catchup-entries'), 5_000),
      maxSnapshots: positiveInt('max-snapshots', str('max-snapshots'), 5),
      walSegmentSizeBytes: positiveInt('wal-segment-size', str('wal-segment-size'), 64 * 1024 * 1024),
      reads: consistency === 's' ? 'serializable' : 'linearizable',
      progressNotifyIntervalMs: durationFlag('experimental-watch-progress-notify-interval', str('experimental-watch-progress-notify-interval'), 600_000),
      logger,
    };
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
  try {
    member = await startStoreMember({ ...memberOptions, onFatal: (e) => fatal?.(e) });
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
  await member.close();
  if (outcome !== 'signal') {
    const e = outcome.fatal;
    process.stderr.write(`skiff store: stopped after a fatal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return 0;
}
