/**
 * One randomized run: a seeded adversarial schedule of deliveries, ticks, Ready processing, client ops,
 * crashes, restarts, partitions, compactions and leader transfers, with Raft's safety properties checked after
 * every step, then a heal-and-converge phase and the end-to-end checks.
 */
import { ProposalDroppedError, SeededRand, type NodeId } from '../../../../../control/store/raft/index.js';
import { checkKvLinearizable } from './linearizability.js';
import { Cluster, InvariantViolation } from './sim.js';

export interface SimulationStats {
  seed: number;
  nodes: number;
  steps: number;
  puts: number;
  acked: number;
  reads: number;
  leaders: number;
  crashes: number;
  committed: number;
  confChanges: number;
  snapshotsSent: number;
  timeoutNows: number;
  preVotes: number;
}

const KEYS = ['a', 'b', 'c'];

export function simulate(seed: number, steps = 400): SimulationStats {
  const rand = new SeededRand(seed ^ 0x5bd1e995);
  // Every third seed changes membership: 5 nodes, 3 founders, others join and members leave during the run.
  const membership = seed % 3 === 0;
  const nodes = membership || seed % 2 === 1 ? 5 : 3;
  const ids: NodeId[] = Array.from({ length: nodes }, (_, i) => i + 1);
  const founders = membership ? 3 : nodes;
  const c = new Cluster({
    ids,
    voters: membership ? [1, 2, 3] : ids,
    decommissionRemoved: true,
    seed,
    // Short, varied timeouts: more elections per run means more chances for competing leaders.
    electionTick: 3 + rand.intn(4),
    heartbeatTick: 1,
    preVote: rand.chance(0.5),
    checkQuorum: rand.chance(0.5),
    maxEntriesPerMsg: 1 + rand.intn(8),
    maxInflightMsgs: 1 + rand.intn(8),
  });
  c.dropRate = rand.chance(0.3) ? 0 : rand.next() * 0.15;
  c.duplicateRate = rand.next() * 0.05;
  c.reorderWindow = 1 + rand.intn(6);
  let crashes = 0;
  let puts = 0;
  let value = 0;

  const pickLive = (): NodeId | undefined => {
    const live = c.live();
    return live.length === 0 ? undefined : live[rand.intn(live.length)]?.id;
  };
  const pickAny = (): NodeId => ids[rand.intn(ids.length)] ?? 1;

  for (let step = 0; step < steps; step++) {
    const r = rand.next();
    if (r < 0.36) {
      c.deliverRandom();
    } else if (r < 0.56) {
      const id = pickLive();
      if (id !== undefined) c.tick(id);
    } else if (r < 0.78) {
      const id = pickLive();
      // Half the time a write stays in progress for a while: messages arrive, ticks pass, crashes may lose it.
      if (id !== undefined) {
        if (c.sim(id).writing !== undefined || rand.chance(0.5)) c.processReady(id);
        else c.beginReady(id);
      }
    } else if (r < 0.87) {
      const id = pickLive();
      if (id !== undefined && c.put(id, KEYS[rand.intn(KEYS.length)] ?? 'a', `v${++value}`) !== undefined) puts++;
    } else if (r < 0.92) {
      const id = pickLive();
      if (id !== undefined) c.get(id, KEYS[rand.intn(KEYS.length)] ?? 'a');
    } else if (r < 0.926) {
      const id = pickLive();
      // Keep a majority up most of the time so runs make progress, but sometimes lose it too.
      if (id !== undefined && (c.live().length > Math.floor(nodes / 2) + 1 || rand.chance(0.2))) {
        c.crash(id, rand.chance(0.5));
        crashes++;
      }
    } else if (r < 0.955) {
      const down = ids.filter((id) => !c.sim(id).alive && !c.decommissioned.has(id));
      const id = down[rand.intn(down.length)];
      if (id !== undefined) c.restart(id);
    } else if (r < 0.965) {
      if (rand.chance(0.5)) c.isolate(pickAny());
      else {
        const shuffled = [...ids].sort(() => rand.next() - 0.5);
        const cut = 1 + rand.intn(ids.length - 1);
        c.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      }
    } else if (r < 0.975) {
      c.heal();
    } else if (r < 0.985) {
      const id = pickLive();
      if (id !== undefined) c.compact(id, rand.intn(4));
    } else if (r < 0.99 || !membership) {
      const id = pickLive();
      if (id !== undefined) c.node(id).transferLeadership(pickAny());
    } else {
      proposeConfChange(c, ids, rand);
    }
    c.checkInvariants();
  }

  converge(c, ids);

  if (c.inflight.length > 0) throw new Error('network not drained after convergence');
  const history = c.resolvedHistory();
  const lin = checkKvLinearizable(history);
  if (!lin.ok) throw new InvariantViolation(`history not linearizable on key ${lin.badKey}`);
  return {
    seed,
    nodes,
    steps,
    puts,
    acked: c.ackedPuts.size,
    reads: history.filter((h) => h.input.kind === 'get').length,
    leaders: c.leaderOfTerm.size,
    crashes,
    committed: c.committed.size,
    // Not counting the founders' bootstrap entries at indexes 1..founders.
    snapshotsSent: c.sent.get('MsgSnap') ?? 0,
    timeoutNows: c.sent.get('MsgTimeoutNow') ?? 0,
    preVotes: c.sent.get('MsgPreVote') ?? 0,
    confChanges: [...c.committed].filter(([i, e]) => i > founders && e.sig.startsWith('confChange')).length,
  };
}

