import { op, type Command, type Op } from '../../../../control/store/index.js';
import type { Rng } from './random.js';

const KEYS = ['/r/a', '/r/b', '/r/b/1', '/r/b/2', '/r/c', '/s/x', '/s/y'];

/**
 * Random but well-formed commands over a small key space, with some that must fail (unknown leases, compacted
 * revisions) so determinism covers errors too. `revision` is the store's revision, to aim compactions.
 */
export function randomCommand(rng: Rng, revision: number): Command {
  const key = rng.pick(KEYS);
  const lease = rng.next() < 0.2 ? rng.int(6) : 0;
  const roll = rng.next();
  if (roll < 0.35) return { type: 'put', key, value: `v${rng.int(1000)}`, lease, prevKv: rng.next() < 0.5 };
  if (roll < 0.45) return { type: 'delete', key, prevKv: true };
  if (roll < 0.5) return { type: 'delete', key: rng.pick(['/r/', '/r/b/', '/s/']), prefix: true };
  if (roll < 0.7) {
    const branch = (): Op[] =>
      Array.from({ length: rng.int(3) }, (_, i): Op => {
        const k = `${rng.pick(KEYS)}/t${i}`;
        return rng.next() < 0.7 ? op.put(k, `t${rng.int(100)}`) : op.del(k);
      });
    return {
      type: 'txn',
      compare: [op.version(key, rng.pick(['=', '>', '<', '!='] as const), rng.int(3))],
      success: branch(),
      failure: [...branch(), op.get(key)],
    };
  }
  if (roll < 0.8) return { type: 'leaseGrant', id: 1 + rng.int(5), ttl: 1 + rng.int(30) };
  if (roll < 0.95) return { type: 'leaseRevoke', id: 1 + rng.int(5) };
  return { type: 'compact', revision: Math.max(1, revision - rng.int(40)) };
}
