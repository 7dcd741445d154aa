import { afterEach, beforeEach, describe } from 'vitest';
import type { Store } from '../../../../control/store/index.js';
import { kvConformance } from './conformance-kv.js';
import { leaseConformance } from './conformance-lease.js';
import { txnConformance } from './conformance-txn.js';
import { watchConformance } from './conformance-watch.js';

export interface StoreHarness {
  readonly store: Store;
  cleanup(): Promise<void>;
  /**
   * Moves the store's notion of time forward and lets it act on it (expire leases). Backends on wall-clock time
   * may sleep. Without it, the tests that need time to pass are skipped.
   */
  advanceTime?(ms: number): Promise<void>;
}

export type MakeStore = () => Promise<StoreHarness>;

/** Gives each test a fresh harness; sections read it through `h()`. */
export type HarnessRef = () => StoreHarness;

/**
 * The behaviour every Store backend must share (memory, Raft-replicated, etcd). Assertions use revisions relative
 * to what the store reports and keys under a per-test prefix, so a backend may share one etcd between tests.
 */
export function runStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`Store conformance: ${name}`, () => {
    let harness: StoreHarness | undefined;
    const h: HarnessRef = () => {
      if (harness === undefined) throw new Error('no store harness: beforeEach did not run');
      return harness;
    };
    beforeEach(async () => {
      harness = await makeStore();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    kvConformance(h);
    txnConformance(h);
    watchConformance(h);
    leaseConformance(h);
  });
}
