import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('lowerBackgroundThreads in a real process', () => {
  it("lowers every thread but the main one (V8's workers, libuv's pool), and later threads keep the main thread's priority", async () => {
    // The built module (the test command builds before it runs the suites), in a process of its own.
    const module = fileURLToPath(new URL('../../../dist/control/thread-priority.js', import.meta.url));
    const script = `
      const { readdirSync, readFileSync } = await import('node:fs');
      const { Worker } = await import('node:worker_threads');
      const { lowerBackgroundThreads } = await import(${JSON.stringify(module)});
      // The nice value of each thread: field 19 of /proc/self/task/<tid>/stat (after the command in parentheses).
      const nices = () => Object.fromEntries(readdirSync('/proc/self/task').map((t) => [t, Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16])]));
      const before = nices();
      const lowered = lowerBackgroundThreads();
      const after = nices();
      // A thread started afterwards (a worker) runs at the main thread's priority.
      const worker = new Worker('setTimeout(() => {}, 300)', { eval: true });
      await new Promise((r) => setTimeout(r, 100));
      const later = nices();
      await worker.terminate();
      console.log(JSON.stringify({ pid: process.pid, before, lowered, after, later }));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const r = JSON.parse(out) as { pid: number; before: Record<string, number>; lowered: number[]; after: Record<string, number>; later: Record<string, number> };
    const main = String(r.pid);
    const others = Object.keys(r.before).filter((t) => t !== main);
    // Node starts V8's platform workers and libuv's pool before any of its code runs.
    expect(others.length).toBeGreaterThanOrEqual(4);
    expect(r.lowered.map(String).sort()).toEqual(others.sort());
    expect(r.after[main]).toBe(r.before[main]);
    for (const t of others) expect(r.after[t]).toBe(Math.min(19, (r.before[main] as number) + 10));
    const started = Object.keys(r.later).filter((t) => !(t in r.before));
    expect(started.length).toBeGreaterThan(0);
    for (const t of started) expect(r.later[t]).toBe(r.before[main]);
  });
});
