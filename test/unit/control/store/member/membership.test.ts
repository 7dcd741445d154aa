import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Membership, loadMembership, newMemberId, validPeerUrls } from '../../../../../control/store/member/membership.js';
import type { Transport } from '../../../../../control/store/member/transport.js';

/** The member registry as the apply loop drives it: conf changes and membership commands, persisted, replay-safe. */
class FakeTransport implements Pick<Transport, 'setPeer' | 'removePeer'> {
  readonly peers = new Map<number, string>();
  setPeer(id: number, url: string): void {
    this.peers.set(id, url);
  }
  removePeer(id: number): void {
    this.peers.delete(id);
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-membership-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function registry(transport: FakeTransport, onRemoved: (e: Error) => void = () => {}): Membership {
  return new Membership({
    self: 1,
    name: 'a',
    clusterId: '42',
    dataDir: dir,
    initial: {
      members: [
        { id: 1, name: 'a', peerUrls: ['http://127.0.0.1:1001'], clientUrls: [] },
        { id: 2, name: 'b', peerUrls: ['http://127.0.0.1:1002'], clientUrls: [] },
      ],
    },
    transport: transport as unknown as Transport,
    clientUrls: () => ['http://127.0.0.1:2001'],
    onRemoved,
  });
}

describe('member registry', () => {
  it('accepts only http(s) peer URLs with a host and a port, as etcd', () => {
    expect(validPeerUrls(['http://127.0.0.1:2380', 'https://node:2380'])).toBe(true);
    expect(validPeerUrls([])).toBe(false);
    expect(validPeerUrls(['http://127.0.0.1'])).toBe(false);
    expect(validPeerUrls(['ftp://127.0.0.1:1'])).toBe(false);
    expect(validPeerUrls(['http://127.0.0.1:1/path'])).toBe(false);
    expect(validPeerUrls(['not a url'])).toBe(false);
  });

  it('gives new members positive 52-bit ids that depend on the cluster, the URLs and the time', () => {
    const a = newMemberId('c', ['http://x:1'], 1000);
    expect(a).toBe(newMemberId('c', ['http://x:1'], 1000));
    expect(a).not.toBe(newMemberId('c', ['http://x:1'], 1001));
    expect(a).not.toBe(newMemberId('d', ['http://x:1'], 1000));
    for (const id of [a, newMemberId('e', ['http://y:2'], 5)]) {
      expect(Number.isSafeInteger(id) && id > 0 && id < 2 ** 52).toBe(true);
    }
  });

  it('applies adds, publishes, updates and removals in log order, tells the transport, and persists them', () => {
    const transport = new FakeTransport();
    const m = registry(transport);
    expect([...transport.peers]).toEqual([[1, 'http://127.0.0.1:1001'], [2, 'http://127.0.0.1:1002']]);

    m.applyConfChange({ type: 'addNode', nodeId: 9, context: JSON.stringify({ peerUrls: ['http://127.0.0.1:1009'] }) }, 10);
    expect(m.list().find((x) => x.id === 9)).toEqual({ id: 9, name: '', peerUrls: ['http://127.0.0.1:1009'], clientUrls: [] });
    expect(transport.peers.get(9)).toBe('http://127.0.0.1:1009');

    m.applyCommand({ type: 'member', op: 'publish', id: 9, name: 'c', clientUrls: ['http://127.0.0.1:2009'] }, 11);
    m.applyCommand({ type: 'member', op: 'update', id: 9, peerUrls: ['http://127.0.0.1:3009'] }, 12);
    expect(m.list().find((x) => x.id === 9)).toEqual({ id: 9, name: 'c', peerUrls: ['http://127.0.0.1:3009'], clientUrls: ['http://127.0.0.1:2009'] });
    expect(transport.peers.get(9)).toBe('http://127.0.0.1:3009');

    // A replay of entries already applied (a restart replaying the WAL) changes nothing.
    m.applyCommand({ type: 'member', op: 'update', id: 9, peerUrls: ['http://127.0.0.1:4009'] }, 12);
    expect(m.list().find((x) => x.id === 9)?.peerUrls).toEqual(['http://127.0.0.1:3009']);

    m.applyConfChange({ type: 'removeNode', nodeId: 2 }, 13);
    expect(m.list().map((x) => x.id)).toEqual([1, 9]);
    expect(transport.peers.has(2)).toBe(false);
    expect(m.info()).toMatchObject({ clusterId: '42', self: 1, removed: [2] });

    const saved = loadMembership(dir);
    expect(saved).toMatchObject({ clusterId: '42', self: 1, index: 13, removed: [2] });
    expect(saved?.members.map((x) => x.name)).toEqual(['a', 'c']);
    // A registry reopened from the file skips what it already applied.
    const again = new Membership({ ...registryOptions(transport), initial: saved! });
    again.applyConfChange({ type: 'addNode', nodeId: 2, context: JSON.stringify({ peerUrls: ['http://127.0.0.1:1002'] }) }, 5);
    expect(again.list().map((x) => x.id)).toEqual([1, 9]);
  });

  it('stops a member that applies its own removal, with etcd\'s message', async () => {
    let removed: Error | undefined;
    const m = registry(new FakeTransport(), (e) => (removed = e));
    m.applyConfChange({ type: 'removeNode', nodeId: 1 }, 3);
    // It stops a moment later (so the leader hears it applied the entry): wait for it, generously.
    for (const deadline = Date.now() + 10_000; removed === undefined && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    expect(removed?.message).toBe('the member has been permanently removed from the cluster');
  });
});

function registryOptions(transport: FakeTransport) {
  return {
    self: 1,
    name: 'a',
    clusterId: '42',
    dataDir: dir,
    transport: transport as unknown as Transport,
    clientUrls: () => [],
    onRemoved: () => {},
  };
}
