import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so that equal specs hash equally whatever order their fields were written in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A short stable hash of a container spec: a running container whose hash differs must be replaced. */
export function containerSpecHash(container: unknown): string {
  return createHash('sha256').update(canonicalJson(container)).digest('hex').slice(0, 16);
}
