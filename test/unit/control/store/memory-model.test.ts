import { describe, expect, it } from 'vitest';
import {
  ErrCompacted,
  ManualClock,
  MemoryStore,
  op,
  prefixEnd,
  type KeyValue,
  type RangeResponse,
} from '../../../../control/store/index.js';
import { WatchCollector } from './helpers.js';
import { Rng } from './random.js';

type State = ReadonlyMap<string, KeyValue>;

/** The obvious implementation: a full copy of the key space per revision. Slow, small, and easy to trust. */
class ReferenceStore {
  readonly states: State[] = [new Map(), new Map()]; // index = revision; revision 1 is the empty start
  compactRev = 0;

  get revision(): number {
    return this.states.length - 1;
  }

  get current(): State {
    return this.states[this.revision]!;
  }

  /** Applies a revision's worth of changes (value undefined = delete); no changes, no revision. */
  write(changes: Array<[string, string | undefined]>): void {
    const next = new Map(this.current);
    const rev = this.revision + 1;
    let changed = false;
    for (const [key, value] of changes) {
      const prev = next.get(key);
      if (value === undefined) {
        changed = next.delete(key) || changed;
      } else {
        next.set(key, {
          key,
          value,
          createRevision: prev?.createRevision ?? rev,
          modRevision: rev,
          version: (prev?.version ?? 0) + 1,
          lease: 0,
        });
        changed = true;
      }
    }
    if (changed) this.states.push(next);
  }

  range(start: string, end: string, revision: number, limit: number): Omit<RangeResponse, 'header'> {
    const all = [...this.states[revision]!.values()]
      .filter((kv) => kv.key >= start && kv.key < end)
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    const kvs = limit > 0 ? all.slice(0, limit) : all;
    return { kvs, count: all.length, more: kvs.length < all.length };
  }
}

const KEYS = Array.from({ length: 40 }, (_, i) => `/m/${String.fromCharCode(97 + (i % 5))}/${i}`);

describe('MemoryStore against a reference model', () => {
  for (const seed of [11, 12, 13, 14]) {
    it(`agrees on every read, revision and watch event (seed ${seed})`, async () => {
      const rng = new Rng(seed);
      const store = new MemoryStore({ clock: new ManualClock() });
      const model = new ReferenceStore();
      const watcher = new WatchCollector();
      await store.watch({ key: '/m/', prefix: true, startRevision: 1, prevKv: true }, watcher.listener);

      for (let step = 0; step < 1500; step++) {
        const key = rng.pick(KEYS);
        const roll = rng.next();
        if (roll < 0.4) {
          const value = `v${step}`;
          await store.put(key, value);
          model.write([[key, value]]);
        } else if (roll < 0.5) {
          await store.delete(key);
          model.write([[key, undefined]]);
        } else if (roll < 0.53) {
          const prefix = key.slice(0, 5);
          await store.delete({ key: prefix, prefix: true });
          model.write([...model.current.keys()].filter((k) => k.startsWith(prefix)).map((k) => [k, undefined]));
        } else if (roll < 0.68) {
          const other = rng.pick(KEYS);
          const version = rng.int(3);
          const res = await store.txn({
            compare: [op.version(key, '=', version)],
            success: other === key ? [op.put(key, `t${step}`)] : [op.put(key, `t${step}`), op.del(other)],
            failure: [op.put(other, `f${step}`)],
          });
          const ok = (model.current.get(key)?.version ?? 0) === version;
          expect(res.succeeded).toBe(ok);
          if (ok) model.write(other === key ? [[key, `t${step}`]] : [[key, `t${step}`], [other, undefined]]);
          else model.write([[other, `f${step}`]]);
        } else if (roll < 0.7 && model.revision > 5) {
          const target = model.compactRev + 1 + rng.int(Math.max(1, model.revision - model.compactRev));
          if (target <= model.revision && target > model.compactRev) {
            await store.compact(target);
            model.compactRev = target;
          }
        } else {
          const revision = 1 + rng.int(model.revision);
          const prefix = rng.next() < 0.5 ? '/m/' : key.slice(0, 5);
          const limit = rng.pick([0, 0, 1, 3, 10]);
          const request = { key: prefix, prefix: true as const, revision, limit };
          if (revision < model.compactRev) {
            await expect(store.range(request)).rejects.toBeInstanceOf(ErrCompacted);
          } else {
            const got = await store.range(request);
            const { header, ...rest } = got;
            expect(rest).toEqual(model.range(prefix, prefixEnd(prefix), revision, limit));
            expect(header.revision).toBe(model.revision);
          }
        }
        expect(store.revision).toBe(model.revision);
      }

      // The watch saw every revision once, in order, and replaying it rebuilds the model's final state.
      await watcher.untilRevision(model.revision);
      const revisions = watcher.eventMessages().map((m) => m.revision);
      expect(revisions).toEqual(Array.from({ length: model.revision - 1 }, (_, i) => i + 2));
      const replay = new Map<string, KeyValue>();
      for (const e of watcher.events()) {
        expect(e.prevKv).toEqual(model.states[e.revision - 1]!.get(e.kv.key));
        if (e.type === 'PUT') replay.set(e.kv.key, e.kv);
        else replay.delete(e.kv.key);
      }
      expect(new Map([...replay].sort())).toEqual(new Map([...model.current].sort()));
    });
  }
});
