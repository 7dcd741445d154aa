import { createHash } from 'node:crypto';
import type { Pod } from '../../control/api/index.js';
import type { PodSourceKind } from './types.js';

/** Annotation keys the kubelet sets on pods it did not get from the API server (upstream kubelet/types). */
export const ConfigHashAnnotation = 'kubernetes.io/config.hash';
export const ConfigSourceAnnotation = 'kubernetes.io/config.source';
export const ConfigSeenAnnotation = 'kubernetes.io/config.seen';

export interface StaticPodContext {
  nodeName: string;
  /** The value for kubernetes.io/config.source: the file source says "file", the manifest URL and submissions "http". */
  source: PodSourceKind;
  /** The file path or URL the manifest came from: it feeds the UID so the same pod from two places is two pods. */
  origin: string;
  /** When the source first saw this pod; kept out of the hash so re-reading never changes the UID. */
  seen: string | Date;
}

/**
 * Turns a pod as a manifest describes it into the pod this node runs, as upstream's applyDefaults does. Pure: the
 * input is not modified, and the same input always gives the same UID.
 */
export function applyStaticPodDefaults(pod: Pod, ctx: StaticPodContext): Pod {
  const out = structuredClone(pod);
  const nodeName = ctx.nodeName;
  // A manifest without a uid gets one derived from its content, so editing the manifest gives a new UID and the
  // runtime replaces the pod instead of patching it in place.
  const uid = out.metadata.uid || staticPodUid(pod, ctx);
  out.metadata.uid = uid;
  out.metadata.name = `${out.metadata.name}-${nodeName.toLowerCase()}`;
  if (!out.metadata.namespace) out.metadata.namespace = 'default';
  out.spec.nodeName = nodeName;
  out.metadata.annotations = {
    ...out.metadata.annotations,
    [ConfigHashAnnotation]: uid,
    [ConfigSourceAnnotation]: ctx.source,
    [ConfigSeenAnnotation]: typeof ctx.seen === 'string' ? ctx.seen : ctx.seen.toISOString(),
  };
  if (ctx.source === 'file') addNoExecuteToleration(out);
  return out;
}

/** The content-derived UID: md5 (hex, as upstream) of the node, the source, the origin and the pod as read. */
export function staticPodUid(pod: Pod, ctx: Pick<StaticPodContext, 'nodeName' | 'source' | 'origin'>): string {
  const h = createHash('md5');
  h.update(`host:${ctx.nodeName}\n${ctx.source}:${ctx.origin}\n`);
  h.update(stableStringify(pod));
  return h.digest('hex');
}

/**
 * Static pods must survive node problems (they are often the control plane itself), so upstream gives file pods a
 * toleration for every NoExecute taint. Replaces an equivalent toleration rather than adding a duplicate.
 */
function addNoExecuteToleration(pod: Pod): void {
  const existing = pod.spec.tolerations ?? [];
  const same = existing.findIndex(
    (t) => !t.key && t.operator === 'Exists' && t.effect === 'NoExecute' && t.value === undefined,
  );
  if (same >= 0) return;
  pod.spec.tolerations = [...existing, { operator: 'Exists', effect: 'NoExecute' }];
}

/** JSON with object keys sorted, so equal pods hash equally whatever order their manifest listed fields in. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj).sort()) {
      if (obj[k] !== undefined) out[k] = sortKeys(obj[k]);
    }
    return out;
  }
  return value;
}

/**
 * Remembers when a source first saw each UID, so the seen annotation stays put while a manifest is re-read every
 * period (a changing annotation would look like a changed pod to everything downstream).
 */
export class FirstSeen {
  private readonly seen = new Map<string, string>();

  constructor(private readonly now: () => Date = () => new Date()) {}

  stamp(uid: string): string {
    let t = this.seen.get(uid);
    if (t === undefined) {
      t = this.now().toISOString();
      this.seen.set(uid, t);
    }
    return t;
  }

  /** Forgets UIDs no longer present, so a pod that comes back later is seen anew (as upstream). */
  retain(uids: Iterable<string>): void {
    const keep = new Set(uids);
    for (const uid of this.seen.keys()) if (!keep.has(uid)) this.seen.delete(uid);
  }
}
