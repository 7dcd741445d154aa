// Errors raised while applying a patch, carrying the metav1.Status upstream's API server answers with: an ApiError,
// so the HTTP layer sends `err.toStatus()` with `err.code` like any other.
import { ApiError } from '../http/status.js';

export type PatchStatusDetails = NonNullable<ApiError['details']>;

export class PatchError extends ApiError {
  constructor(
    /** HTTP status: 400 (bad patch document), 413 (too many operations), 415, 422 (patch does not apply), 500. */
    code: number,
    /** metav1.StatusReason; '' where upstream answers StatusReasonUnknown (plain Go errors surfacing as 500). */
    reason: string,
    message: string,
    details?: PatchStatusDetails,
  ) {
    super(code, reason, message, details);
    this.name = 'PatchError';
  }

  /**
   * The underlying patch library's own text: for 422s the generic Status message hides it in details.causes[0],
   * otherwise it is the message.
   */
  get detail(): string {
    return this.details?.causes?.[0]?.message ?? this.message;
  }
}

/** errors.NewBadRequest(msg). */
export const patchBadRequest = (message: string): PatchError => new PatchError(400, 'BadRequest', message);

/**
 * errors.NewGenericServerResponse(422, "", GroupResource{}, "", serverMessage, 0, false): the Status message is the
 * generic sentence and the library's text travels as the only cause (kubectl prints "The request is invalid: ...").
 */
export const patchUnprocessable = (serverMessage: string): PatchError =>
  new PatchError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ message: serverMessage }],
  });

/** A plain Go error that upstream's handler turns into a 500 with StatusReasonUnknown. */
export const patchInternal = (message: string): PatchError => new PatchError(500, '', message);

/** errors.NewRequestEntityTooLargeError(msg). */
export const patchTooLarge = (message: string): PatchError =>
  new PatchError(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`);

/** The patch content types upstream accepts for kinds without a Go struct (CRDs): no strategic merge patch. */
export const UNSTRUCTURED_PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
] as const;

/** Every patch content type upstream accepts for built-in kinds. */
export const BUILTIN_PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;

/**
 * negotiation.NewUnsupportedMediaTypeError: a PATCH whose Content-Type the resource does not take, e.g. a strategic
 * merge patch against a kind without a schema.
 */
export class UnsupportedPatchTypeError extends PatchError {
  constructor(readonly accepted: readonly string[] = UNSTRUCTURED_PATCH_TYPES) {
    super(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    );
    this.name = 'UnsupportedPatchTypeError';
  }
}

// --- k8s.io/apimachinery/pkg/util/mergepatch errors, with the status interpretStrategicMergePatchError gives them ---

export const SMP_ERR = {
  badJSONDoc: 'invalid JSON document',
  noListOfLists: 'lists of lists are not supported',
  badPatchFormatForPrimitiveList: 'invalid patch format of primitive list',
  badPatchFormatForRetainKeys: 'invalid patch format of retainKeys',
  badPatchFormatForSetElementOrderList: 'invalid patch format of setElementOrder list',
  patchContentNotMatchRetainKeys: "patch content doesn't match retainKeys list",
  unsupportedStrategicMergePatchFormat: 'strategic merge patch format is not supported',
} as const;

/** The sentinel errors answered 400, the two answered 422; everything else a 500 as a plain error. */
export function smpError(message: string): PatchError {
  switch (message) {
    case SMP_ERR.badJSONDoc:
    case SMP_ERR.badPatchFormatForPrimitiveList:
    case SMP_ERR.badPatchFormatForRetainKeys:
    case SMP_ERR.badPatchFormatForSetElementOrderList:
    case SMP_ERR.unsupportedStrategicMergePatchFormat:
      return patchBadRequest(message);
    case SMP_ERR.noListOfLists:
    case SMP_ERR.patchContentNotMatchRetainKeys:
      return patchUnprocessable(message);
    default:
      return patchInternal(message);
  }
}
