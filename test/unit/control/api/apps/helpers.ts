// Shared fixtures for the non-core kinds: minimal valid manifests and a way to print errors as kubectl shows them.
import { formatFieldError, type FieldError } from '../../../../../control/api/index.js';

export type Obj = { [k: string]: any };

type Result = { ok: true; object: unknown; warnings: string[] } | { ok: false; errors: FieldError[] };

/** The formatted error lines of a parse result (empty when valid). */
export const lines = (r: Result): string[] => (r.ok ? [] : r.errors.map(formatFieldError));

/** The parsed object of a result that must be valid. */
export function must<T>(r: { ok: true; object: T; warnings: string[] } | { ok: false; errors: FieldError[] }): T {
  if (!r.ok) throw new Error(`expected a valid object, got:\n${r.errors.map(formatFieldError).join('\n')}`);
  return r.object;
}

export const podTemplate = (labels: Record<string, string> = { app: 'web' }): Obj => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] },
});

export function deployment(edit: (d: Obj) => void = () => {}): Obj {
  const d: Obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: podTemplate() },
  };
  edit(d);
  return d;
}

export function workload(kind: string, edit: (d: Obj) => void = () => {}): Obj {
  const d = deployment();
  d.kind = kind;
  edit(d);
  return d;
}

export const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
export const LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const PERCENT = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";
