import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  ProposalDroppedError,
  RawNode,
  SeededRand,
  type Message,
} from '../../../../../control/store/raft/index.js';
import { Cluster, encodeCommand } from './sim.js';

function electFirst(c: Cluster, id = 1): void {
  // Apply the bootstrap conf changes first: a node refuses to campaign with unapplied membership changes.
  c.stabilize();
  c.node(id).campaign();
  c.stabilize();
  expect(c.leader()).toBe(id);
}

/** Ticks everybody until some node wins, delivering everything between ticks. */
function electByTimeout(c: Cluster, maxTicks = 100): number {
  for (let i = 0; i < maxTicks; i++) {
    c.tickAll();
    c.stabilize();
    c.checkInvariants();
    const lead = c.leader();
    if (lead !== undefined && c.live().every((n) => n.raw?.raft.lead === lead)) return lead;
  }
  throw new Error('no leader elected');
}

function putAndCommit(c: Cluster, via: number, key: string, value: string): string {
  const op = c.put(via, key, value);
  expect(op).toBeDefined();
  c.stabilize();
  return op ?? '';
}

describe('raft scripted: election', () => {
  it('elects a leader by timeout and commits its empty entry', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 1 });
    const lead = electByTimeout(c);
    for (const id of c.ids()) {
      expect(c.node(id).raft.lead).toBe(lead);
      // Three bootstrap conf changes plus the leader's empty entry.
      expect(c.node(id).raft.raftLog.committed).toBe(4);
    }
  });

  it('randomizes election timeouts within [electionTick, 2*electionTick)', () => {
    const storage = new MemoryStorage({ voters: [1, 2, 3] });
    const seen = new Set<number>();
    const node = new RawNode({ id: 1, storage, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(7) });
    for (let i = 0; i < 200; i++) {
      node.raft.becomeFollower(node.raft.term + 1, 0);
      seen.add(node.raft.randomizedElectionTimeout);
    }
    expect(Math.min(...seen)).toBe(10);
    expect(Math.max(...seen)).toBe(19);
  });

  it('a candidate with a stale log cannot win', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 2 });
    electFirst(c, 1);
    c.isolate(3);
    putAndCommit(c, 1, 'k', 'v');
    c.heal();
    c.node(3).campaign();
    c.stabilize();
    // 3 lacks the committed entry, so 1 and 2 reject it; eventually someone up to date leads.
    expect(c.node(3).raft.state).not.toBe('leader');
    const lead = electByTimeout(c);
    expect(lead).not.toBe(3);
  });

  it('a single-node cluster elects itself and commits alone', () => {
    const c = new Cluster({ ids: [1], seed: 3 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'v');
    expect(c.sim(1).kv.data.get('k')).toBe('v');
  });
});

describe('raft scripted: pre-vote and check-quorum', () => {
  it('without pre-vote a rejoining partitioned node disrupts the leader by inflating its term', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 4 });
    electFirst(c, 1);
    c.isolate(3);
    for (let i = 0; i < 50; i++) c.tick(3);
    c.stabilize();
    expect(c.node(3).raft.term).toBeGreaterThan(c.node(1).raft.term);
    c.heal();
    c.tick(3);
    for (let i = 0; i < 30; i++) c.tick(3);
    c.stabilize();
    // The leader saw a higher term and stepped down: the disruption pre-vote prevents.
    expect(c.node(1).raft.term).toBeGreaterThan(1);
  });

  it('with pre-vote a partitioned node neither bumps its term nor disrupts the leader', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 5, preVote: true });
    electFirst(c, 1);
    const term = c.node(1).raft.term;
    c.isolate(3);
    for (let i = 0; i < 50; i++) {
      c.tick(3);
      c.stabilize();
    }
    expect(c.node(3).raft.term).toBe(term);
    expect(c.node(3).raft.state).toBe('preCandidate');
    c.heal();
    for (let i = 0; i < 3; i++) {
      c.tickAll();
      c.stabilize();
    }
    expect(c.leader()).toBe(1);
    expect(c.node(1).raft.term).toBe(term);
    expect(c.node(3).raft.lead).toBe(1);
  });

  it('check-quorum makes an isolated leader step down within an election timeout', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 6, checkQuorum: true, electionTick: 10 });
    electFirst(c, 1);
    c.isolate(1);
    for (let i = 0; i < 21; i++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).raft.state).toBe('follower');
  });

  it('check-quorum leader lease: followers that recently heard a leader ignore vote requests', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 7, checkQuorum: true });
    electFirst(c, 1);
    const term = c.node(1).raft.term;
    // Node 3 campaigns although the leader is healthy (e.g. it was briefly partitioned).
    c.node(3).campaign();
    c.stabilize();
    expect(c.node(1).raft.state).toBe('leader');
    expect(c.node(2).raft.term).toBe(term);
    // The leader answers the stale term and the disruptor rejoins as follower on the next heartbeat.
    // The disruptor's higher term does reach the leader through its answer to a heartbeat, so the cluster
    // re-elects (etcd's "free stuck candidate"); it must not stay wedged.
    electByTimeout(c);
  });
});

