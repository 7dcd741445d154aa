// core/v1 Secret: type defaults to Opaque, stringData is merged into data (the v1 -> internal conversion),
// ValidateSecret's per-type required keys and 1 MiB limit, ValidateSecretUpdate's immutability.
import { z } from 'zod';
import { forbidden, invalid, key, required, tooLong, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { isConfigMapKey } from '../names.js';
import { IMMUTABLE_WHEN_SET, immutableField, jsonEqual } from './common.js';

export const MAX_SECRET_SIZE = 1024 * 1024;
export const SERVICE_ACCOUNT_NAME_KEY = 'kubernetes.io/service-account.name';
const REDACTED = '<secret contents redacted>';

const B64 = /^[A-Za-z0-9+/]$/;

/** Go's base64.StdEncoding as encoding/json uses it for []byte: padding required, CR and LF skipped. */
export function base64Error(s: string): string | undefined {
  const positions: number[] = [];
  let clean = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === '\r' || ch === '\n') continue;
    clean += ch;
    positions.push(i);
  }
  const at = (j: number) => `illegal base64 data at input byte ${positions[j] ?? s.length}`;
  const pad = clean.indexOf('=');
  const body = pad >= 0 ? clean.slice(0, pad) : clean;
  for (let j = 0; j < body.length; j++) if (!B64.test(body[j] as string)) return at(j);
  if (pad >= 0) {
    const tail = clean.slice(pad);
    if (!/^={1,2}$/.test(tail) || clean.length % 4 !== 0 || (tail.length === 2 && body.length % 4 !== 2) || (tail.length === 1 && body.length % 4 !== 3))
      return at(pad);
    return undefined;
  }
  if (clean.length % 4 !== 0) return at(clean.length - (clean.length % 4));
  return undefined;
}

export function decodedLength(s: string): number {
  return Buffer.from(s.replace(/[\r\n]/g, ''), 'base64').length;
}

/** The error text Go's json.Unmarshal gives for a value that is not a JSON object, or undefined. */
function jsonObjectError(text: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    const first = text.trimStart()[0];
    if (first === undefined) return 'unexpected end of JSON input';
    if (!/[{["tfn0-9-]/.test(first)) return `invalid character '${first}' looking for beginning of value`;
    return 'unexpected end of JSON input';
  }
  if (v === null || (typeof v === 'object' && !Array.isArray(v))) return undefined;
  const kind = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v;
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

const SecretObject = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: ObjectMeta.prefault({}),
  immutable: z.boolean().optional(),
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
  type: z.string().optional().transform((v) => v || 'Opaque'),
});

/** stringData is write-only: its entries overwrite data's (base64-encoded) and it is never stored. */
export function mergeStringData<T extends z.output<typeof SecretObject>>(s: T): Omit<T, 'stringData'> {
  const { stringData, ...rest } = s;
  if (stringData === undefined) return rest;
  const data: Record<string, string> = { ...(rest.data ?? {}) };
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(v, 'utf8').toString('base64');
  return { ...rest, data };
}

export const Secret = SecretObject.transform((s) => mergeStringData(s));
export type Secret = z.output<typeof Secret>;

const decoded = (s: Secret, k: string): Buffer | undefined => {
  const v = s.data?.[k];
  return v === undefined || base64Error(v) ? undefined : Buffer.from(v.replace(/[\r\n]/g, ''), 'base64');
};

export function validateSecret(s: Secret): FieldError[] {
  const errs = validateObjectMeta(s.metadata, { namespaced: true });
  const data = s.data ?? {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, m));
    const bad = base64Error(v);
    // Upstream fails these while decoding the body; here they are reported against the key.
    if (bad) errs.push(invalid(key('data', k), REDACTED, bad));
    else total += decodedLength(v);
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  const has = (k: string) => Object.hasOwn(data, k);
  switch (s.type) {
    case 'kubernetes.io/service-account-token':
      if (!s.metadata.annotations?.[SERVICE_ACCOUNT_NAME_KEY]) errs.push(required(`metadata.annotations[${SERVICE_ACCOUNT_NAME_KEY}]`));
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const k = s.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(k)) {
        errs.push(required(key('data', k)));
        break;
      }
      const bytes = decoded(s, k);
      const bad = bytes === undefined ? undefined : jsonObjectError(bytes.toString('utf8'));
      if (bad) errs.push(invalid(key('data', k), REDACTED, bad));
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) errs.push(required('data[username]'), required('data[password]'));
      break;
    case 'kubernetes.io/ssh-auth':
      if ((decoded(s, 'ssh-privatekey')?.length ?? 0) === 0 && !(has('ssh-privatekey') && base64Error(data['ssh-privatekey'] as string)))
        errs.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(required('data[tls.crt]'));
      if (!has('tls.key')) errs.push(required('data[tls.key]'));
      break;
    default:
  }
  return errs;
}

export function validateSecretUpdate(s: Secret, old: Secret): FieldError[] {
  const errs = immutableField(s.type, old.type, 'type');
  if (old.immutable === true) {
    if (s.immutable !== true) errs.push(forbidden('immutable', IMMUTABLE_WHEN_SET));
    if (!jsonEqual(s.data ?? {}, old.data ?? {})) errs.push(forbidden('data', IMMUTABLE_WHEN_SET));
  }
  errs.push(...validateSecret(s));
  return errs;
}
