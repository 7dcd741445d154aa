// A big LIST's body goes out in slices, each once the socket has taken the last: a slice written while the last is
// still going out would be held and encrypted with all the rest in one go, the process serving nothing meanwhile.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { sendList } from '../../../../control/apiserver/server.js';

/** A response whose socket takes one write at a time: write() answers false until 'drain' is emitted. */
class SlowResponse extends EventEmitter {
  readonly chunks: string[] = [];
  destroyed = false;
  writableEnded = false;
  headers: Record<string, unknown> = {};
  waiting = false;

  writeHead(_code: number, headers: Record<string, unknown>): this {
    this.headers = headers;
    return this;
  }

  write(chunk: string): boolean {
    if (this.waiting) throw new Error('written before the last write drained');
    this.chunks.push(chunk);
    this.waiting = true;
    return false;
  }

  end(chunk?: string): this {
    if (chunk !== undefined) this.chunks.push(chunk);
    this.writableEnded = true;
    return this;
  }

  drain(): void {
    this.waiting = false;
    this.emit('drain');
  }
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('sendList', () => {
  const items = Array.from({ length: 1200 }, (_, i) => JSON.stringify({ metadata: { name: `p${i}` } }));

  it('writes the next slice only once the last has drained, and the whole list in the end', async () => {
    const res = new SlowResponse();
    const sent = sendList(res as unknown as ServerResponse, '{"kind":"PodList","items":[', items, ']}');
    await settle();
    expect(res.chunks).toHaveLength(1);
    while (!res.writableEnded) {
      res.drain();
      await settle();
    }
    await sent;
    expect(res.chunks.length).toBeGreaterThan(2);
    const body = res.chunks.join('');
    expect(Buffer.byteLength(body)).toBe(res.headers['Content-Length']);
    expect((JSON.parse(body) as { items: unknown[] }).items).toHaveLength(items.length);
  });

  it('stops when the client goes away while a slice is waiting', async () => {
    const res = new SlowResponse();
    const sent = sendList(res as unknown as ServerResponse, '{"items":[', items, ']}');
    await settle();
    res.destroyed = true;
    res.emit('close');
    await sent;
    expect(res.chunks).toHaveLength(1);
    expect(res.writableEnded).toBe(false);
  });
});
