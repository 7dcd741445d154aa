import { pino, type Logger } from 'pino';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

export function podDoc(name: string, image = 'nginx:1.25', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...extra },
    spec: { containers: [{ name: 'main', image }] },
  };
}

export function podYaml(name: string, image = 'nginx:1.25'): string {
  return stringify(podDoc(name, image));
}

/** Polls until check returns a value; fails after timeoutMs. Never a fixed sleep. */
export async function until<T>(check: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skiff-config-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A logger that keeps its lines, to check what is logged and how often. */
export function captureLogger(): { logger: Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { level: number; msg: string }) });
  return { logger, lines };
}
