import { createHash } from 'node:crypto';
import { z } from 'zod';
import * as api from '../../api/index.js';
import { apiVersionOf, groupVersions, RESOURCES, type ResourceDef } from '../resources.js';
import { describeSchema, KIND_DESCRIPTIONS } from './descriptions.js';

/**
 * OpenAPI v3, served per group version as upstream does (/openapi/v3 lists /openapi/v3/api/v1?hash=...). kubectl reads
 * it to learn that the server validates fields itself (the fieldValidation parameter on PATCH), and `kubectl explain`
 * reads the schemas, which come from the zod schemas that define the API types.
 */

type Json = Record<string, unknown>;

/** Schema names as upstream spells them: io.k8s.api.core.v1.Pod, io.k8s.api.apps.v1.Deployment. */
export function schemaName(def: Pick<ResourceDef, 'group' | 'version' | 'kind'>): string {
  const group = def.group === '' ? 'core' : def.group.replace(/\.k8s\.io$/, '').replace(/\.authorization$/, '');
  return `io.k8s.api.${group}.${def.version}.${def.kind}`;
}

/** The zod schema of a kind when control/api defines one (exported by kind name, or prefixed by its group). */
function zodSchemaFor(def: ResourceDef): z.ZodType | undefined {
  const exports = api as Record<string, unknown>;
  // A kind served in an older version too has that version's schema as <Kind><Version> (HorizontalPodAutoscalerV1).
  const versioned = `${def.kind}${def.version.charAt(0).toUpperCase()}${def.version.slice(1)}`;
  for (const name of [`${def.group.split('.')[0] ?? ''}${def.kind}`, def.kind, versioned]) {
    const candidate = exports[name];
    if (!(candidate instanceof z.ZodType)) continue;
    // Another group's kind of the same name (core Event for events.k8s.io, autoscaling/v2 for v1) is not this one.
    const apiVersion = (candidate as { shape?: Record<string, unknown> }).shape?.apiVersion;
    if (apiVersion instanceof z.ZodType && !apiVersion.safeParse(apiVersionOf(def)).success) continue;
    return candidate;
  }
  return undefined;
}

/**
 * zod's OpenAPI 3.0 output, with int-or-string unions spelled as upstream does (type string, format int-or-string):
 * kubectl explain's templates compare `type` with a string and fail on a list of types or a missing one.
 */
function toOpenApi(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toOpenApi);
  if (!schema || typeof schema !== 'object') return schema;
  const s = schema as Json;
  const anyOf = s.anyOf as Json[] | undefined;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const types = anyOf.map((a) => a.type).sort();
    if ((types[0] === 'integer' || types[0] === 'number') && types[1] === 'string') {
      const { anyOf: _a, ...rest } = s;
      return { ...rest, type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true };
    }
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Json).map(([pk, pv]) => [pk, toOpenApi(pv)])) : toOpenApi(v);
  return out;
}

function objectSchema(def: ResourceDef): Json {
  const gvk = [{ group: def.group, version: def.version, kind: def.kind }];
  const zs = zodSchemaFor(def);
  let schema: Json;
  if (zs) {
    const { $schema: _s, ...rest } = toOpenApi(z.toJSONSchema(zs, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' })) as Json;
    schema = rest;
  } else {
    schema = {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
      'x-kubernetes-preserve-unknown-fields': true,
    };
  }
  const description = KIND_DESCRIPTIONS[def.kind] ?? `${def.kind} (${apiVersionOf(def)}), served by Skiff.`;
  return { description, ...describeSchema(def.kind, schema), 'x-kubernetes-group-version-kind': gvk };
}

const queryParam = (name: string, type = 'string'): Json => ({ name, in: 'query', schema: { type }, uniqueItems: true });

const MUTATING_PARAMS = [queryParam('dryRun'), queryParam('fieldManager'), queryParam('fieldValidation')];
const LIST_PARAMS = ['labelSelector', 'fieldSelector', 'continue', 'resourceVersion', 'resourceVersionMatch'].map((n) => queryParam(n)).concat([queryParam('limit', 'integer'), queryParam('timeoutSeconds', 'integer'), queryParam('watch', 'boolean'), queryParam('allowWatchBookmarks', 'boolean')]);

function operation(def: ResourceDef, action: string, params: Json[], ref: string): Json {
  return {
    operationId: `${action}${def.kind}`,
    parameters: params,
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: ref } } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: def.group, version: def.version, kind: def.kind },
  };
}

