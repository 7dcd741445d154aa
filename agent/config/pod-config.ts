import type { Pod } from '../../control/api/index.js';
import { stableStringify } from './static-pod.js';
import type { SourceError, SourceUpdate } from './types.js';

/** Everything the node should run, keyed by pod UID, with every problem any source reported. */
export interface DesiredPods {
  pods: Map<string, Pod>;
  errors: SourceError[];
}

export type DesiredListener = (desired: DesiredPods) => void;

/** Which source wins when two define the same pod: the files on the node outrank what is fetched or posted. */
const sourcePriority = ['file', 'url', 'http', 'api'];

interface Candidate {
  pod: Pod;
  source: string;
  origin: string;
  index: number;
}

/**
 * Merges every source's latest complete set into one desired set (upstream's PodConfig/podStorage). Pure: no timers,
 * no I/O; listeners are called synchronously from update() when the set or the errors change.
 *
 * Two pods with the same namespace/name (or the same UID) cannot both run. The winner is chosen the same way every
 * time: source priority (file, url, http, api, then others by name), then origin in byte order, then position in
 * the origin. The loser is reported as an error naming both origins.
 */
export class PodConfig {
  private readonly sources = new Map<string, SourceUpdate>();
  private readonly listeners = new Set<DesiredListener>();
  private current: DesiredPods = { pods: new Map(), errors: [] };
  /** The last set's signature: [uid, pod text] per pod in order, then the errors' text (see signatureOf). */
  private signature: string[] = [stableStringify([])];
  /**
   * Each pod's canonical text, by object identity. Sources hand over the same object for a pod that did not change
   * (the API source keeps its decoded pods between pushes) and a new one when it did, and nothing mutates a pod once
   * a source has sent it; so a pod is serialised once, not on every update of every source (sorting the keys of a
   * hundred pods on each of a burst's updates was most of the agent's CPU).
   */
  private readonly podSignatures = new WeakMap<Pod, string>();

  /** `sign` turns one pod into its canonical text; injectable so tests can count the work. */
  constructor(private readonly sign: (pod: Pod) => string = stableStringify) {}

  update(u: SourceUpdate): void {
    this.sources.set(u.source, { ...u, pods: [...u.pods], errors: [...u.errors], origins: u.origins ? [...u.origins] : undefined });
    const next = merge([...this.sources.values()]);
    const signature = this.signatureOf(next);
    if (sameStrings(signature, this.signature)) return;
    this.signature = signature;
    this.current = next;
    for (const listener of this.listeners) listener(copy(next));
  }

  /**
   * The set as strings: each pod's UID and cached text, then the errors' text. Two sets have equal signatures exactly
   * when stableStringify([[...pods.entries()], errors]) of both is equal, without building that text: an unchanged
   * pod contributes the very same cached string, which compares in constant time.
   */
  private signatureOf(d: DesiredPods): string[] {
    const out: string[] = [];
    for (const [uid, pod] of d.pods) {
      let text = this.podSignatures.get(pod);
      if (text === undefined) {
        text = this.sign(pod);
        this.podSignatures.set(pod, text);
      }
      out.push(uid, text);
    }
    out.push(stableStringify(d.errors));
    return out;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: DesiredListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  desired(): DesiredPods {
    return copy(this.current);
  }

  /** True once the source has sent at least one update (upstream's SeenAllSources, for one source). */
  hasSeen(source: string): boolean {
    return this.sources.has(source);
  }
}

/** The merge itself, exported for tests and for callers that hold sources' sets themselves. */
export function merge(updates: readonly SourceUpdate[]): DesiredPods {
  const candidates: Candidate[] = [];
  const errors: SourceError[] = [];
  for (const u of [...updates].sort((a, b) => compareSources(a.source, b.source))) {
    u.pods.forEach((pod, index) => candidates.push({ pod, source: u.source, origin: u.origins?.[index] ?? u.source, index }));
    errors.push(...u.errors);
  }
  candidates.sort(compareCandidates);
  const pods = new Map<string, Pod>();
  const byName = new Map<string, Candidate>();
  const byUid = new Map<string, Candidate>();
  for (const c of candidates) {
    const name = nameOf(c.pod);
    const uid = c.pod.metadata.uid ?? '';
    const sameName = byName.get(name);
    const sameUid = byUid.get(uid);
    if (sameName || sameUid) {
      const w = (sameName ?? sameUid) as Candidate;
      const clash = sameName ? `pod "${name}"` : `pod "${name}" has UID ${uid}, as pod "${nameOf(w.pod)}" that`;
      errors.push({ origin: c.origin, message: `${clash} is already defined by ${w.origin} (${w.source} source); ignoring this one`, conflict: true });
      continue;
    }
    byName.set(name, c);
    byUid.set(uid, c);
    pods.set(uid, c.pod);
  }
  return { pods, errors };
}

function nameOf(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

function compareSources(a: string, b: string): number {
  const pa = rank(a);
  const pb = rank(b);
  if (pa !== pb) return pa - pb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function rank(source: string): number {
  const i = sourcePriority.indexOf(source);
  return i < 0 ? sourcePriority.length : i;
}

function compareCandidates(a: Candidate, b: Candidate): number {
  const bySource = compareSources(a.source, b.source);
  if (bySource !== 0) return bySource;
  if (a.origin !== b.origin) return a.origin < b.origin ? -1 : 1;
  return a.index - b.index;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function copy(d: DesiredPods): DesiredPods {
  return { pods: new Map(d.pods), errors: [...d.errors] };
}
