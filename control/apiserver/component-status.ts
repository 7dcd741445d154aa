import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from '../api/selectors.js';
import type { KubeObject } from '../client/index.js';
import type { Store } from '../store/index.js';
import { STORE_CHECK_TIMEOUT_MS, storeCheck } from './health.js';
import { ApiError, badRequest } from './http/status.js';

/**
 * core/v1 componentstatuses (`kubectl get componentstatuses`, deprecated upstream since 1.19 but still served): not
 * stored, each GET runs the checks. One entry per component: the scheduler and the controller manager when this
 * process runs them, and the store as etcd-0 (with the etcd backend, etcd-<i> per --etcd-servers URL, as upstream
 * lists its etcd servers).
 */

export interface ComponentCondition {
  type: 'Healthy';
  status: 'True' | 'False' | 'Unknown';
  message?: string;
  error?: string;
}

export interface ComponentProbe {
  readonly name: string;
  /** "ok" (or what the component said) when healthy; rejects with the reason otherwise. */
  probe(): Promise<string>;
}

/** The warning upstream sends with every componentstatuses request. */
export const COMPONENT_STATUS_DEPRECATION = 'v1 ComponentStatus is deprecated in v1.19+';

/** A component of this process: healthy while the process serves. */
export const inProcessComponent = (name: string): ComponentProbe => ({ name, probe: () => Promise.resolve('ok') });

/** The store the API server writes to, read once as the /livez etcd check does. */
export function storeComponent(name: string, store: Store, timeoutMs = STORE_CHECK_TIMEOUT_MS): ComponentProbe {
  const check = storeCheck(name, store, timeoutMs);
  return { name, probe: async () => (await check.check(), 'ok') };
}

/** An etcd server's own /health endpoint (etcd answers {"health":"true"} while it has a leader). */
export function etcdServerComponent(name: string, clientUrl: string, timeoutMs = STORE_CHECK_TIMEOUT_MS): ComponentProbe {
  return {
    name,
    async probe() {
      const res = await fetch(new URL('/health', clientUrl), { signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      let health: unknown;
      try {
        health = (JSON.parse(text) as { health?: unknown }).health;
      } catch {
        health = undefined;
      }
      if (res.status !== 200 || health !== 'true') throw new Error(`${clientUrl}/health answered ${res.status}: ${text.trim()}`);
      return 'ok';
    },
  };
}

async function statusOf(component: ComponentProbe): Promise<KubeObject> {
  let condition: ComponentCondition;
  try {
    condition = { type: 'Healthy', status: 'True', message: await component.probe() };
  } catch (err) {
    condition = { type: 'Healthy', status: 'False', error: err instanceof Error ? err.message : String(err) };
  }
  return { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name: component.name }, conditions: [condition] };
}

/** GET componentstatuses/<name>; upstream answers an unknown name with a 500 without a reason, "Component not found". */
export async function getComponentStatus(components: readonly ComponentProbe[], name: string): Promise<KubeObject> {
  const component = components.find((c) => c.name === name);
  if (!component) throw new ApiError(500, '', `Component not found: ${name}`);
  return statusOf(component);
}

/**
 * The list, checked concurrently, in the components' order. They carry no labels, but the selectors still apply
 * (upstream filters too): a label selector that needs a label leaves nothing, a field selector on metadata.name picks.
 */
export async function listComponentStatuses(components: readonly ComponentProbe[], query: URLSearchParams): Promise<KubeObject[]> {
  let labels;
  let fields;
  try {
    labels = parseLabelSelector(query.get('labelSelector') ?? '');
    fields = parseFieldSelector(query.get('fieldSelector') ?? '');
  } catch (err) {
    if (err instanceof SelectorError) throw badRequest(`unable to parse requirement: ${err.message.replace(/^unable to parse requirement: /, '')}`);
    throw err;
  }
  const unsupported = fields.find((f) => f.field !== 'metadata.name' && f.field !== 'metadata.namespace');
  if (unsupported) throw badRequest(`field label not supported: ${unsupported.field}`);
  const items = await Promise.all(components.map(statusOf));
  return items.filter((o) => matchesLabels(labels, {}) && matchesFields(fields, { 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': '' }));
}
