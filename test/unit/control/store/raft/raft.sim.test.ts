import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.js';

// SKIFF_RAFT_SEED=S replays one seed; SKIFF_RAFT_SEEDS=N runs seeds 1..N (default 2000); SKIFF_RAFT_STATS prints
// what the runs exercised.
const replay = process.env['SKIFF_RAFT_SEED'];
const count = Number(process.env['SKIFF_RAFT_SEEDS'] ?? 2000);
if (!Number.isInteger(count) || count < 1) throw new Error('SKIFF_RAFT_SEEDS must be a positive integer');
const seeds = replay !== undefined ? [Number(replay)] : Array.from({ length: count }, (_, i) => i + 1);

describe('raft deterministic simulation', () => {
  it(`keeps Raft safety and linearizability over ${seeds.length} seeds`, () => {
    const totals = {
      puts: 0,
      acked: 0,
      reads: 0,
      leaders: 0,
      crashes: 0,
      committed: 0,
      confChanges: 0,
      snapshotsSent: 0,
      timeoutNows: 0,
      preVotes: 0,
    };
    for (const seed of seeds) {
      let stats: ReturnType<typeof simulate>;
      try {
        stats = simulate(seed);
      } catch (err) {
        const replayLine = `SKIFF_RAFT_SEED=${seed} npx vitest run test/unit/control/store/raft`;
        console.error(`raft simulation failed; replay with:\n  ${replayLine}`);
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`${msg}\nreplay: ${replayLine}`, { cause: err });
      }
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += stats[k];
    }
    if (process.env['SKIFF_RAFT_STATS'] !== undefined) console.log(totals);
    // Guard against a simulation that silently stops exercising anything (only meaningful over many seeds).
    if (seeds.length >= 100) {
      expect(totals.acked).toBeGreaterThan(seeds.length);
      expect(totals.reads).toBeGreaterThan(seeds.length / 2);
      expect(totals.snapshotsSent).toBeGreaterThan(0);
      expect(totals.timeoutNows).toBeGreaterThan(0);
      expect(totals.confChanges).toBeGreaterThan(0);
    }
  }, 300_000);
});