describe('raft scripted: log replication', () => {
  it('replicates and applies proposals, forwarded from followers too', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 8 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'a', '1');
    putAndCommit(c, 2, 'b', '2');
    for (const id of c.ids()) {
      expect(c.sim(id).kv.data.get('a')).toBe('1');
      expect(c.sim(id).kv.data.get('b')).toBe('2');
    }
  });

  it('a proposal is dropped when there is no leader', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 9 });
    expect(() => c.node(2).propose(encodeCommand({ opId: 'x', key: 'k', value: 'v' }))).toThrow(ProposalDroppedError);
  });

  it('repairs a follower with a long conflicting uncommitted suffix, one round trip per term', () => {
    const c = new Cluster({ ids: [1, 2, 3, 4, 5], seed: 10, maxEntriesPerMsg: 100 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'base');
    // Leader 1 gets cut off with a follower 2 and writes many entries only they see (never committed).
    c.partition([[1, 2], [3, 4, 5]]);
    for (let i = 0; i < 20; i++) c.put(1, 'k', `lost${i}`);
    c.stabilize();
    expect(c.node(2).raft.raftLog.lastIndex()).toBeGreaterThan(20);
    // Majority side elects 3 and commits its own entries.
    c.node(3).campaign();
    c.stabilize();
    expect(c.leader()).toBe(3);
    for (let i = 0; i < 5; i++) putAndCommit(c, 3, 'k', `kept${i}`);
    // Re-elect 3 so its view of every follower starts at its (now long) last index, far above the match point.
    c.crash(3);
    c.restart(3);
    c.stabilize();
    c.node(3).campaign();
    c.stabilize();
    expect(c.leader()).toBe(3);
    c.heal();
    // Count MsgApp rejections while the leader repairs 1 and 2.
    let rejections = 0;
    c.filter = (m: Message): boolean => {
      if (m.type === 'MsgAppResp' && m.reject) rejections++;
      return true;
    };
    for (let i = 0; i < 5; i++) {
      c.tickAll();
      c.stabilize();
      c.checkInvariants();
    }
    c.filter = undefined;
    const leadLog = c.node(3).raft.raftLog;
    for (const id of c.ids()) {
      const log = c.node(id).raft.raftLog;
      expect(log.lastIndex()).toBe(leadLog.lastIndex());
      expect(log.committed).toBe(leadLog.committed);
      expect(c.sim(id).kv.data.get('k')).toBe('kept4');
    }
    // Fast back-tracking: one rejection per stale follower here, not one per conflicting entry.
    expect(rejections).toBeGreaterThan(0);
    expect(rejections).toBeLessThanOrEqual(4);
  });

  it('never commits an entry from an older term by counting replicas (figure 8)', () => {
    const c = new Cluster({ ids: [1, 2, 3, 4, 5], seed: 11, maxEntriesPerMsg: 1 });
    electFirst(c, 1);
    // (a) Leader 1 appends an entry that reaches only node 2.
    c.partition([[1, 2], [3, 4, 5]]);
    c.put(1, 'k', 'old');
    c.stabilize();
    const oldIndex = c.node(1).raft.raftLog.lastIndex();
    const oldTerm = c.node(1).raft.term;
    expect(c.node(2).raft.raftLog.lastIndex()).toBe(oldIndex);
    // (b) 1 crashes; 5 wins a later term with 3 and 4 but its own entry at oldIndex reaches nobody.
    c.crash(1);
    c.partition([[2], [3, 4, 5]]);
    c.filter = (m): boolean => !(m.type === 'MsgApp' && m.from === 5);
    c.node(5).campaign();
    c.stabilize();
    expect(c.leader()).toBe(5);
    expect(c.node(5).raft.raftLog.term(oldIndex)).toBeGreaterThan(oldTerm);
    c.crash(5);
    // (c) 1 restarts and wins an even later term with 2 and 3, then copies its old entry to 3. The old entry is
    // now on a majority, but entries of the current term are held back, so nothing of this term is.
    c.restart(1);
    c.partition([[1, 2, 3], [4], [5]]);
    const term = (): number => c.node(1).raft.term;
    c.filter = (m): boolean => {
      if (m.type === 'MsgApp') m.entries = m.entries.filter((e) => e.term !== term());
      return true;
    };
    for (let i = 0; i < 3 && c.leader() !== 1; i++) {
      c.node(1).campaign();
      c.stabilize();
    }
    expect(c.leader()).toBe(1);
    expect(c.node(3).raft.raftLog.term(oldIndex)).toBe(oldTerm);
    // Committing it would be unsafe: 5 could still win (its last term is higher) and overwrite it.
    expect(c.node(1).raft.raftLog.committed).toBeLessThan(oldIndex);
    c.checkInvariants();
    // Once an entry of the current term replicates, both commit together.
    c.filter = undefined;
    c.tickAll();
    c.stabilize();
    expect(c.node(1).raft.raftLog.committed).toBeGreaterThan(oldIndex);
    expect(c.sim(1).kv.data.get('k')).toBe('old');
  });
});

