import { ManualClock, MemoryStore } from '../../../../control/store/index.js';
import { runStoreConformance } from './conformance.js';

runStoreConformance('MemoryStore', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const store = new MemoryStore({ clock });
  return {
    store,
    cleanup: () => store.close(),
    advanceTime: async (ms: number) => {
      clock.advance(ms);
      store.tick();
    },
  };
});
