// networking.k8s.io/v1 NetworkPolicy: the schema (field names and optionality as k8s.io/api/networking/v1 types.go)
// with upstream's defaulting (pkg/apis/networking/v1/defaults.go): a port without a protocol is TCP, and a policy that
// names no policyTypes is an Ingress policy, and an Egress one too when it has egress rules. Skiff stores and serves
// NetworkPolicies but enforces none, as upstream without a network plugin that implements them.
import { z } from 'zod';
import { int, IntOrString, LabelSelector, NamespacedMeta } from '../apps/common.js';

export const NETWORK_POLICY_TYPES = ['Ingress', 'Egress'] as const;
/** The protocols a NetworkPolicyPort may name, in the order upstream lists them. */
export const NETWORK_POLICY_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

export const NetworkPolicyPort = z.object({
  // A pointer upstream: only an absent protocol is defaulted; an explicit "" stays and is refused.
  protocol: z.string().default('TCP'),
  port: IntOrString.optional(),
  endPort: int().optional(),
});
export type NetworkPolicyPort = z.output<typeof NetworkPolicyPort>;

export const IPBlock = z.object({
  cidr: z.string().default(''),
  except: z.array(z.string()).optional(),
});
export type IPBlock = z.output<typeof IPBlock>;

export const NetworkPolicyPeer = z.object({
  podSelector: LabelSelector.optional(),
  namespaceSelector: LabelSelector.optional(),
  ipBlock: IPBlock.optional(),
});
export type NetworkPolicyPeer = z.output<typeof NetworkPolicyPeer>;

export const NetworkPolicyIngressRule = z.object({
  ports: z.array(NetworkPolicyPort).optional(),
  from: z.array(NetworkPolicyPeer).optional(),
});
export type NetworkPolicyIngressRule = z.output<typeof NetworkPolicyIngressRule>;

export const NetworkPolicyEgressRule = z.object({
  ports: z.array(NetworkPolicyPort).optional(),
  to: z.array(NetworkPolicyPeer).optional(),
});
export type NetworkPolicyEgressRule = z.output<typeof NetworkPolicyEgressRule>;

export const NetworkPolicySpec = z
  .object({
    // A struct upstream (no pointer): always serialised, {} selecting every pod of the namespace.
    podSelector: LabelSelector.prefault({}),
    ingress: z.array(NetworkPolicyIngressRule).optional(),
    egress: z.array(NetworkPolicyEgressRule).optional(),
    policyTypes: z.array(z.string()).optional(),
  })
  .transform((s) => {
    if ((s.policyTypes ?? []).length > 0) return s;
    const policyTypes = (s.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
    return { ...s, policyTypes };
  });
export type NetworkPolicySpec = z.output<typeof NetworkPolicySpec>;

export const NetworkPolicy = z.object({
  apiVersion: z.literal('networking.k8s.io/v1'),
  kind: z.literal('NetworkPolicy'),
  metadata: NamespacedMeta.prefault({}),
  spec: NetworkPolicySpec.prefault({}),
});
export type NetworkPolicy = z.output<typeof NetworkPolicy>;