function pathsFor(def: ResourceDef): Record<string, Json> {
  const base = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
  const scope = def.namespaced ? `${base}/namespaces/{namespace}/${def.resource}` : `${base}/${def.resource}`;
  const ref = `#/components/schemas/${schemaName(def)}`;
  const pathParams: Json[] = def.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }] : [];
  const nameParam: Json = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
  const out: Record<string, Json> = {};
  const verbs = new Set(def.verbs);
  const collection: Json = { parameters: pathParams };
  if (verbs.has('list')) collection.get = operation(def, 'list', LIST_PARAMS, ref);
  if (verbs.has('create')) collection.post = operation(def, 'post', MUTATING_PARAMS, ref);
  if (verbs.has('deletecollection')) collection.delete = operation(def, 'deletecollection', LIST_PARAMS, ref);
  out[scope] = collection;
  const item: Json = { parameters: [...pathParams, nameParam] };
  if (verbs.has('get')) item.get = operation(def, 'get', [], ref);
  if (verbs.has('update')) item.put = operation(def, 'put', MUTATING_PARAMS, ref);
  if (verbs.has('patch')) item.patch = operation(def, 'patch', [...MUTATING_PARAMS, queryParam('force', 'boolean')], ref);
  if (verbs.has('delete')) item.delete = operation(def, 'delete', [queryParam('gracePeriodSeconds', 'integer'), queryParam('propagationPolicy'), queryParam('dryRun')], ref);
  out[`${scope}/{name}`] = item;
  if (def.subresources.includes('status')) {
    out[`${scope}/{name}/status`] = { parameters: [...pathParams, nameParam], get: operation(def, 'get', [], ref), put: operation(def, 'put', MUTATING_PARAMS, ref), patch: operation(def, 'patch', MUTATING_PARAMS, ref) };
  }
  return out;
}

const documents = new Map<string, { doc: Json; hash: string }>();

/** The OpenAPI v3 document of one group version, built once. */
export function groupVersionDocument(group: string, version: string): { doc: Json; hash: string } | undefined {
  const key = `${group}/${version}`;
  const cached = documents.get(key);
  if (cached) return cached;
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const paths: Record<string, Json> = {};
  const schemas: Record<string, Json> = {};
  for (const def of defs) {
    Object.assign(paths, pathsFor(def));
    schemas[schemaName(def)] = objectSchema(def);
  }
  const doc: Json = { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-skiff' }, paths, components: { schemas } };
  const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 64).toUpperCase();
  const entry = { doc, hash };
  documents.set(key, entry);
  return entry;
}

/** GET /openapi/v3: where each group version's document lives, with a hash clients use to cache it. */
export function openApiV3Discovery(): Json {
  const paths: Record<string, Json> = {};
  for (const g of groupVersions()) {
    for (const v of g.versions) {
      const entry = groupVersionDocument(g.group, v);
      if (!entry) continue;
      const path = g.group === '' ? `api/${v}` : `apis/${g.group}/${v}`;
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${entry.hash}` };
    }
  }
  return { paths };
}

/**
 * GET /openapi/v2: a Swagger 2.0 document with no paths and no definitions. Skiff describes its API in OpenAPI v3
 * only; kubectl before 1.28 fetches v2 (as gnostic protobuf) before `create -f` and `apply` and fails when it is
 * missing, then finds no schema in it and relies on the server's field validation, which the v3 documents advertise.
 */
export function openApiV2Document(protobuf: boolean): { body: Buffer; contentType: string } {
  if (!protobuf) {
    const body = Buffer.from(JSON.stringify({ swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0-skiff' }, paths: {}, definitions: {} }));
    return { body, contentType: 'application/json' };
  }
  // openapi.v2.Document (gnostic): swagger = 1, info = 2 (title = 1, version = 2), paths = 8, definitions = 9. Every
  // value here is shorter than 128 bytes, so each length is a single varint byte.
  const field = (num: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([(num << 3) | 2, value.length]), value]);
  const info = Buffer.concat([field(1, Buffer.from('Kubernetes')), field(2, Buffer.from('v1.32.0-skiff'))]);
  const body = Buffer.concat([field(1, Buffer.from('2.0')), field(2, info), field(8, Buffer.alloc(0)), field(9, Buffer.alloc(0))]);
  return { body, contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf' };
}
