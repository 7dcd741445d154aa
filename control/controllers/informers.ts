import { Informer, type KubeClient, type KubeObject, type ResourceRef } from '../client/index.js';

/**
 * client-go's SharedInformerFactory: one informer per resource, however many controllers ask for it, started
 * together and stopped together.
 */
export class SharedInformers {
  private readonly informers = new Map<string, Informer>();
  private started = false;

  constructor(
    private readonly client: KubeClient,
    private readonly onError?: (ref: ResourceRef, err: Error) => void,
    /** Informers given from outside (views of informers the process shares with other components), by resource. */
    given: ReadonlyArray<readonly [ResourceRef, Informer]> = [],
  ) {
    for (const [ref, inf] of given) this.informers.set(SharedInformers.id(ref), inf);
  }

  private static id(ref: ResourceRef): string {
    return `${ref.group}/${ref.version}/${ref.resource}`;
  }

  for<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T> {
    const id = SharedInformers.id(ref);
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer(this.client, ref, { backoffMs: 200, maxBackoffMs: 10_000, onError: (err) => this.onError?.(ref, err) });
      this.informers.set(id, inf);
      if (this.started) inf.start();
    }
    return inf as unknown as Informer<T>;
  }

  start(): void {
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
  }

  stop(): void {
    this.started = false;
    for (const inf of this.informers.values()) inf.stop();
  }
}
