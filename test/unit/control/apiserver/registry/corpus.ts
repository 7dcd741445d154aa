// The pods of the shared kubernetes/examples corpus, and its workloads' pod templates made pods, for tests that hold
// a fast path to the full decode.
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { exampleDocuments } from '../../../../helpers/examples-corpus.js';

/** Every pod, and every workload's pod template made a pod, of the corpus. */
export function corpusPods(): Array<{ where: string; pod: KubeObject }> {
  const out: Array<{ where: string; pod: KubeObject }> = [];
  for (const { where, doc } of exampleDocuments()) {
    const value = doc as { kind?: string; metadata?: { name?: string }; spec?: { template?: { metadata?: object; spec?: object }; jobTemplate?: { spec?: { template?: { metadata?: object; spec?: object } } } } } | null;
    if (!value || typeof value !== 'object') continue;
    if (value.kind === 'Pod') out.push({ where, pod: value as unknown as KubeObject });
    const template = value.spec?.template ?? value.spec?.jobTemplate?.spec?.template;
    if (template?.spec) out.push({ where: `${where} (template)`, pod: { apiVersion: 'v1', kind: 'Pod', metadata: { ...(template.metadata ?? {}), name: value.metadata?.name ?? 'templated' }, spec: template.spec } as KubeObject });
  }
  return out;
}
