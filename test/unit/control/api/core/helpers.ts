// Decode + validate helpers for the core/v1 kinds: the formatted error lines, or the defaulted object.
import type { z } from 'zod';
import { decodeKind, formatFieldError, type FieldError } from '../../../../../control/api/index.js';

export type Json = any;

export function decode<S extends z.ZodType>(schema: S, input: Json): z.output<S> {
  const kind = input.kind as string;
  const r = decodeKind(schema, input, { apiVersion: input.apiVersion, kind });
  if (!r.ok) throw new Error(`expected ${kind} to decode:\n${r.errors.map(formatFieldError).join('\n')}`);
  return r.obj;
}

/** Decode (with defaults) and validate; the error lines as kubectl prints them. */
export function errorsOf<S extends z.ZodType>(schema: S, validate: (o: z.output<S>) => FieldError[], input: Json): string[] {
  const r = decodeKind(schema, input, { apiVersion: input.apiVersion, kind: input.kind });
  if (!r.ok) return r.errors.map(formatFieldError);
  return validate(r.obj).map(formatFieldError);
}

export function updateErrorsOf<S extends z.ZodType>(
  schema: S,
  validate: (o: z.output<S>, old: z.output<S>) => FieldError[],
  input: Json,
  old: Json,
  prepare?: (o: z.output<S>, old: z.output<S>) => z.output<S>,
): string[] {
  const o = decode(schema, old);
  let n = decode(schema, input);
  if (prepare) n = prepare(n, o);
  return validate(n, o).map(formatFieldError);
}

export const clone = <T>(v: T): T => structuredClone(v);

export const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
export const LABEL_KEY_NAME =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
export const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
export const CONFIG_KEY =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
export const PORT_RANGE = 'must be between 1 and 65535, inclusive';
export const IP = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
export const CIDR = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';
