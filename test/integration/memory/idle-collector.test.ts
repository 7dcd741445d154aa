import { describe, expect, it } from 'vitest';

describe('startIdleCollector in a real process', () => {
  it("reaches V8's gc at run time and, once the process goes quiet after a busy spell, compacts the heap and gives it back", async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    // The built module (the test command builds before it runs the suites), in a process of its own.
    const module = fileURLToPath(new URL('../../../dist/control/idle-collector.js', import.meta.url));
    // The child is busy for a while, then idle; the collector looks every 500 ms. What it keeps is spread over the old
    // space as a cache's survivors are (every sixth object of a long run of allocations), so that the heap, committed
    // at its peak, is mostly fragmented pages that only compaction gives back.
    const script = `
      const { startIdleCollector } = await import(${JSON.stringify(module)});
      const log = (fields, msg) => console.log(JSON.stringify({ ...fields, msg }));
      // The pages a collection frees are unmapped by a background task: RSS is read again a moment later.
      const rssLater = () => setTimeout(() => log({ rssLaterMb: Math.round(process.memoryUsage.rss() / 1048576) }, 'rss'), 1500);
      // The young generation is given back by a collection V8 may still be making when the collector settles (its
      // marking steps are what makes the window not quiet): the spaces are read again a moment after that too.
      const { getHeapSpaceStatistics } = await import('node:v8');
      const newSpaceLater = () => setTimeout(() => log({ newSpaceLaterMb: Math.round(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576) }, 'young generation'), 2000);
      const logger = { debug: log, info: (fields, msg) => { log(fields, msg); rssLater(); if (msg.includes('settled')) newSpaceLater(); } };
      startIdleCollector(logger, 500, { settleWindows: 30 });
      const kept = new Map();
      let recent = [];
      const end = Date.now() + 1500;
      for (let i = 0; Date.now() < end; i++) {
        const o = { name: 'p-' + i, labels: { app: 'x' + i }, args: Array.from({ length: 10 }, (_, j) => 'arg' + j + '-' + i) };
        if (i % 3 === 0) kept.set(i, o);
        recent.push(o);
        if (recent.length > 60000) recent = recent.slice(30000);
        if (i % 1000 === 0) await null;
      }
      recent = null;
      for (const k of [...kept.keys()]) if (k % 2) kept.delete(k);
      setTimeout(() => process.exit(kept.size > 0 ? 0 : 1), 30000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const end = Date.now() + 20_000;
      while (!out.includes('rssLaterMb') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const line = out.split('\n').find((l) => l.includes('collected its garbage'));
      expect(line).toBeDefined();
      const logged = JSON.parse(line as string) as { ms: number; rssBeforeMb: number; heapBeforeMb: number; heapAfterMb: number; heapSpacesAfterMb: Record<string, number> };
      expect(logged).toMatchObject({ ms: expect.any(Number), rssBeforeMb: expect.any(Number) });
      // The spaces' committed sizes add up to the heap's (each rounded to a MB).
      expect(Object.keys(logged.heapSpacesAfterMb)).toEqual(expect.arrayContaining(['new_space', 'old_space']));
      const spacesMb = Object.values(logged.heapSpacesAfterMb).reduce((a, b) => a + b, 0);
      expect(Math.abs(spacesMb - logged.heapAfterMb)).toBeLessThanOrEqual(Object.keys(logged.heapSpacesAfterMb).length);
      const later = JSON.parse(out.split('\n').find((l) => l.includes('rssLaterMb')) as string) as { rssLaterMb: number };
      // Compacted, the heap gives back most of what it held; without compaction it stays near its peak (here 96%).
      expect(logged.heapBeforeMb).toBeGreaterThan(80);
      expect(logged.heapAfterMb).toBeLessThan(logged.heapBeforeMb * 0.6);
      expect(later.rssLaterMb).toBeLessThan(logged.rssBeforeMb * 0.7);
      // The young generation the burst grew is still committed after that collection; V8 gives it back in the
      // memory-reducing collection it makes while told to optimize for size (8 s after the collection, which
      // settles after 15 s).
      while (!out.includes('newSpaceLaterMb') && Date.now() < end + 15_000) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('collection settled');
      const settled = JSON.parse(out.split('\n').find((l) => l.includes('newSpaceLaterMb')) as string) as { newSpaceLaterMb: number };
      expect(logged.heapSpacesAfterMb.new_space).toBeGreaterThanOrEqual(8);
      expect(settled.newSpaceLaterMb).toBeLessThanOrEqual(2);
    } finally {
      child.kill();
    }
  }, 45_000);
});
