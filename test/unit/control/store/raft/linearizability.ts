/**
 * Porcupine-style linearizability checker (Wing & Gong search with Lowe's memoisation) for a key-value register
 * history. The history is partitioned by key first (P-compositionality), which keeps each search tiny.
 */

export type KvInput = { kind: 'put'; key: string; value: string } | { kind: 'get'; key: string };

export interface KvOperation {
  input: KvInput;
  /** For gets: the value observed. Ignored for puts. */
  output: string;
  /** Logical times; `ret` is Infinity when the client never learned the outcome (it may or may not apply). */
  call: number;
  ret: number;
}

interface Node {
  op: number;
  isCall: boolean;
  /** For a call node: its return node. */
  match: Node | undefined;
  prev: Node | undefined;
  next: Node | undefined;
}

function stepModel(state: string, op: KvOperation): string | undefined {
  if (op.input.kind === 'put') return op.input.value;
  return op.output === state ? state : undefined;
}

/** Checks one key's history; initial value is the empty string. */
function checkSingleKey(ops: readonly KvOperation[]): boolean {
  if (ops.length === 0) return true;
  type Ev = { time: number; op: number; isCall: boolean };
  const evs: Ev[] = [];
  ops.forEach((op, i) => {
    evs.push({ time: op.call, op: i, isCall: true });
    evs.push({ time: op.ret, op: i, isCall: false });
  });
  // Ties: a return before a call at the same instant, so ops touching at a point are not taken as concurrent.
  evs.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? -1 : 1;
    return a.isCall === b.isCall ? 0 : a.isCall ? 1 : -1;
  });

  const head: Node = { op: -1, isCall: false, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  const callNodes = new Map<number, Node>();
  for (const ev of evs) {
    const n: Node = { op: ev.op, isCall: ev.isCall, match: undefined, prev: tail, next: undefined };
    tail.next = n;
    tail = n;
    if (ev.isCall) callNodes.set(ev.op, n);
    else {
      const c = callNodes.get(ev.op);
      if (c !== undefined) c.match = n;
    }
  }

  const lift = (n: Node): void => {
    // Remove the call and its return from the list.
    if (n.prev) n.prev.next = n.next;
    if (n.next) n.next.prev = n.prev;
    const m = n.match;
    if (m) {
      if (m.prev) m.prev.next = m.next;
      if (m.next) m.next.prev = m.prev;
    }
  };
  const unlift = (n: Node): void => {
    const m = n.match;
    if (m) {
      if (m.prev) m.prev.next = m;
      if (m.next) m.next.prev = m;
    }
    if (n.prev) n.prev.next = n;
    if (n.next) n.next.prev = n;
  };

  // Bitset of linearized ops; a bigint keeps the memo key cheap to build.
  let linearized = 0n;
  const cache = new Set<string>();
  const calls: { node: Node; state: string }[] = [];
  let state = '';
  let entry = head.next;
  while (head.next !== undefined) {
    if (entry === undefined) return false;
    if (entry.isCall) {
      const op = ops[entry.op];
      if (op === undefined) throw new Error('checker: op index out of range');
      const next = stepModel(state, op);
      if (next !== undefined) {
        const withOp = linearized | (1n << BigInt(entry.op));
        const key = `${withOp.toString(36)}|${next}`;
        if (!cache.has(key)) {
          cache.add(key);
          calls.push({ node: entry, state });
          linearized = withOp;
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      // Reached a return whose call is not linearized yet: backtrack.
      const top = calls.pop();
      if (top === undefined) return false;
      state = top.state;
      linearized &= ~(1n << BigInt(top.node.op));
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return true;
}

export interface LinearizabilityResult {
  ok: boolean;
  /** Key whose sub-history is not linearizable. */
  badKey?: string;
}

export function checkKvLinearizable(history: readonly KvOperation[]): LinearizabilityResult {
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    const list = byKey.get(op.input.key) ?? [];
    list.push(op);
    byKey.set(op.input.key, list);
  }
  for (const [key, ops] of byKey) {
    if (!checkSingleKey(ops)) return { ok: false, badKey: key };
  }
  return { ok: true };
}
