import { z } from 'zod';
import type { Pod, ResourceList, Volume } from '../../control/api/index.js';
import { DownwardAPIVolumeFile } from '../../control/api/pod.js';
import { containerResourceValue, DownwardAPIError, findContainer, podFieldPathValue } from './downward-api.js';

/**
 * What the object-backed volumes (configMap, secret, downwardAPI, projected) contain: upstream's MakePayload,
 * CollectData and the projected plugin's collectData, as pure functions from the pod and its objects to files.
 */

export class VolumeError extends Error {}

/** A file of a configMap/secret/downwardAPI/projected volume: its path inside the volume, content and mode. */
export interface ProjectedFile {
  path: string;
  content: Buffer;
  mode: number;
}

/** Where object-backed volumes get their data in cluster mode (values as stored: secret data base64). */
export interface VolumeObjects {
  configMap(namespace: string, name: string): { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined;
  secret(namespace: string, name: string): { data?: Record<string, string> } | undefined;
  /**
   * The pod's service account token for a serviceAccountToken projection, fetched before the sync by the token
   * manager; throws (with upstream's "failed to fetch token: ..." message) when there is none to give.
   */
  serviceAccountToken?(pod: Pod, projection: { audience?: string; expirationSeconds: number }): string;
  /** What `limits.*` of a container without that limit reads (the node's allocatable); default this host's. */
  nodeAllocatable?(): ResourceList;
}

/** Upstream's ServiceAccountTokenProjection defaults and bounds (the API's default and its validation). */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;

const KeyToPath = z.object({ key: z.string().default(''), path: z.string().default(''), mode: z.number().int().optional() });
const ObjectProjection = z.object({ name: z.string().default(''), items: z.array(KeyToPath).optional(), optional: z.boolean().optional() });
const DownwardAPIProjection = z.object({ items: z.array(DownwardAPIVolumeFile).optional() });
const ServiceAccountTokenProjection = z.object({
  audience: z.string().optional(),
  expirationSeconds: z.number().int().optional(),
  path: z.string().default(''),
});
/** One entry of projected.sources (the API schema keeps them opaque; the agent reads them here). */
export const VolumeProjection = z.object({
  secret: ObjectProjection.optional(),
  configMap: ObjectProjection.optional(),
  downwardAPI: DownwardAPIProjection.optional(),
  serviceAccountToken: ServiceAccountTokenProjection.optional(),
  clusterTrustBundle: z.unknown().optional(),
  podCertificate: z.unknown().optional(),
});
export type VolumeProjection = z.output<typeof VolumeProjection>;

/** Upstream's aggregate error text: one message as is, several as "[a, b]" (duplicates once). */
export function aggregateMessage(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] as string) : `[${unique.join(', ')}]`;
}

const setUpFailed = (vol: Volume, messages: string[]): VolumeError => new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}" : ${aggregateMessage(messages)}`);

type Kind = 'configMap' | 'secret';

/** MakePayload for one ConfigMap or Secret: every key, or the items asked for; throws the message upstream gives. */
function keyPayload(kind: Kind, name: string, obj: ReturnType<VolumeObjects['configMap']>, items: Array<{ key: string; path: string; mode?: number | undefined }> | undefined, defaultMode: number, optional: boolean): ProjectedFile[] {
  if (!obj) {
    if (optional) return [];
    throw new Error(`${kind === 'configMap' ? 'configmap' : 'secret'} "${name}" not found`);
  }
  const values = new Map<string, Buffer>();
  if (kind === 'configMap') {
    for (const [k, v] of Object.entries(obj.data ?? {})) values.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(obj.binaryData ?? {})) values.set(k, Buffer.from(v, 'base64'));
  } else {
    for (const [k, v] of Object.entries(obj.data ?? {})) values.set(k, Buffer.from(v, 'base64'));
  }
  if (!items || items.length === 0) return [...values].map(([path, content]) => ({ path, content, mode: defaultMode }));
  const files: ProjectedFile[] = [];
  for (const item of items) {
    const content = values.get(item.key);
    if (content === undefined) {
      if (optional) continue;
      throw new Error(`${kind === 'configMap' ? 'configmap references non-existent config key' : 'references non-existent secret key'}: ${item.key}`);
    }
    files.push({ path: item.path, content, mode: item.mode ?? defaultMode });
  }
  return files;
}

/** The payload of a configMap or secret volume. */
export function objectPayload(vol: Volume, objects: VolumeObjects, namespace: string): ProjectedFile[] {
  const kind: Kind = vol.configMap ? 'configMap' : 'secret';
  const src = (vol.configMap ?? vol.secret) as { items?: Array<{ key: string; path: string; mode?: number }>; defaultMode?: number; optional?: boolean };
  const name = (kind === 'configMap' ? vol.configMap?.name : vol.secret?.secretName) ?? '';
  const obj = kind === 'configMap' ? objects.configMap(namespace, name) : objects.secret(namespace, name);
  try {
    return keyPayload(kind, name, obj, src.items, src.defaultMode ?? 0o644, src.optional === true);
  } catch (err) {
    throw setUpFailed(vol, [(err as Error).message]);
  }
}