describe('raft scripted: snapshots', () => {
  it('installs a snapshot on a follower that fell behind the compacted log', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 12 });
    electFirst(c, 1);
    c.isolate(3);
    for (let i = 0; i < 10; i++) putAndCommit(c, 1, `k${i}`, `v${i}`);
    expect(c.compact(1, 0)).toBe(true);
    expect(c.sim(1).storage.firstIndex()).toBeGreaterThan(c.node(3).raft.raftLog.lastIndex() + 1);
    c.heal();
    let snaps = 0;
    c.filter = (m): boolean => {
      if (m.type === 'MsgSnap') snaps++;
      return true;
    };
    for (let i = 0; i < 5; i++) {
      c.tickAll();
      c.stabilize();
    }
    c.filter = undefined;
    expect(snaps).toBeGreaterThanOrEqual(1);
    expect(c.sim(3).kv.data.get('k9')).toBe('v9');
    expect(c.node(3).raft.raftLog.committed).toBe(c.node(1).raft.raftLog.committed);
    // And replication continues with plain appends afterwards.
    putAndCommit(c, 1, 'after', 'snap');
    expect(c.sim(3).kv.data.get('after')).toBe('snap');
  });

  it('retries a snapshot whose delivery failed', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 13 });
    electFirst(c, 1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) putAndCommit(c, 1, `k${i}`, `v${i}`);
    c.compact(1, 0);
    c.heal();
    let dropped = 0;
    c.filter = (m): boolean => {
      if (m.type === 'MsgSnap' && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    };
    for (let i = 0; i < 10; i++) {
      c.tickAll();
      c.stabilize();
    }
    expect(dropped).toBe(1);
    expect(c.sim(3).kv.data.get('k4')).toBe('v4');
  });

  it('a restarted node recovers from its snapshot plus persisted log', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 14 });
    electFirst(c, 1);
    for (let i = 0; i < 5; i++) putAndCommit(c, 1, `k${i}`, `v${i}`);
    c.compact(2, 1);
    putAndCommit(c, 1, 'late', 'x');
    c.crash(2);
    c.restart(2);
    expect(c.sim(2).kv.data.get('late')).toBeUndefined();
    c.tickAll();
    c.stabilize();
    expect(c.sim(2).kv.data.get('k4')).toBe('v4');
    expect(c.sim(2).kv.data.get('late')).toBe('x');
  });
});

