import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, col, nameCol, nameOf, rec, recs, str } from './common.js';
import { createdAtPrinter } from './default.js';

/**
 * rbac.authorization.k8s.io/v1: role bindings print ROLE (and subjects with -o wide); roles and cluster roles have
 * no printer upstream, so they get the API server's default table (NAME, CREATED AT).
 */

/** rbac.SubjectsStrings: users, groups and "namespace/name" service accounts. */
export function subjectsStrings(subjects: unknown): { users: string[]; groups: string[]; sas: string[]; others: string[] } {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  const others: string[] = [];
  for (const s of recs(subjects)) {
    switch (s.kind) {
      case 'ServiceAccount':
        sas.push(`${str(s.namespace)}/${str(s.name)}`);
        break;
      case 'User':
        users.push(str(s.name));
        break;
      case 'Group':
        groups.push(str(s.name));
        break;
      default:
        others.push(`${str(s.kind)}/${str(s.namespace)}/${str(s.name)}`);
    }
  }
  return { users, groups, sas, others };
}

function bindingPrinter(what: 'roleBinding' | 'clusterRoleBinding'): KindPrinter {
  return {
    columns: [
      nameCol(),
      col('Role', 'string', what === 'roleBinding' ? 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.' : 'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.'),
      ageCol(),
      col('Users', 'string', `Users in the ${what}`, 1),
      col('Groups', 'string', `Groups in the ${what}`, 1),
      col('ServiceAccounts', 'string', `ServiceAccounts in the ${what}`, 1),
    ],
    cells: (o, now) => {
      const ref = rec(o.roleRef);
      const { users, groups, sas } = subjectsStrings(o.subjects);
      return [nameOf(o), `${str(ref.kind)}/${str(ref.name)}`, ageOf(o, now), users.join(', '), groups.join(', '), sas.join(', ')];
    },
  };
}

export const roleBindingPrinter = bindingPrinter('roleBinding');
export const clusterRoleBindingPrinter = bindingPrinter('clusterRoleBinding');
export const rolePrinter = createdAtPrinter;
export const clusterRolePrinter = createdAtPrinter;
