import type { FieldError } from '../../api/index.js';
import { formatFieldError } from '../../api/index.js';

/** A metav1.Status failure, thrown by handlers and turned into the response by the server. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: { name?: string; group?: string; kind?: string; causes?: Array<{ reason?: string; message?: string; field?: string }>; retryAfterSeconds?: number },
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      // An error upstream did not classify has no reason (StatusReasonUnknown, omitted): kubectl prints "Error from server: ...".
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** "pods", "deployments.apps": how upstream names a resource in error messages. */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (group: string, resource: string, name: string): ApiError =>
  new ApiError(404, 'NotFound', `${qualifiedResource(group, resource)} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

export const alreadyExists = (group: string, resource: string, name: string): ApiError =>
  new ApiError(409, 'AlreadyExists', `${qualifiedResource(group, resource)} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource });

export const conflict = (group: string, resource: string, name: string, why: string): ApiError =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(group, resource)} "${name}": ${why}`, { name, ...(group ? { group } : {}), kind: resource });

export const badRequest = (message: string): ApiError => new ApiError(400, 'BadRequest', message);

export const methodNotAllowed = (method: string): ApiError => new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);

export const gone = (message: string): ApiError => new ApiError(410, 'Expired', message);

/** 422 with one cause per field error, worded as upstream's NewInvalid. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  // The message lists each distinct error once (upstream's ErrorList.ToAggregate); the causes keep them all.
  const formatted = errors.map(formatFieldError);
  const texts = [...new Set(formatted)];
  const list = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: errors.map((e, i) => ({ reason: e.type, message: formatted[i]?.slice(e.field.length + 2) ?? '', field: e.field })),
  });
}
