/**
 * Upstream serializes Go structs with `omitempty`: empty lists, false flags and zero counts disappear from what
 * clients see. Our schemas default those fields to concrete values for the code's convenience; this drops them again
 * before an object is stored or served, so `kubectl get -o yaml` shows what it shows against Kubernetes.
 */
const OMITTED_WHEN_FALSE = new Set(['hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'stdin', 'stdinOnce', 'tty', 'setHostnameAsFQDN', 'readOnly']);
const OMITTED_WHEN_ZERO = new Set(['initialDelaySeconds']);

function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  // Object.keys, not Object.entries: no pair array per member (this runs on every pod written).
  for (const k of Object.keys(obj)) {
    const v = obj[k];
    if (v === undefined) continue;
    if (v === null || typeof v !== 'object') {
      if (v === false && OMITTED_WHEN_FALSE.has(k)) continue;
      if (v === 0 && OMITTED_WHEN_ZERO.has(k)) continue;
      out[k] = v;
    } else if (Array.isArray(v)) {
      if (v.length > 0) out[k] = v.map(compact);
    } else out[k] = compact(v);
  }
  return out;
}

/** A copy of the pod spec (or any spec holding containers) without the fields upstream would omit. */
export function compactSpec<T>(spec: T): T {
  return compact(spec) as T;
}
