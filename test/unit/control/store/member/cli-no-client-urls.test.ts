import { describe, expect, it, vi } from 'vitest';
import { soloMemberPerTest } from './helpers.js';

// The control plane's embedded member serves no etcd API unless asked: gRPC must then not even be loaded (it is
// ~4 MB of heap). Any import of it fails here.
vi.mock('@grpc/grpc-js', () => {
  throw new Error('@grpc/grpc-js was loaded');
});

describe('startStoreMember without client URLs', () => {
  const startMember = soloMemberPerTest();

  it('runs the member and its store without loading the etcd API (gRPC)', async () => {
    const member = await startMember();
    const store = member.store;
    await store.put('/k', 'v');
    expect((await store.range({ key: '/k' })).kvs.map((kv) => kv.value)).toEqual(['v']);
    expect(member.clientPorts).toEqual([]);
  });
});
