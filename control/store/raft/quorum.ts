import type { NodeId } from './messages.js';

export type VoteResult = 'pending' | 'lost' | 'won';

/** Majority of a single voter set. Skiff changes membership one voter at a time, so no joint quorums. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * Largest index acknowledged by a majority: the majority()-th largest match. An empty voter set commits
 * nothing rather than everything, since a cluster without voters cannot make progress safely.
 */
export function committedIndex(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number | undefined): number {
  const n = voters.size;
  if (n === 0) return 0;
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id) ?? 0);
  matches.sort((a, b) => b - a);
  return matches[majority(n) - 1] ?? 0;
}

/** Tally of votes: won once a majority granted, lost once a majority can no longer be reached. */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const n = voters.size;
  if (n === 0) return 'won';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majority(n);
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}
