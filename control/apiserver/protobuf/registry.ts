import protobuf from 'protobufjs';
import { SCHEMAS } from './schema/index.js';

/**
 * The protobuf schemas of the API groups Skiff decodes, parsed once into one protobufjs Root, and the map from an
 * envelope's apiVersion/kind to the message type that upstream serializes it as.
 */

let cached: protobuf.Root | undefined;

export function kubeRoot(): protobuf.Root {
  if (cached) return cached;
  const root = new protobuf.Root();
  for (const [, text] of SCHEMAS) protobuf.parse(text, root, { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

/** API group → the proto package stem under k8s.io.api (the group's first DNS label, "" being core). */
const GROUP_PACKAGES: Record<string, string> = {
  '': 'core',
  apps: 'apps',
  batch: 'batch',
  autoscaling: 'autoscaling',
  policy: 'policy',
  'rbac.authorization.k8s.io': 'rbac',
  'scheduling.k8s.io': 'scheduling',
  'coordination.k8s.io': 'coordination',
  'events.k8s.io': 'events',
  'authentication.k8s.io': 'authentication',
  'authorization.k8s.io': 'authorization',
  'networking.k8s.io': 'networking',
  'discovery.k8s.io': 'discovery',
  'certificates.k8s.io': 'certificates',
};

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** Kinds of meta/v1 that any group version may carry as a request body (options of typed client calls). */
const META_KINDS = new Set(['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'GetOptions', 'ListOptions', 'Status', 'WatchEvent']);

/** The message type for a group/version/kind, or undefined when Skiff has no schema for it. */
export function lookupKind(apiVersion: string, kind: string): protobuf.Type | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
  const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind) || !/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(version)) return undefined;
  const root = kubeRoot();
  const candidates: string[] = [];
  const stem = GROUP_PACKAGES[group];
  if (stem !== undefined) candidates.push(`k8s.io.api.${stem}.${version}.${kind}`);
  if (META_KINDS.has(kind) || group === 'meta.k8s.io') candidates.push(`${META}.${kind}`);
  for (const name of candidates) {
    const found = root.lookup(name);
    if (found instanceof protobuf.Type && !isMapEntry(found)) return found;
  }
  return undefined;
}

function isMapEntry(t: protobuf.Type): boolean {
  return t.name.endsWith('Entry') && t.parent instanceof protobuf.Type;
}