function proposeConfChange(c: Cluster, ids: NodeId[], rand: SeededRand): void {
  const lead = c.leader();
  if (lead === undefined) return;
  const members = c.node(lead).status().confState.voters;
  const outsiders = ids.filter((id) => !members.includes(id) && !c.decommissioned.has(id));
  const target = outsiders[rand.intn(outsiders.length)];
  try {
    if (target !== undefined && (members.length <= 3 || rand.chance(0.5))) {
      c.node(lead).proposeConfChange({ type: 'addNode', nodeId: target });
    } else if (members.length > 3) {
      const victim = members[rand.intn(members.length)];
      if (victim !== undefined) c.node(lead).proposeConfChange({ type: 'removeNode', nodeId: victim });
    }
  } catch (err) {
    if (!(err instanceof ProposalDroppedError)) throw err;
  }
}

/** Heals everything, restarts every node, and runs a clean network until all nodes agree and applied it all. */
function converge(c: Cluster, ids: NodeId[]): void {
  c.heal();
  c.dropRate = 0;
  c.duplicateRate = 0;
  for (const id of ids) if (!c.sim(id).alive) c.restart(id);
  const memberIds = (): NodeId[] => {
    const lead = c.leader();
    return lead === undefined ? [] : c.node(lead).status().confState.voters;
  };
  for (let round = 0; round < 300; round++) {
    c.tickAll();
    c.stabilize();
    c.checkInvariants();
    if (converged(c)) {
      const members = memberIds();
      const first = c.sim(members[0] ?? 1).kv;
      for (const id of members) {
        const kv = c.sim(id).kv;
        for (const op of c.ackedPuts) {
          if (!kv.seen.has(op)) throw new InvariantViolation(`acknowledged ${op} not applied on node ${id}`);
        }
        if (JSON.stringify([...kv.data].sort()) !== JSON.stringify([...first.data].sort())) {
          throw new InvariantViolation(`node ${id} state differs after convergence`);
        }
      }
      return;
    }
  }
  throw new InvariantViolation('cluster did not converge after healing');
}

function converged(c: Cluster): boolean {
  const lead = c.leader();
  if (lead === undefined) return false;
  const lr = c.node(lead).raft;
  if (lr.raftLog.committed !== lr.raftLog.lastIndex()) return false;
  for (const id of lr.confState().voters) {
    const n = c.sim(id);
    const r = n.raw?.raft;
    if (r === undefined || r.lead !== lead || r.term !== lr.term) return false;
    if (n.lastApplied !== lr.raftLog.committed) return false;
  }
  return true;
}
