import type { UserInfo } from '../authn.js';
import { ApiError, badRequest, qualifiedResource } from '../http/status.js';
import type { ResourceDef } from '../resources.js';
import type { Admission, RequestContext } from '../rest.js';
import type { KubeObject } from '../storage/object-storage.js';
import { resourceAttributes } from './attributes.js';
import { SYSTEM_MASTERS } from './bootstrap-policy.js';
import type { UserRequestContext } from './node.js';
import { effectiveClusterRoleRules, RBAC_GROUP, RbacAuthorizer, type PolicyRule, type RbacLister, type RoleRef } from './rbac.js';

/**
 * RBAC's escalation prevention (upstream's policybased storage of roles and bindings): a user may only write a Role
 * or ClusterRole whose rules they hold themselves (or with the `escalate` verb on it), only set an aggregationRule
 * with full authority, and only bind a role whose rules they hold (or with the `bind` verb on it). Members of
 * system:masters, and requests without a user (the server itself), are exempt.
 */

// --- Covers: upstream's component-helpers/auth/rbac/validation/policy_comparator.go ---

/** Splits a rule into rules of one group, resource, verb and name (or one URL and verb). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if ((rule.resourceNames ?? []).length > 0) {
          for (const name of rule.resourceNames ?? []) out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        } else {
          out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  return out;
}

const hasAll = (set: readonly string[] | undefined, items: readonly string[] | undefined): boolean => (items ?? []).every((i) => (set ?? []).includes(i));

function resourceCoversAll(set: readonly string[] | undefined, covers: readonly string[] | undefined): boolean {
  if ((set ?? []).includes('*') || hasAll(set, covers)) return true;
  for (const path of covers ?? []) {
    if ((set ?? []).includes(path)) continue;
    const slash = path.indexOf('/');
    if (slash < 0) return false;
    if (!(set ?? []).includes(`*/${path.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(owner: string, sub: string): boolean {
  return owner === sub || (owner.endsWith('*') && sub.startsWith(owner.replace(/\*+$/, '')));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes('*') || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes('*') || hasAll(owner.apiGroups, sub.apiGroups);
  const resources = resourceCoversAll(owner.resources, sub.resources);
  const urls = (sub.nonResourceURLs ?? []).every((p) => (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, p)));
  const ownerNames = owner.resourceNames ?? [];
  const names = (sub.resourceNames ?? []).length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, sub.resourceNames);
  return verbs && groups && resources && names && urls;
}

/** Whether the owner's rules grant everything the servant's do; the uncovered pieces when not. */
export function covers(ownerRules: readonly PolicyRule[], servantRules: readonly PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing = servantRules.flatMap(breakdownRule).filter((sub) => !ownerRules.some((o) => ruleCovers(o, sub)));
  return { covered: missing.length === 0, missing };
}

/** A rule as upstream's CompactString: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]}`. */
export function compactRuleString(rule: PolicyRule): string {
  const q = (xs: readonly string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
  const parts: string[] = [];
  if (rule.apiGroups?.length) parts.push(`APIGroups:${q(rule.apiGroups)}`);
  if (rule.resources?.length) parts.push(`Resources:${q(rule.resources)}`);
  if (rule.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(rule.nonResourceURLs)}`);
  if (rule.resourceNames?.length) parts.push(`ResourceNames:${q(rule.resourceNames)}`);
  parts.push(`Verbs:${q(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}

const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

type Authorize = (attrs: ReturnType<typeof resourceAttributes>) => Promise<{ allowed: boolean }>;

export interface EscalationOptions {
  lister: RbacLister;
  /** The full authorizer, for the `escalate` and `bind` verbs. */
  authorize: Authorize;
  /** Who is asking; by default `ctx.user`. */
  userOf?: (ctx: RequestContext) => UserInfo | undefined;
}

/** The refusal message of ConfirmNoEscalation, or undefined when the user holds every rule. */
export async function escalationMessage(rbac: RbacAuthorizer, user: UserInfo, namespace: string, rules: readonly PolicyRule[]): Promise<string | undefined> {
  const { rules: owned, errors } = await rbac.rulesFor(user, namespace);
  const { covered, missing } = covers(owned, rules);
  if (covered) return undefined;
  const lines = [...new Set(missing.map(compactRuleString))].sort();
  let msg = `user ${JSON.stringify(user.name)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
  if (errors.length > 0) msg += `; resolution errors: [${errors.join(' ')}]`;
  return msg;
}

/** Go's %q of a []string: `["a" "b"]`. */
function goQuoteList(xs: readonly string[]): string {
  return `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;
}

function forbidden(def: ResourceDef, name: string, message: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(def.group, def.resource)} ${JSON.stringify(name)} is forbidden: ${message}`, { name, group: def.group, kind: def.resource });
}

/** Escalation prevention as an admission plugin on creates and updates of Roles, ClusterRoles and their bindings. */
export function rbacEscalationAdmission(opts: EscalationOptions): Admission {
  const rbac = new RbacAuthorizer(opts.lister);
  const userOf = opts.userOf ?? ((ctx: RequestContext) => (ctx as UserRequestContext).user);
  return {
    async admit(op, def, obj, _old, ctx): Promise<void> {
      if (op === 'delete' || def.group !== RBAC_GROUP) return;
      const user = userOf(ctx);
      if (!user || user.groups.includes(SYSTEM_MASTERS)) return;
      const name = obj.metadata.name ?? '';
      const namespace = def.namespaced ? (obj.metadata.namespace ?? '') : '';
      switch (def.kind) {
        case 'Role':
        case 'ClusterRole': {
          const escalate = await opts.authorize(resourceAttributes(user, { verb: 'escalate', group: RBAC_GROUP, resource: def.resource, namespace, name }));
          if (escalate.allowed) return;
          const msg = await escalationMessage(rbac, user, namespace, (obj.rules as PolicyRule[] | undefined | null) ?? []);
          if (msg) throw forbidden(def, name, msg);
          if (def.kind === 'ClusterRole' && obj.aggregationRule && (await escalationMessage(rbac, user, '', FULL_AUTHORITY))) {
            throw forbidden(def, name, 'must have cluster-admin privileges to use the aggregationRule');
          }
          return;
        }
        case 'RoleBinding':
        case 'ClusterRoleBinding': {
          const ref = (obj.roleRef ?? {}) as RoleRef;
          const bind = await opts.authorize(resourceAttributes(user, { verb: 'bind', group: RBAC_GROUP, resource: ref.kind === 'Role' ? 'roles' : 'clusterroles', namespace, name: ref.name }));
          if (bind.allowed) return;
          const rules = await roleRefRules(opts.lister, ref, namespace);
          if (typeof rules === 'string') throw badRequest(rules);
          const msg = await escalationMessage(rbac, user, namespace, rules);
          if (msg) throw forbidden(def, name, msg);
          return;
        }
      }
    },
  };
}

async function roleRefRules(lister: RbacLister, ref: RoleRef, namespace: string): Promise<PolicyRule[] | string> {
  if (ref.kind === 'Role') {
    const role = (await lister.list('Role')).find((r) => r.metadata.namespace === namespace && r.metadata.name === ref.name);
    return role ? ((role.rules as PolicyRule[] | undefined | null) ?? []) : `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
  }
  if (ref.kind === 'ClusterRole') {
    const all: KubeObject[] = await lister.list('ClusterRole');
    const role = all.find((r) => r.metadata.name === ref.name);
    return role ? effectiveClusterRoleRules(role, all) : `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
  }
  return `unsupported role reference kind: ${JSON.stringify(ref.kind ?? '')}`;
}
