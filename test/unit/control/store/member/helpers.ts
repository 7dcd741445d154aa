import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { startStoreMember, type StoreMember, type StoreMemberOptions } from '../../../../../control/store/cli.js';
import { ManualClock } from '../../../../../control/store/index.js';
import { MemoryNetwork, RaftStore, type RaftNodeOptions } from '../../../../../control/store/member/index.js';
import type { SyncIo } from '../../../../../control/store/wal/index.js';

export const HEARTBEAT_MS = 10;
export const ELECTION_MS = 150;

/** Skips fsync: unit tests exercise the logic, not the disk (the integration tests use real fsync). */
export const noSyncIo: SyncIo = { syncFile: async () => {}, syncDir: async () => {} };

export async function tempDir(prefix = 'skiff-member-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * For a describe block: starts a one-member store as `skiff store` does (startStoreMember, fast timers, a fresh data
 * dir) and waits for it to lead; after each test the member is closed and its data dir removed.
 */
export function soloMemberPerTest(): (options?: Omit<StoreMemberOptions, 'dataDir'>) => Promise<StoreMember> {
  let member: StoreMember | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await member?.close();
    member = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });
  return async (options = {}) => {
    dir = await tempDir();
    const started = await startStoreMember({ name: 'solo', initialCluster: 'solo=http://127.0.0.1:0', heartbeatMs: 10, electionTimeoutMs: 100, ...options, dataDir: dir });
    member = started;
    await until(() => started.store.node.isLeader, 'leader');
    return started;
  };
}

/** Members 1..n over a MemoryNetwork, each with its own data dir under one temp dir, sharing one lease clock. */
export class TestCluster {
  readonly net = new MemoryNetwork();
  readonly clock = new ManualClock(1_700_000_000_000);
  readonly stores = new Map<number, RaftStore>();
  readonly ids: number[];

  private constructor(
    readonly root: string,
    n: number,
    private readonly extra: Partial<RaftNodeOptions>,
  ) {
    this.ids = Array.from({ length: n }, (_, i) => i + 1);
  }

  static async create(n: number, extra: Partial<RaftNodeOptions> = {}): Promise<TestCluster> {
    const c = new TestCluster(await tempDir(), n, extra);
    for (const id of c.ids) await c.start(id);
    return c;
  }

  dataDir(id: number): string {
    return join(this.root, `m${id}`);
  }

  async start(id: number, extra: Partial<RaftNodeOptions> = {}): Promise<RaftStore> {
    const store = await RaftStore.open({
      id,
      peers: this.ids,
      dataDir: this.dataDir(id),
      transport: this.net.transport(id),
      clock: this.clock,
      heartbeatMs: HEARTBEAT_MS,
      electionTimeoutMs: ELECTION_MS,
      requestTimeoutMs: 5000,
      seed: id * 7919,
      wal: { io: noSyncIo },
      ...this.extra,
      ...extra,
    });
    this.stores.set(id, store);
    return store;
  }

  async stop(id: number): Promise<void> {
    const s = this.stores.get(id);
    this.stores.delete(id);
    await s?.close();
  }

  store(id: number): RaftStore {
    const s = this.stores.get(id);
    if (s === undefined) throw new Error(`member ${id} is not running`);
    return s;
  }

  /** The id every running member agrees leads (waits for one). */
  async leader(timeoutMs = 10_000): Promise<number> {
    let lead = 0;
    await until(
      () => {
        const running = [...this.stores.values()];
        const leaders = running.filter((s) => s.node.isLeader).map((s) => s.node.id);
        if (leaders.length !== 1) return false;
        lead = leaders[0]!;
        return running.every((s) => s.node.leader === lead);
      },
      'a leader every member knows',
      timeoutMs,
    );
    return lead;
  }

  followers(lead: number): number[] {
    return [...this.stores.keys()].filter((id) => id !== lead);
  }

  async close(): Promise<void> {
    for (const id of [...this.stores.keys()]) await this.stop(id);
    await rm(this.root, { recursive: true, force: true });
  }
}
