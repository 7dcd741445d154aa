// The pods of the shared kubernetes/examples corpus, for tests that hold a fast path to the full decode.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';

const ROOT = '/work/shared/manifests/kubernetes-examples';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

/** Every pod, and every workload's pod template made a pod, of the corpus. */
export function corpusPods(): Array<{ where: string; pod: KubeObject }> {
  const out: Array<{ where: string; pod: KubeObject }> = [];
  for (const file of yamlFiles(ROOT)) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    if (!Array.isArray(docs)) continue;
    docs.forEach((d, i) => {
      if (d.errors.length > 0) return;
      const value = d.toJS() as { kind?: string; metadata?: { name?: string }; spec?: { template?: { metadata?: object; spec?: object }; jobTemplate?: { spec?: { template?: { metadata?: object; spec?: object } } } } } | null;
      if (!value || typeof value !== 'object') return;
      const where = `${relative(ROOT, file)}#${i}`;
      if (value.kind === 'Pod') out.push({ where, pod: value as unknown as KubeObject });
      const template = value.spec?.template ?? value.spec?.jobTemplate?.spec?.template;
      if (template?.spec) out.push({ where: `${where} (template)`, pod: { apiVersion: 'v1', kind: 'Pod', metadata: { ...(template.metadata ?? {}), name: value.metadata?.name ?? 'templated' }, spec: template.spec } as KubeObject });
    });
  }
  return out;
}

