import { describe, expect, it } from 'vitest';

describe('startIdleCollector in a real process', () => {
  it("reaches V8's gc at run time and collects once the process goes quiet after a busy spell", async () => {
    const { spawn } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    // The built module (the test command builds before it runs the suites), in a process of its own.
    const module = fileURLToPath(new URL('../../../dist/control/idle-collector.js', import.meta.url));
    // The child is busy for a while (keeping garbage), then idle; the collector looks every 100 ms.
    const script = `
      const { startIdleCollector } = await import(${JSON.stringify(module)});
      const log = (fields, msg) => console.log(JSON.stringify({ ...fields, msg }));
      const logger = { debug: log, info: log };
      startIdleCollector(logger, 100);
      let junk = [];
      const end = Date.now() + 600;
      while (Date.now() < end) { junk.push({ s: 'x'.repeat(64) + Math.random() }); if (junk.length > 200000) junk = []; await null; }
      junk = null;
      setTimeout(() => process.exit(0), 20000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const end = Date.now() + 20_000;
      while (!out.includes('collected its garbage') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const line = out.split('\n').find((l) => l.includes('collected its garbage'));
      expect(line).toBeDefined();
      expect(JSON.parse(line as string)).toMatchObject({ ms: expect.any(Number), rssBeforeMb: expect.any(Number) });
    } finally {
      child.kill();
    }
  }, 30_000);
});