describe('raft scripted: membership', () => {
  it('adds a node, which catches up and then counts towards the quorum', () => {
    const c = new Cluster({ ids: [1, 2, 3, 4], voters: [1, 2, 3], seed: 15 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'v');
    c.node(1).proposeConfChange({ type: 'addNode', nodeId: 4 });
    c.stabilize();
    for (let i = 0; i < 3; i++) {
      c.tickAll();
      c.stabilize();
    }
    expect(c.node(1).status().confState.voters).toEqual([1, 2, 3, 4]);
    // The newcomer learned the founders from the bootstrap entries in the log, not just itself.
    expect(c.node(4).status().confState.voters).toEqual([1, 2, 3, 4]);
    expect(c.sim(4).kv.data.get('k')).toBe('v');
    // With 4 voters the quorum is 3: losing two nodes blocks commits.
    c.crash(2);
    c.crash(3);
    const before = c.node(1).raft.raftLog.committed;
    c.put(1, 'k', 'blocked');
    c.stabilize();
    expect(c.node(1).raft.raftLog.committed).toBe(before);
  });

  it('a node added after compaction starts from a snapshot carrying the membership', () => {
    const c = new Cluster({ ids: [1, 2, 3, 4], voters: [1, 2, 3], seed: 27 });
    electFirst(c, 1);
    for (let i = 0; i < 5; i++) putAndCommit(c, 1, `k${i}`, 'v');
    c.compact(1, 0);
    let snaps = 0;
    c.filter = (m): boolean => {
      if (m.type === 'MsgSnap' && m.to === 4) snaps++;
      return true;
    };
    c.node(1).proposeConfChange({ type: 'addNode', nodeId: 4 });
    for (let i = 0; i < 3; i++) {
      c.tickAll();
      c.stabilize();
    }
    expect(snaps).toBeGreaterThanOrEqual(1);
    expect(c.node(4).status().confState.voters).toEqual([1, 2, 3, 4]);
    expect(c.sim(4).kv.data.get('k4')).toBe('v');
  });

  it('removes a node, shrinking the quorum', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 16 });
    electFirst(c, 1);
    c.node(1).proposeConfChange({ type: 'removeNode', nodeId: 3 });
    c.stabilize();
    expect(c.node(1).status().confState.voters).toEqual([1, 2]);
    // A process crash: the commit index that covers its removal was written (without an fsync of its own).
    c.crash(3, false);
    putAndCommit(c, 1, 'k', 'v');
    expect(c.sim(2).kv.data.get('k')).toBe('v');
    // A removed node does not campaign.
    c.restart(3);
    c.isolate(3);
    // Let it replay its log (including its own removal) before its election timer runs out.
    c.stabilize();
    for (let i = 0; i < 50; i++) c.tick(3);
    c.stabilize();
    expect(c.node(3).raft.state).toBe('follower');
  });

  it('allows only one pending conf change at a time', () => {
    const c = new Cluster({ ids: [1, 2, 3, 4, 5], voters: [1, 2, 3], seed: 17 });
    electFirst(c, 1);
    c.node(1).proposeConfChange({ type: 'addNode', nodeId: 4 });
    expect(() => c.node(1).proposeConfChange({ type: 'addNode', nodeId: 5 })).toThrow(ProposalDroppedError);
    c.stabilize();
    c.node(1).proposeConfChange({ type: 'addNode', nodeId: 5 });
    c.stabilize();
    expect(c.node(1).status().confState.voters).toEqual([1, 2, 3, 4, 5]);
  });

  it('a leader that removes itself steps down and the rest elect a new leader', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 18 });
    electFirst(c, 1);
    c.node(1).proposeConfChange({ type: 'removeNode', nodeId: 1 });
    c.stabilize();
    expect(c.node(1).raft.state).toBe('follower');
    c.crash(1);
    const lead = electByTimeout(c);
    expect([2, 3]).toContain(lead);
    putAndCommit(c, lead, 'k', 'v');
    expect(c.sim(2).kv.data.get('k')).toBe('v');
  });
});

