/**
 * Upstream serializes Go structs with `omitempty`: empty lists, false flags and zero counts disappear from what
 * clients see. Our schemas default those fields to concrete values for the code's convenience; this drops them again
 * before an object is stored or served, so `kubectl get -o yaml` shows what it shows against Kubernetes.
 */
const OMITTED_WHEN_FALSE = new Set(['hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'stdin', 'stdinOnce', 'tty', 'setHostnameAsFQDN', 'readOnly']);
const OMITTED_WHEN_ZERO = new Set(['initialDelaySeconds']);

/** What an object's member `k` holding `v` compacts to; undefined when upstream would leave it out. */
function compactMember(k: string, v: unknown): unknown {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object') {
    if (v === false && OMITTED_WHEN_FALSE.has(k)) return undefined;
    if (v === 0 && OMITTED_WHEN_ZERO.has(k)) return undefined;
    return v;
  }
  if (Array.isArray(v)) return v.length > 0 ? v.map(compact) : undefined;
  return compact(v);
}

function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  // Object.keys, not Object.entries: no pair array per member (this runs on every pod written).
  for (const k of Object.keys(obj)) {
    const v = compactMember(k, obj[k]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A copy of the pod spec (or any spec holding containers) without the fields upstream would omit. */
export function compactSpec<T>(spec: T): T {
  return compact(spec) as T;
}

/**
 * compact(now) where `now` was made from `decoded` by replacing some of its parts, and `compacted` is compact(decoded):
 * what `now` shares with `decoded` (the same object) compacts as it did then, so that part of `compacted` is taken.
 */
function compactAgain(now: unknown, decoded: unknown, compacted: unknown): unknown {
  if (now === decoded) return compacted;
  if (now === null || typeof now !== 'object' || decoded === null || typeof decoded !== 'object' || compacted === null || typeof compacted !== 'object') return compact(now);
  if (Array.isArray(now)) {
    if (!Array.isArray(decoded) || !Array.isArray(compacted)) return compact(now);
    return now.map((x, i) => (i < decoded.length ? compactAgain(x, decoded[i], compacted[i]) : compact(x)));
  }
  if (Array.isArray(decoded) || Array.isArray(compacted)) return compact(now);
  const n = now as Record<string, unknown>;
  const d = decoded as Record<string, unknown>;
  const c = compacted as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(n)) {
    const v = n[k];
    let member: unknown;
    if (v === null || typeof v !== 'object' || (Array.isArray(v) && v.length === 0)) member = compactMember(k, v);
    // Left out of `compacted`: `decoded` held nothing there, or an empty list.
    else if (!Object.hasOwn(c, k)) member = v === d[k] ? undefined : compactMember(k, v);
    else member = compactAgain(v, d[k], c[k]);
    if (member !== undefined) out[k] = member;
  }
  return out;
}

/**
 * compactSpec of `spec`, a decode made from `earlier.decoded` by replacing some of its parts (a second decode after
 * mutating admission): what it shares with it is taken from `earlier.compacted`, its compactSpec, not compacted again.
 */
export function compactSpecAgain<T>(spec: T, earlier: { decoded: T; compacted: T }): T {
  return compactAgain(spec, earlier.decoded, earlier.compacted) as T;
}
