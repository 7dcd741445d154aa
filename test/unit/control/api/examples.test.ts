// Every Pod manifest in the shared kubernetes/examples checkout must decode, default and validate.
import { describe, expect, it } from 'vitest';
import { formatFieldError, parsePod } from '../../../../control/api/index.js';
import { exampleDocuments } from '../../../helpers/examples-corpus.js';

const pods = exampleDocuments().filter(({ doc }) => typeof doc === 'object' && doc !== null && (doc as { kind?: unknown }).kind === 'Pod');

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
