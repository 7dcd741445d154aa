import type { KeyValue, Store, WatchEvent, WatchListener, WatchMessage } from '../../../../control/store/index.js';

/** Collects a watch's messages and lets a test wait for a condition on them. */
export class WatchCollector {
  readonly messages: WatchMessage[] = [];
  private waiters: Array<() => void> = [];

  readonly listener: WatchListener = (message) => {
    this.messages.push(message);
    for (const wake of this.waiters.splice(0)) wake();
  };

  /** Every event, in delivery order, tagged with the revision of the message that carried it. */
  events(): Array<WatchEvent & { revision: number }> {
    return this.eventMessages().flatMap((m) => m.events.map((e) => ({ ...e, revision: m.revision })));
  }

  eventMessages(): Array<Extract<WatchMessage, { type: 'events' }>> {
    return this.messages.filter((m): m is Extract<WatchMessage, { type: 'events' }> => m.type === 'events');
  }

  async until(condition: (c: this) => boolean, what = 'watch condition', timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until an event at or past `revision` arrived. */
  async untilRevision(revision: number, timeoutMs?: number): Promise<void> {
    await this.until((c) => c.eventMessages().some((m) => m.revision >= revision), `revision ${revision}`, timeoutMs);
  }
}

/** Lets pending deliveries (microtasks, network round trips) land before asserting that nothing more arrives. */
export async function settle(ms = 50): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export async function currentRevision(store: Store): Promise<number> {
  return (await store.range({ key: '/__revision_probe__' })).header.revision;
}

export async function get(store: Store, key: string, revision?: number): Promise<KeyValue | undefined> {
  return (await store.range({ key, revision })).kvs[0];
}

export async function poll(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let prefixCounter = 0;

/** A key prefix no other test uses, so the suite also runs against a shared etcd. */
export function uniquePrefix(): string {
  prefixCounter++;
  return `/conformance/${process.pid}-${Date.now().toString(36)}-${prefixCounter}/`;
}
