import protobuf from 'protobufjs';
import { ApiError } from '../http/status.js';
import { ConvertError, Converter } from './convert.js';
import { kubeRoot, lookupKind } from './registry.js';

export { formatDuration, formatTime } from './convert.js';
export { lookupKind } from './registry.js';

/** The media type kubectl and client-go use for protobuf bodies. */
export const KUBE_PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** The 4 bytes every Kubernetes protobuf object starts with: "k8s\0". */
export const KUBE_PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** A protobuf body Skiff cannot turn into an object: a 400 BadRequest (or 415 for an encoding it does not speak). */
export class KubeProtobufError extends ApiError {
  constructor(message: string, code = 400, reason = 'BadRequest') {
    super(code, reason, message);
    this.name = 'KubeProtobufError';
  }
}

/** Whether a Content-Type header names Kubernetes protobuf. */
export function isKubeProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === KUBE_PROTOBUF;
}

export interface DecodedKubeObject {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

const MAX_DEPTH = 8;

function decodeAt(body: Buffer, depth: number): DecodedKubeObject {
  if (depth > MAX_DEPTH) throw new KubeProtobufError('protobuf objects nest too deeply');
  if (body.length < KUBE_PROTOBUF_MAGIC.length || !body.subarray(0, 4).equals(KUBE_PROTOBUF_MAGIC)) {
    throw new KubeProtobufError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const root = kubeRoot();
  const unknownType = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  let envelope: Record<string, unknown>;
  try {
    envelope = unknownType.decode(body.subarray(4)) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new KubeProtobufError(`unable to decode the protobuf envelope: ${err instanceof Error ? err.message : String(err)}`);
  }
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (!kind) throw new KubeProtobufError("Object 'Kind' is missing in the protobuf envelope");
  if (!apiVersion) throw new KubeProtobufError(`Object 'apiVersion' is missing in the protobuf envelope of kind ${kind}`);
  const encoding = String(envelope.contentEncoding ?? '');
  if (encoding !== '') throw new KubeProtobufError(`unsupported protobuf content encoding "${encoding}"`, 415, 'UnsupportedMediaType');
  const contentType = String(envelope.contentType ?? '');
  const raw = Buffer.from((envelope.raw as Uint8Array | undefined) ?? new Uint8Array());
  if (contentType !== '' && contentType !== KUBE_PROTOBUF) {
    if (contentType === 'application/json') {
      try {
        const obj = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        return { apiVersion, kind, object: { ...obj, apiVersion, kind } };
      } catch (err) {
        throw new KubeProtobufError(`unable to decode the JSON inside the protobuf envelope: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new KubeProtobufError(`unsupported content type "${contentType}" inside the protobuf envelope`, 415, 'UnsupportedMediaType');
  }
  const type = lookupKind(apiVersion, kind);
  if (!type) throw new KubeProtobufError(`no kind "${kind}" is registered for version "${apiVersion}" in scheme "skiff protobuf"`);
  let message: Record<string, unknown>;
  try {
    message = type.decode(raw) as unknown as Record<string, unknown>;
  } catch (err) {
    throw new KubeProtobufError(`unable to decode ${kind} (${apiVersion}) from protobuf: ${err instanceof Error ? err.message : String(err)}`);
  }
  let converted: unknown;
  try {
    converted = new Converter({}, (b) => decodeAt(b, depth + 1).object).message(type, message);
  } catch (err) {
    if (err instanceof KubeProtobufError) throw err;
    if (err instanceof ConvertError || err instanceof Error) throw new KubeProtobufError(`unable to convert ${kind} (${apiVersion}) from protobuf: ${err.message}`);
    throw err;
  }
  const object = { apiVersion, kind, ...(converted as Record<string, unknown>) };
  return { apiVersion, kind, object };
}

/**
 * Decodes a request body sent as `application/vnd.kubernetes.protobuf`: the "k8s\0" magic, a runtime.Unknown envelope
 * naming apiVersion and kind, and the object's own message, returned in the JSON form the API uses. Malformed input
 * and kinds without a schema throw KubeProtobufError (an ApiError: 400 BadRequest, or 415 for encodings Skiff lacks).
 */
export function decodeKubeProtobuf(body: Buffer): DecodedKubeObject {
  return decodeAt(body, 0);
}

/** For tests and tools: encodes an object message the way client-go does (magic + runtime.Unknown). */
export function encodeKubeProtobuf(apiVersion: string, kind: string, message: Record<string, unknown>): Buffer {
  const type = lookupKind(apiVersion, kind);
  if (!type) throw new KubeProtobufError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const raw = type.encode(type.fromObject(message)).finish();
  const unknownType = kubeRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const env = unknownType.encode(unknownType.fromObject({ typeMeta: { apiVersion, kind }, raw, contentEncoding: '', contentType: '' })).finish();
  return Buffer.concat([KUBE_PROTOBUF_MAGIC, env]);
}