/**
 * CollectData: one file per item, from the pod's metadata (fieldRef) or a container's resources (resourceFieldRef,
 * limits falling back to the node's allocatable). Errors are collected, not stopped at.
 */
function downwardFiles(pod: Pod, items: DownwardAPIVolumeFile[], defaultMode: number, allocatable: () => ResourceList, errors: string[]): ProjectedFile[] {
  const files: ProjectedFile[] = [];
  for (const item of items) {
    try {
      let value: string;
      if (item.fieldRef) value = podFieldPathValue(pod, item.fieldRef.fieldPath);
      else if (item.resourceFieldRef) {
        const ref = item.resourceFieldRef;
        value = containerResourceValue(findContainer(pod, ref.containerName ?? ''), ref.resource, ref.divisor, allocatable());
      } else continue;
      files.push({ path: item.path, content: Buffer.from(value, 'utf8'), mode: item.mode ?? defaultMode });
    } catch (err) {
      // Unsupported paths and resources, and quantities that do not parse (the API does not check a volume's
      // divisor), are the pod's error to report, never the agent's crash.
      errors.push(err instanceof DownwardAPIError ? err.message : `${item.path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return files;
}

/** The payload of a downwardAPI volume. */
export function downwardPayload(vol: Volume, pod: Pod, allocatable: () => ResourceList): ProjectedFile[] {
  const errors: string[] = [];
  const files = downwardFiles(pod, vol.downwardAPI?.items ?? [], vol.downwardAPI?.defaultMode ?? 0o644, allocatable, errors);
  if (errors.length > 0) throw setUpFailed(vol, errors);
  return files;
}

/** The projected volume's sources, read through the schema; a malformed one is the pod's error, not a crash. */
export function projectedSources(vol: Volume): VolumeProjection[] {
  const parsed = z.array(VolumeProjection).safeParse(vol.projected?.sources ?? []);
  if (!parsed.success) {
    throw new VolumeError(`volume "${vol.name}": invalid projected sources: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Whether any source of the volume needs the API server (static pods may only project the downward API). */
export const needsApiServer = (src: VolumeProjection): boolean => Boolean(src.secret ?? src.configMap ?? src.serviceAccountToken);

/**
 * The projected plugin's collectData: every source's files in one payload (a later source's file replaces an
 * earlier one at the same path), each with the volume's defaultMode unless an item says otherwise; the errors of
 * all sources reported together.
 */
export function projectedPayload(vol: Volume, pod: Pod, objects: VolumeObjects | undefined, allocatable: () => ResourceList): ProjectedFile[] {
  const defaultMode = vol.projected?.defaultMode ?? 0o644;
  const ns = pod.metadata.namespace;
  const payload = new Map<string, ProjectedFile>();
  const errors: string[] = [];
  const add = (files: ProjectedFile[]): void => files.forEach((f) => payload.set(f.path, f));
  for (const src of projectedSources(vol)) {
    if (needsApiServer(src) && !objects) throw new VolumeError(`volume "${vol.name}": projected secret, configMap and serviceAccountToken sources need the API server; static pods cannot use them`);
    try {
      if (src.secret) {
        add(keyPayload('secret', src.secret.name, objects?.secret(ns, src.secret.name), src.secret.items, defaultMode, src.secret.optional === true));
      } else if (src.configMap) {
        add(keyPayload('configMap', src.configMap.name, objects?.configMap(ns, src.configMap.name), src.configMap.items, defaultMode, src.configMap.optional === true));
      } else if (src.downwardAPI) {
        add(downwardFiles(pod, src.downwardAPI.items ?? [], defaultMode, allocatable, errors));
      } else if (src.serviceAccountToken) {
        const tp = src.serviceAccountToken;
        const expirationSeconds = tp.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
        if (expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) throw new Error('serviceAccountToken.expirationSeconds: may not specify a duration less than 10 minutes');
        if (!objects?.serviceAccountToken) throw new Error('failed to fetch token: no token manager');
        const token = objects.serviceAccountToken(pod, { ...(tp.audience ? { audience: tp.audience } : {}), expirationSeconds });
        add([{ path: tp.path, content: Buffer.from(token, 'utf8'), mode: defaultMode }]);
      } else if (src.clusterTrustBundle !== undefined || src.podCertificate !== undefined) {
        throw new Error(`${src.clusterTrustBundle !== undefined ? 'clusterTrustBundle' : 'podCertificate'} projections are not supported by this node`);
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length > 0) throw setUpFailed(vol, errors);
  return [...payload.values()];
}

/** Token projections of a pod's projected volumes, with their defaults applied: what the token manager must fetch. */
export function podTokenProjections(pod: Pod): Array<{ audience?: string; expirationSeconds: number }> {
  const out: Array<{ audience?: string; expirationSeconds: number }> = [];
  for (const vol of pod.spec.volumes ?? []) {
    if (!vol.projected) continue;
    const parsed = z.array(VolumeProjection).safeParse(vol.projected.sources ?? []);
    if (!parsed.success) continue;
    for (const src of parsed.data) {
      const tp = src.serviceAccountToken;
      if (!tp) continue;
      const expirationSeconds = tp.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
      if (expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) continue;
      out.push({ ...(tp.audience ? { audience: tp.audience } : {}), expirationSeconds });
    }
  }
  return out;
}
