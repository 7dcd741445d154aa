import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startStoreMember, type StoreMember } from '../../../../../control/store/cli.js';
import { tempDir, until } from './helpers.js';

// The control plane's embedded member serves no etcd API unless asked: gRPC must then not even be loaded (it is
// ~4 MB of heap). Any import of it fails here.
vi.mock('@grpc/grpc-js', () => {
  throw new Error('@grpc/grpc-js was loaded');
});

describe('startStoreMember without client URLs', () => {
  let member: StoreMember | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await member?.close();
    member = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('runs the member and its store without loading the etcd API (gRPC)', async () => {
    dir = await tempDir();
    member = await startStoreMember({ name: 'solo', dataDir: dir, initialCluster: 'solo=http://127.0.0.1:0', heartbeatMs: 10, electionTimeoutMs: 100 });
    const store = member.store;
    await until(() => store.node.isLeader, 'leader');
    await store.put('/k', 'v');
    expect((await store.range({ key: '/k' })).kvs.map((kv) => kv.value)).toEqual(['v']);
    expect(member.clientPorts).toEqual([]);
  });
});
