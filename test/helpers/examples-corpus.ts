// The shared kubernetes/examples corpus (../shared/manifests/kubernetes-examples): every YAML document that parses.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const EXAMPLES_ROOT = '/work/shared/manifests/kubernetes-examples';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

export interface ExampleDocument {
  /** "<file below the corpus root>#<document index>" */
  where: string;
  doc: unknown;
}

/** Every document of every YAML file, but those that do not parse (a few examples are Helm templates). */
export function exampleDocuments(): ExampleDocument[] {
  const out: ExampleDocument[] = [];
  for (const file of yamlFiles(EXAMPLES_ROOT)) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    // parseAllDocuments returns an EmptyStream (not an array) for files without documents.
    if (!Array.isArray(docs)) continue;
    docs.forEach((d, i) => {
      if (d.errors.length === 0) out.push({ where: `${relative(EXAMPLES_ROOT, file)}#${i}`, doc: d.toJS() as unknown });
    });
  }
  return out;
}
