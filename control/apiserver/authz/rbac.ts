import { matchesLabels, selectorFromSpec, SelectorError, type LabelSelectorSpec } from '../../api/selectors.js';
import type { UserInfo } from '../authn.js';
import type { KubeObject } from '../storage/object-storage.js';
import { combinedResource, type Attributes } from './attributes.js';

/**
 * Role-based access control as upstream's RBAC authorizer (plugin/pkg/auth/authorizer/rbac): the rules of every
 * ClusterRoleBinding and, in the request's namespace, every RoleBinding whose subjects include the user are tried in
 * turn; the first rule that covers the request allows it. RBAC never denies: no matching rule is "no opinion".
 */

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind: string;
  name: string;
}

export type RbacKind = 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';

/** Where the RBAC objects come from: every object of a kind, across namespaces. */
export interface RbacLister {
  list(kind: RbacKind): Promise<KubeObject[]>;
}

/** An authorizer's answer: allowed, or no opinion (with a reason to show when nobody allows). */
export interface Decision {
  allowed: boolean;
  reason: string;
  /** An explicit denial that stops the union (RBAC never gives one). */
  denied?: boolean;
}

// --- Rule matching: upstream's pkg/apis/rbac/v1/evaluation_helpers.go ---

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

/**
 * "*" matches every resource and subresource, "pods/log" exactly that subresource, and "*\/scale" the scale
 * subresource of any resource. Like upstream, "pods/*" is not a wildcard: it only names a subresource called "*".
 */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (!subresource) continue;
    if (r.length === subresource.length + 2 && r.startsWith('*/') && r.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** "*" matches every path, "/apis/*" every path under "/apis/" (a trailing * is a prefix match), others exactly. */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(attrs: Attributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup) &&
      resourceMatches(rule, combinedResource(attrs), attrs.subresource) &&
      resourceNameMatches(rule, attrs.name)
    );
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
}

export function rulesAllow(attrs: Attributes, rules: readonly PolicyRule[]): boolean {
  return rules.some((r) => ruleAllows(attrs, r));
}

// --- Subjects: upstream's appliesToUser ---

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}

/** The groups a service account's token carries: system:serviceaccounts and system:serviceaccounts:<namespace>. */
export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
}

/**
 * Whether a binding subject names the user: a User by name, a Group by membership, a ServiceAccount by its username
 * (a subject without a namespace means the binding's own namespace; in a ClusterRoleBinding it matches nothing).
 */
export function appliesToUser(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.name === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const ns = subject.namespace || bindingNamespace;
      if (!ns) return false;
      return user.name === serviceAccountUsername(ns, subject.name);
    }
    default:
      return false;
  }
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

// --- Aggregation: upstream's clusterrole-aggregation controller, evaluated when rules are read ---

interface AggregationRule {
  clusterRoleSelectors?: LabelSelectorSpec[];
}

function selectorMatches(spec: LabelSelectorSpec, labels: Record<string, string> | undefined): boolean {
  try {
    const reqs = selectorFromSpec(spec);
    return reqs !== 'nothing' && matchesLabels(reqs, labels);
  } catch (err) {
    if (err instanceof SelectorError) return false;
    throw err;
  }
}

function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  const eq = (x: string[] | undefined, y: string[] | undefined): boolean => (x ?? []).length === (y ?? []).length && (x ?? []).every((v, i) => v === (y ?? [])[i]);
  return eq(a.verbs, b.verbs) && eq(a.apiGroups, b.apiGroups) && eq(a.resources, b.resources) && eq(a.resourceNames, b.resourceNames) && eq(a.nonResourceURLs, b.nonResourceURLs);
}

/**
 * The rules a ClusterRole grants. One with an aggregationRule grants the union of the rules of every other
 * ClusterRole whose labels match one of its selectors (in name order, duplicates dropped), as upstream's controller
 * writes them; aggregation nests (admin ← edit ← view) and cycles are cut.
 */
