// Field-level validation errors shaped like k8s.io/apimachinery's field.Error, so that messages
// shown to users (and returned in metav1 Status causes) read exactly as upstream's do.

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueTooLong'
  | 'FieldValueForbidden'
  | 'FieldValueNotFound';

export interface FieldError {
  type: FieldErrorType;
  /** Upstream field path syntax: `spec.containers[0].ports[1].containerPort`, map keys as `limits[cpu]`. */
  field: string;
  value?: unknown;
  detail?: string;
  /** A field the schema does not know, refused under fieldValidation=Strict (a decoding error upstream, not validation). */
  unknownField?: boolean;
  /** How upstream prints the value when Go's %#v shows its type (`[]networking.IngressRule(nil)`); used verbatim. */
  goValue?: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueTooLong: 'Too long',
  FieldValueForbidden: 'Forbidden',
  FieldValueNotFound: 'Not found',
};

// Upstream prints strings with Go's %q and numbers/booleans bare; JSON is the closest portable match.
function formatValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? 'null';
}

/** `field: Type text[: value][: detail]`, as field.Error.Error() renders it. */
export function formatFieldError(e: FieldError): string {
  let body = TYPE_TEXT[e.type];
  // Required/Forbidden/TooLong never echo the value upstream; an absent value means "omit" too.
  const echoesValue =
    e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden' && e.type !== 'FieldValueTooLong' && 'value' in e;
  if (echoesValue) body += `: ${e.goValue ?? formatValue(e.value)}`;
  if (e.detail) body += `: ${e.detail}`;
  return `${e.field}: ${body}`;
}

// --- constructors mirroring field.Required/Invalid/... ---

export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, value: '', detail });

export const invalid = (field: string, value: unknown, detail = ''): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  value,
  detail,
});

export const notSupported = (field: string, value: unknown, valid: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  value,
  detail: valid.length > 0 ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : '',
});

export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value });

export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, value: '', detail });

/** field.TooLong as Kubernetes 1.32 words it: the value is never shown, and the limit always reads as bytes. */
export const tooLong = (field: string, maxBytes: number): FieldError => ({
  type: 'FieldValueTooLong',
  field,
  value: '',
  detail: `may not be more than ${maxBytes} ${maxBytes === 1 ? 'byte' : 'bytes'}`,
});

export const notFound = (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value });

// --- field path building, same rendering as field.Path.String() ---

export const child = (path: string, ...names: string[]): string =>
  names.reduce((p, n) => (p === '' ? n : `${p}.${n}`), path);
export const index = (path: string, i: number): string => `${path}[${i}]`;
export const key = (path: string, k: string): string => `${path}[${k}]`;
