import type { Pod } from '../../control/api/index.js';
import { parseManifestText } from './manifest.js';
import { applyStaticPodDefaults, staticPodUid, type FirstSeen } from './static-pod.js';
import type { PodSourceKind, SourceError } from './types.js';

/** One manifest (a file, a response body) read into the pods this node would run. */
export interface LoadedManifest {
  /** The text it was read from, so an unchanged file is not parsed again and keeps its pods' seen times. */
  text: string;
  pods: Pod[];
  errors: SourceError[];
  warnings: string[];
}

export interface LoadContext {
  nodeName: string;
  source: PodSourceKind;
  seen: FirstSeen;
}

/** Parses a manifest and applies the static pod defaults to every pod in it. Never throws. */
export function loadManifest(text: string, origin: string, ctx: LoadContext): LoadedManifest {
  const parsed = parseManifestText(text, origin);
  const pods = parsed.pods.map((pod) => {
    const seen = ctx.seen.stamp(uidFor(pod, origin, ctx));
    return applyStaticPodDefaults(pod, { nodeName: ctx.nodeName, source: ctx.source, origin, seen });
  });
  return { text, pods, errors: parsed.errors, warnings: parsed.warnings };
}

function uidFor(pod: Pod, origin: string, ctx: LoadContext): string {
  // The seen time is keyed by the UID the defaults are about to give the pod.
  return pod.metadata.uid || staticPodUid(pod, { nodeName: ctx.nodeName, source: ctx.source, origin });
}