export function effectiveClusterRoleRules(role: KubeObject, all: readonly KubeObject[], visiting: Set<string> = new Set()): PolicyRule[] {
  const agg = role.aggregationRule as AggregationRule | undefined | null;
  const own = (role.rules as PolicyRule[] | undefined | null) ?? [];
  if (!agg) return own;
  const name = role.metadata.name ?? '';
  visiting.add(name);
  const out: PolicyRule[] = [];
  const matching = all
    .filter((r) => r.metadata.name !== name && (agg.clusterRoleSelectors ?? []).some((s) => selectorMatches(s, r.metadata.labels)))
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const m of matching) {
    if (visiting.has(m.metadata.name ?? '')) {
      // Part of a cycle: take what it states, without following it further.
      for (const rule of (m.rules as PolicyRule[] | undefined | null) ?? []) if (!out.some((o) => sameRule(o, rule))) out.push(rule);
      continue;
    }
    for (const rule of effectiveClusterRoleRules(m, all, new Set(visiting))) if (!out.some((o) => sameRule(o, rule))) out.push(rule);
  }
  return out;
}

// --- The authorizer ---

interface Snapshot {
  clusterRoles: Map<string, KubeObject>;
  clusterRoleList: KubeObject[];
  roles: Map<string, KubeObject>;
  roleBindings: KubeObject[];
  clusterRoleBindings: KubeObject[];
  aggregated: Map<string, PolicyRule[]>;
}

/** A rule together with what granted it ("ClusterRoleBinding "x" of ClusterRole "y" to User "z""). */
export interface SourcedRule {
  source: string;
  rule: PolicyRule;
}

/** What a snapshot derives from the lists of a kind, kept while the lister hands back the same lists. */
interface Derived {
  clusterRoleList: readonly KubeObject[];
  clusterRoleBindings: readonly KubeObject[];
  roleList: readonly KubeObject[];
  roleBindingList: readonly KubeObject[];
  clusterRoles: Map<string, KubeObject>;
  aggregated: Map<string, PolicyRule[]>;
  namespaces: Map<string, { roles: Map<string, KubeObject>; roleBindings: KubeObject[] }>;
}

const NO_OBJECTS: readonly KubeObject[] = [];

export class RbacAuthorizer {
  /**
   * Maps, aggregated ClusterRole rules and per-namespace Roles built from the lister's lists; rebuilt when a list is
   * a different array (a lister that caches its lists until they change, as storageLister does, makes this a cache
   * invalidated by the same change).
   */
  private derived: Derived | undefined;

  constructor(private readonly lister: RbacLister) {}

  private async snapshot(namespace: string): Promise<Snapshot> {
    const [clusterRoleList, clusterRoleBindings, roleList, roleBindingList] = await Promise.all([
      this.lister.list('ClusterRole'),
      this.lister.list('ClusterRoleBinding'),
      namespace ? this.lister.list('Role') : Promise.resolve(this.derived?.roleList ?? NO_OBJECTS),
      namespace ? this.lister.list('RoleBinding') : Promise.resolve(this.derived?.roleBindingList ?? NO_OBJECTS),
    ]);
    let d = this.derived;
    if (!d || d.clusterRoleList !== clusterRoleList || d.clusterRoleBindings !== clusterRoleBindings) {
      d = { clusterRoleList, clusterRoleBindings, roleList, roleBindingList, clusterRoles: new Map(clusterRoleList.map((r) => [r.metadata.name ?? '', r])), aggregated: new Map(), namespaces: new Map() };
    } else if (d.roleList !== roleList || d.roleBindingList !== roleBindingList) {
      d = { ...d, roleList, roleBindingList, namespaces: new Map() };
    }
    this.derived = d;
    let ns = namespace ? d.namespaces.get(namespace) : undefined;
    if (!ns) {
      ns = {
        roles: new Map(roleList.filter((r) => r.metadata.namespace === namespace).map((r) => [r.metadata.name ?? '', r])),
        roleBindings: roleBindingList.filter((b) => b.metadata.namespace === namespace),
      };
      if (namespace) d.namespaces.set(namespace, ns);
    }
    return {
      clusterRoleList: d.clusterRoleList as KubeObject[],
      clusterRoles: d.clusterRoles,
      roles: ns.roles,
      roleBindings: ns.roleBindings,
      clusterRoleBindings: d.clusterRoleBindings as KubeObject[],
      aggregated: d.aggregated,
    };
  }

