// Shared fixtures: a minimal valid Pod manifest and a deep-merge to derive variants from it.
import { formatFieldError, parsePod, type Pod } from '../../../../control/api/index.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function minimalPod(): { [k: string]: Json } {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
  };
}

/** A copy of the minimal pod with `edit` applied to it. */
export function podWith(edit: (pod: { [k: string]: any }) => void): { [k: string]: Json } {
  const pod = minimalPod();
  edit(pod);
  return pod;
}

/** Parse and expect success, returning the defaulted pod. */
export function mustParse(input: unknown): Pod {
  const r = parsePod(input);
  if (!r.ok) throw new Error(`expected a valid pod, got:\n${r.errors.map(formatFieldError).join('\n')}`);
  return r.pod;
}

/** Parse and return the formatted error lines (empty when the pod is valid). */
export function errorsOf(input: unknown, opts?: { strict?: boolean }): string[] {
  const r = parsePod(input, opts);
  return r.ok ? [] : r.errors.map(formatFieldError);
}
