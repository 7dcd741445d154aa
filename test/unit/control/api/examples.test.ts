// Every Pod manifest in the shared kubernetes/examples checkout must decode, default and validate.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { formatFieldError, parsePod } from '../../../../control/api/index.js';

const ROOT = '/work/shared/manifests/kubernetes-examples';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(name) ? [p] : [];
  });
}

interface PodDoc {
  where: string;
  doc: unknown;
}

function podDocuments(): PodDoc[] {
  const out: PodDoc[] = [];
  for (const file of yamlFiles(ROOT)) {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    // parseAllDocuments returns an EmptyStream (not an array) for files without documents.
    if (!Array.isArray(docs)) continue;
    docs.forEach((d, i) => {
      if (d.errors.length > 0) return; // not our concern: a few examples are Helm/templated YAML
      const value: unknown = d.toJS();
      if (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Pod')
        out.push({ where: `${relative(ROOT, file)}#${i}`, doc: value });
    });
  }
  return out;
}

const pods = podDocuments();

// Two archived examples predate case-sensitive protocols; the real API server rejects them the same way.
const KNOWN_INVALID: Record<string, string[]> = {
  '_archived/volumes/aws_ebs/aws-ebs-web.yaml#0': [
    'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
  ],
  '_archived/volumes/cinder/cinder-web.yaml#0': [
    'spec.containers[0].ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"',
  ],
};

describe('kubernetes/examples Pod manifests', () => {
  it('finds Pod manifests to check', () => {
    expect(pods.length).toBeGreaterThan(40);
  });

  it.each(pods.map((p) => [p.where, p.doc] as const))('%s parses', (where, doc) => {
    const r = parsePod(doc);
    expect(r.ok ? [] : r.errors.map(formatFieldError)).toEqual(KNOWN_INVALID[where] ?? []);
    if (r.ok) expect(r.warnings).toEqual([]);
  });

  it('also parses them with strict field validation', () => {
    const failures = pods
      .filter((p) => !(p.where in KNOWN_INVALID))
      .flatMap((p) => {
        const r = parsePod(p.doc, { strict: true });
        return r.ok ? [] : r.errors.map((e) => `${p.where}: ${formatFieldError(e)}`);
      });
    expect(failures).toEqual([]);
  });
});