  /** The rules a binding's roleRef grants (a Role from the binding's namespace, whose Roles the snapshot holds). */
  private roleRefRules(snap: Snapshot, ref: RoleRef | undefined): PolicyRule[] | string {
    switch (ref?.kind) {
      case 'Role': {
        const role = snap.roles.get(ref.name);
        if (!role) return `role.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
        return (role.rules as PolicyRule[] | undefined | null) ?? [];
      }
      case 'ClusterRole': {
        const role = snap.clusterRoles.get(ref.name);
        if (!role) return `clusterrole.rbac.authorization.k8s.io ${JSON.stringify(ref.name)} not found`;
        let rules = snap.aggregated.get(ref.name);
        if (!rules) {
          rules = effectiveClusterRoleRules(role, snap.clusterRoleList);
          snap.aggregated.set(ref.name, rules);
        }
        return rules;
      }
      default:
        return `unsupported role reference kind: ${JSON.stringify(ref?.kind ?? '')}`;
    }
  }

  /**
   * Calls `visit` with every rule that applies to the user in the namespace ("" = cluster-wide bindings only) and
   * every error resolving a binding's role; stops when `visit` returns false. Upstream's VisitRulesFor.
   */
  async visitRulesFor(user: UserInfo, namespace: string, visit: (r: SourcedRule | undefined, err: string | undefined) => boolean): Promise<void> {
    const snap = await this.snapshot(namespace);
    for (const b of snap.clusterRoleBindings) {
      const subjects = (b.subjects as Subject[] | undefined | null) ?? [];
      const subject = subjects.find((s) => appliesToUser(user, s, ''));
      if (!subject) continue;
      const ref = b.roleRef as RoleRef | undefined;
      const rules = this.roleRefRules(snap, ref);
      if (typeof rules === 'string') {
        if (!visit(undefined, rules)) return;
        continue;
      }
      const source = `ClusterRoleBinding ${JSON.stringify(b.metadata.name ?? '')} of ${ref?.kind} ${JSON.stringify(ref?.name ?? '')} to ${describeSubject(subject, '')}`;
      for (const rule of rules) if (!visit({ source, rule }, undefined)) return;
    }
    if (!namespace) return;
    for (const b of snap.roleBindings) {
      const subjects = (b.subjects as Subject[] | undefined | null) ?? [];
      const subject = subjects.find((s) => appliesToUser(user, s, namespace));
      if (!subject) continue;
      const ref = b.roleRef as RoleRef | undefined;
      const rules = this.roleRefRules(snap, ref);
      if (typeof rules === 'string') {
        if (!visit(undefined, rules)) return;
        continue;
      }
      const source = `RoleBinding ${JSON.stringify(`${b.metadata.name ?? ''}/${namespace}`)} of ${ref?.kind} ${JSON.stringify(ref?.name ?? '')} to ${describeSubject(subject, namespace)}`;
      for (const rule of rules) if (!visit({ source, rule }, undefined)) return;
    }
  }

  async authorize(attrs: Attributes): Promise<Decision> {
    const errors: string[] = [];
    let allowedBy: string | undefined;
    await this.visitRulesFor(attrs.user, attrs.namespace, (r, err) => {
      if (r && ruleAllows(attrs, r.rule)) {
        allowedBy = r.source;
        return false;
      }
      if (err) errors.push(err);
      return true;
    });
    if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
    return { allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregateErrors(errors)}` : '' };
  }

  /** Every rule that applies to the user in the namespace, and the errors met resolving them (upstream's RulesFor). */
  async rulesFor(user: UserInfo, namespace: string): Promise<{ rules: PolicyRule[]; errors: string[] }> {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    await this.visitRulesFor(user, namespace, (r, err) => {
      if (r) rules.push(r.rule);
      if (err) errors.push(err);
      return true;
    });
    return { rules, errors };
  }
}

/** utilerrors.NewAggregate(...).Error(): one message alone, several deduplicated as "[a, b]". */
export function aggregateErrors(errors: readonly string[]): string {
  if (errors.length === 1) return errors[0] as string;
  const seen = [...new Set(errors)];
  return seen.length === 1 ? (seen[0] as string) : `[${seen.join(', ')}]`;
}
