import { hasStatusCode, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { R, type Namespace, type Obj } from './objects.js';

/** The accounts every namespace gets (upstream's --service-account-names default). */
export const DEFAULT_SERVICE_ACCOUNTS = ['default'];

/** Which of the wanted accounts a namespace lacks; none for a namespace being deleted. */
export function missingServiceAccounts(ns: Namespace, existing: readonly string[], wanted: readonly string[] = DEFAULT_SERVICE_ACCOUNTS): string[] {
  if (ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return [];
  return wanted.filter((n) => !existing.includes(n));
}

/** upstream's ServiceAccountsController: puts the "default" service account back into every active namespace. */
export class ServiceAccountController extends Controller {
  private readonly namespaces: Informer<Namespace>;
  private readonly accounts: Informer<Obj>;

  constructor(
    ctx: ControllerContext,
    private readonly wanted: string[] = DEFAULT_SERVICE_ACCOUNTS,
  ) {
    super('serviceaccount', ctx);
    this.namespaces = this.watch<Namespace>(R.namespaces);
    this.accounts = this.watch<Obj>(R.serviceaccounts);
    this.namespaces.addHandlers({ onAdd: (n) => this.queue.add(n.metadata.name ?? ''), onUpdate: (_o, n) => this.queue.add(n.metadata.name ?? '') });
    this.accounts.addHandlers({
      onDelete: (sa) => {
        if (this.wanted.includes(sa.metadata.name ?? '')) this.queue.add(sa.metadata.namespace ?? '');
      },
    });
  }

  protected async sync(name: string): Promise<SyncResult> {
    const ns = this.namespaces.get(name);
    if (!ns) return;
    const existing = this.wanted.filter((n) => this.accounts.get(`${name}/${n}`));
    for (const sa of missingServiceAccounts(ns, existing, this.wanted)) {
      try {
        await this.client.create(R.serviceaccounts, name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: name } });
      } catch (err) {
        // Already there (the cache lagged) or the namespace started terminating meanwhile: nothing to do.
        if (hasStatusCode(err, 409) || hasStatusCode(err, 403) || hasStatusCode(err, 404)) continue;
        throw err;
      }
    }
  }
}
