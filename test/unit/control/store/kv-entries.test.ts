import { describe, expect, it } from 'vitest';
import type { Entry } from '../../../../control/store/mvcc/key-index.js';
import { MvccKv } from '../../../../control/store/mvcc/kv-state.js';
import { Rng } from './random.js';

/**
 * MvccKv.entries(), the snapshot's form of the state, against a model of what compaction retains: of every entry ever
 * written, those at or after the compaction revision, and for each key the newest one before it when that is a put.
 */
function retained(written: readonly Entry[], compactRev: number): Entry[] {
  const newestBefore = new Map<string, Entry>();
  for (const e of written) if (e.main < compactRev) newestBefore.set(e.kv.key, e);
  const kept = [...newestBefore.values()].filter((e) => !e.tombstone);
  return [...kept, ...written.filter((e) => e.main >= compactRev)].sort((a, b) => a.main - b.main || a.sub - b.sub);
}

const view = (es: readonly Entry[]): string[] => es.map((e) => `${e.main}.${e.sub} ${e.kv.key}${e.tombstone ? ' deleted' : `=${e.kv.value}`}`);

describe('MvccKv.entries', () => {
  it('is every retained entry in revision order, across compactions and a rebuild from its own output', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rng = new Rng(seed);
      let kv = new MvccKv();
      const written: Entry[] = [];
      for (let i = 0; i < 1500; i++) {
        const r = rng.next();
        if (r < 0.04 && kv.revision > kv.compactRevision + 1) {
          kv.compact(kv.compactRevision + 1 + rng.int(kv.revision - kv.compactRevision - 1));
        } else if (r < 0.05) {
          // A member restored from a snapshot: rebuilt from the entries, with the same compaction revision.
          kv = MvccKv.fromEntries(kv.revision, kv.compactRevision, kv.entries());
        } else {
          kv.begin();
          // Several changes in one revision now and then, as a transaction makes them.
          const changes = rng.next() < 0.2 ? 2 : 1;
          for (let c = 0; c < changes; c++) {
            const key = `/k/${rng.int(40)}`;
            if (rng.next() < 0.2) kv.deleteRange({ start: key, end: undefined });
            else kv.put(key, `v${i}.${c}`, 0);
          }
          const record = kv.commit();
          if (record) written.push(...record.entries);
        }
        if (i % 100 === 99) expect(view(kv.entries())).toEqual(view(retained(written, kv.compactRevision)));
      }
      expect(kv.compactRevision).toBeGreaterThan(0);
      expect(view(kv.entries())).toEqual(view(retained(written, kv.compactRevision)));
    }
  });
});
