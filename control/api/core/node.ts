// core/v1 Node: podCIDR/podCIDRs kept in step (the v1 conversion), SetDefaults_NodeStatus, ValidateNode and
// ValidateNodeUpdate (podCIDRs and providerID set once, taints, resource quantities, unique addresses).
import { z } from 'zod';
import { duplicate, forbidden, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { isQualifiedName, isValidLabelValue } from '../names.js';
import { ResourceList } from '../pod.js';
import { cidrFamilyOf, jsonEqual, validateCIDR, validateResourceQuantityValue } from './common.js';

const int = () => z.number().int();
const loose = () => z.looseObject({});

export const Taint = z.object({
  key: z.string().default(''),
  value: z.string().optional(),
  effect: z.string().default(''),
  timeAdded: z.string().optional(),
});
export type Taint = z.output<typeof Taint>;

export const NodeSpec = z
  .object({
    podCIDR: z.string().optional(),
    podCIDRs: z.array(z.string()).optional(),
    providerID: z.string().optional(),
    unschedulable: z.boolean().optional(),
    taints: z.array(Taint).optional(),
    configSource: loose().optional(),
    externalID: z.string().optional(),
  })
  .transform((s) => {
    // The API stores only podCIDRs; podCIDR is served as its first entry.
    const cidrs = (s.podCIDRs ?? []).length > 0 ? s.podCIDRs : s.podCIDR ? [s.podCIDR] : undefined;
    return { ...s, podCIDRs: cidrs, podCIDR: cidrs?.[0] };
  });
export type NodeSpec = z.output<typeof NodeSpec>;

export const NodeCondition = z.object({
  type: z.string().default(''),
  status: z.string().default(''),
  lastHeartbeatTime: z.string().nullable().optional(),
  lastTransitionTime: z.string().nullable().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export const NodeAddress = z.object({ type: z.string().default(''), address: z.string().default('') });
export const NodeSystemInfo = z.looseObject({
  machineID: z.string().optional(),
  systemUUID: z.string().optional(),
  bootID: z.string().optional(),
  kernelVersion: z.string().optional(),
  osImage: z.string().optional(),
  containerRuntimeVersion: z.string().optional(),
  kubeletVersion: z.string().optional(),
  kubeProxyVersion: z.string().optional(),
  operatingSystem: z.string().optional(),
  architecture: z.string().optional(),
});

export const NodeStatus = z
  .object({
    capacity: ResourceList.optional(),
    allocatable: ResourceList.optional(),
    phase: z.string().optional(),
    conditions: z.array(NodeCondition).optional(),
    addresses: z.array(NodeAddress).optional(),
    daemonEndpoints: z.object({ kubeletEndpoint: z.object({ Port: int().default(0) }).optional() }).optional(),
    nodeInfo: NodeSystemInfo.optional(),
    images: z.array(z.object({ names: z.array(z.string()).optional(), sizeBytes: int().optional() })).optional(),
    volumesInUse: z.array(z.string()).optional(),
    volumesAttached: z.array(z.object({ name: z.string().default(''), devicePath: z.string().default('') })).optional(),
    config: loose().optional(),
    runtimeHandlers: z.array(loose()).optional(),
    features: loose().optional(),
    declaredFeatures: z.array(z.string()).optional(),
  })
  // SetDefaults_NodeStatus: allocatable is the capacity unless reported separately.
  .transform((s) => (s.allocatable === undefined && s.capacity !== undefined ? { ...s, allocatable: { ...s.capacity } } : s));
export type NodeStatus = z.output<typeof NodeStatus>;

export const Node = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Node'),
  metadata: ObjectMeta.prefault({}),
  spec: NodeSpec.prefault({}),
  status: NodeStatus.optional(),
});
export type Node = z.output<typeof Node>;

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** validateNodeTaints: key is a label name, value a label value, effect one of three, (key, effect) unique. */
export function validateTaints(taints: Taint[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((t, i) => {
    const p = index(path, i);
    errs.push(...isQualifiedName(t.key).map((m) => invalid(`${p}.key`, t.key, m)));
    const valueErrs = isValidLabelValue(t.value ?? '');
    if (valueErrs.length > 0) errs.push(invalid(`${p}.value`, t.value ?? '', valueErrs.join(';')));
    if (t.effect === '') errs.push(required(`${p}.effect`));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
    const k = `${t.effect}\u0000${t.key}`;
    if (seen.has(k)) {
      errs.push({ ...duplicate(p, t), detail: 'taints must be unique by key and effect pair' });
      return;
    }
    seen.add(k);
  });
  return errs;
}

function validateNodeResources(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  // Upstream builds these paths with Child, not Key: status.capacity.cpu.
  for (const [k, v] of Object.entries(node.status?.capacity ?? {})) errs.push(...validateResourceQuantityValue(k, v, `status.capacity.${k}`));
  for (const [k, v] of Object.entries(node.status?.allocatable ?? {})) errs.push(...validateResourceQuantityValue(k, v, `status.allocatable.${k}`));
  return errs;
}

/** ValidateNode (create). */
export function validateNode(node: Node): FieldError[] {
  const errs = validateObjectMeta(node.metadata, { namespaced: false });
  // Upstream reports taint problems under metadata.taints, a path quirk kept for identical messages.
  errs.push(...validateTaints(node.spec.taints ?? [], 'metadata.taints'));
  errs.push(...validateNodeResources(node));
  const cidrs = node.spec.podCIDRs ?? [];
  cidrs.forEach((c, i) => errs.push(...validateCIDR(c, index('spec.podCIDRs', i))));
  if (cidrs.length > 1) {
    const fams = cidrs.map(cidrFamilyOf);
    if (cidrs.length > 2 || fams[0] === fams[1]) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(duplicate(index('spec.podCIDRs', i), c));
      seen.add(c);
    });
  }
  return errs;
}

const CIDR_ONCE = 'node updates may not change podCIDR except from "" to valid';

/** ValidateNodeUpdate: the create rules plus podCIDRs/providerID set once and unique status addresses. */
export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  // Upstream runs ValidateNode and ValidateNodeUpdate, which repeats the taint and resource errors; they appear once here.
  const errs = validateNode(node);
  const seen: Array<{ type: string; address: string }> = [];
  (node.status?.addresses ?? []).forEach((a, i) => {
    if (seen.some((s) => jsonEqual(s, a))) errs.push(duplicate(index('status.addresses', i), a));
    seen.push(a);
  });
  const oldCIDRs = old.spec.podCIDRs ?? [];
  const cidrs = node.spec.podCIDRs ?? [];
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== cidrs.length) errs.push(forbidden('spec.podCIDRs', CIDR_ONCE));
    else oldCIDRs.forEach((c, i) => c !== cidrs[i] && errs.push(forbidden('spec.podCIDRs', CIDR_ONCE)));
  }
  if (old.spec.providerID && old.spec.providerID !== node.spec.providerID)
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  if ((node.spec.externalID ?? '') !== (old.spec.externalID ?? '')) errs.push(forbidden('spec.externalID', 'may not be updated'));
  return errs;
}