describe('raft scripted: leader transfer', () => {
  it('transfers leadership to an up-to-date follower via MsgTimeoutNow', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 19, preVote: true, checkQuorum: true });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'v');
    c.node(1).transferLeadership(3);
    c.stabilize();
    expect(c.leader()).toBe(3);
    expect(c.node(1).raft.lead).toBe(3);
  });

  it('catches the transferee up first, refusing proposals meanwhile', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 20 });
    electFirst(c, 1);
    c.isolate(3);
    for (let i = 0; i < 3; i++) putAndCommit(c, 1, `k${i}`, 'v');
    c.heal();
    c.node(1).transferLeadership(3);
    expect(c.node(1).raft.leadTransferee).toBe(3);
    expect(() => c.node(1).propose(encodeCommand({ opId: 'x', key: 'k', value: 'v' }))).toThrow(ProposalDroppedError);
    c.stabilize();
    expect(c.leader()).toBe(3);
    expect(c.sim(3).kv.data.get('k2')).toBe('v');
  });

  it('abandons a transfer to an unreachable node after an election timeout', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 21 });
    electFirst(c, 1);
    c.isolate(3);
    putAndCommit(c, 1, 'k', 'v');
    c.node(1).transferLeadership(3);
    c.stabilize();
    expect(c.node(1).raft.leadTransferee).toBe(3);
    for (let i = 0; i < 10; i++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).raft.leadTransferee).toBe(0);
    expect(c.leader()).toBe(1);
  });

  it('can be requested through a follower', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 22 });
    electFirst(c, 1);
    c.node(2).transferLeadership(2);
    c.stabilize();
    expect(c.leader()).toBe(2);
  });
});

describe('raft scripted: read index', () => {
  it('serves a leader read after a heartbeat round confirms leadership', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 23 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'v1');
    let heartbeats = 0;
    c.filter = (m): boolean => {
      if (m.type === 'MsgHeartbeat' && m.context !== undefined) heartbeats++;
      return true;
    };
    c.get(1, 'k');
    c.stabilize();
    expect(heartbeats).toBe(2);
    const last = c.history[c.history.length - 1];
    expect(last?.input.kind).toBe('get');
    expect(last?.output).toBe('v1');
  });

  it('forwards follower reads to the leader and serves them once applied', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 24 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'v2');
    c.get(3, 'k');
    c.stabilize();
    const last = c.history[c.history.length - 1];
    expect(last?.input.kind).toBe('get');
    expect(last?.output).toBe('v2');
  });

  it('an isolated leader cannot confirm a read', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 25 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'v');
    c.isolate(1);
    const reads = c.history.length;
    c.get(1, 'k');
    c.stabilize();
    expect(c.history.length).toBe(reads);
    expect(c.sim(1).pendingReads.size).toBe(1);
  });

  it('a new leader defers reads until it commits an entry of its own term', () => {
    const c = new Cluster({ ids: [1, 2, 3], seed: 26 });
    electFirst(c, 1);
    putAndCommit(c, 1, 'k', 'v');
    // 2 wins, but its empty entry's acks are held back: no read can be answered yet.
    c.filter = (m): boolean => m.type !== 'MsgAppResp';
    c.node(2).campaign();
    c.stabilize();
    expect(c.leader()).toBe(2);
    const reads = c.history.length;
    c.get(2, 'k');
    c.stabilize();
    expect(c.history.length).toBe(reads);
    c.filter = undefined;
    c.tickAll();
    c.stabilize();
    expect(c.history.length).toBe(reads + 1);
    expect(c.history[c.history.length - 1]?.output).toBe('v');
  });
});
