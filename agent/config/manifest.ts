import { MAX_NESTING, maxBracketDepth } from '../../lib/nesting.js';
import { parseAllDocuments, type YAMLError } from 'yaml';
import { formatFieldError, parsePod, type Pod } from '../../control/api/index.js';
import { validatePodCreateOnly } from '../../control/api/pod-validation.js';
import type { SourceError } from './types.js';

export interface ManifestResult {
  /** Every valid pod, in document order, as parsePod returns them (static pod defaults not yet applied). */
  pods: Pod[];
  errors: SourceError[];
  /** parsePod's warnings (unknown fields and the like), located the same way errors are. */
  warnings: string[];
}

/** The one-line form of a source error, for logs and status: `<origin>: <message>`. */
export function formatSourceError(e: SourceError): string {
  return `${e.origin}: ${e.message}`;
}

/**
 * Parses a manifest file or response body: JSON, or YAML with any number of `---` separated documents, each a Pod,
 * a PodList or a v1 List of Pods. Never throws: every problem comes back as an error naming the origin, the document
 * (when there are several), the pod and the field. A YAML syntax error anywhere rejects the whole text, since a
 * half-written file must not be half applied.
 */
export function parseManifestText(text: string, origin: string): ManifestResult {
  if (typeof text === 'string' && maxBracketDepth(text) > MAX_NESTING) {
    return { pods: [], errors: [{ origin, message: `manifest nests deeper than ${MAX_NESTING} levels` }], warnings: [] };
  }
  try {
    return parseUnsafe(text, origin);
  } catch (err) {
    // Defence in depth for the never-throws promise; no known input gets here.
    return { pods: [], errors: [{ origin, message: `cannot parse manifest: ${describe(err)}` }], warnings: [] };
  }
}

function parseUnsafe(text: string, origin: string): ManifestResult {
  const result: ManifestResult = { pods: [], errors: [], warnings: [] };
  if (typeof text !== 'string') {
    result.errors.push({ origin, message: 'manifest is not text' });
    return result;
  }
  const read = readDocuments(text.replace(/^\uFEFF/, ''));
  if (!read.ok) {
    result.errors.push({ origin, message: read.message });
    return result;
  }
  const present = read.docs.filter((d) => d.value !== null && d.value !== undefined);
  const several = present.length > 1;
  for (const doc of present) {
    const where = several ? [`document ${doc.index + 1}`] : [];
    parseDocument(doc.value, where, origin, result);
  }
  return result;
}

interface RawDoc {
  index: number;
  value: unknown;
}

function readDocuments(text: string): { ok: true; docs: RawDoc[] } | { ok: false; message: string } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // Plain JSON first: it is what most tools send and JSON.parse is strict about it. Text that is not JSON falls
    // through to the YAML parser, which accepts a superset and reports positions as line and column.
    try {
      return { ok: true, docs: [{ index: 0, value: JSON.parse(text) as unknown }] };
    } catch {
      /* fall through */
    }
  }
  const parsed = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  if (!Array.isArray(parsed)) return { ok: true, docs: [] };
  const docs: RawDoc[] = [];
  for (const [index, doc] of parsed.entries()) {
    const first = doc.errors[0];
    if (first) return { ok: false, message: yamlErrorMessage(first, parsed.length > 1 ? index : undefined) };
    try {
      // maxAliasCount bounds alias expansion ("billion laughs") so a hostile manifest cannot exhaust memory.
      docs.push({ index, value: doc.toJS({ maxAliasCount: 100 }) as unknown });
    } catch (err) {
      return { ok: false, message: `invalid YAML${docSuffix(parsed.length > 1 ? index : undefined)}: ${describe(err)}` };
    }
  }
  return { ok: true, docs };
}

function docSuffix(index: number | undefined): string {
  return index === undefined ? '' : ` in document ${index + 1}`;
}

function yamlErrorMessage(err: YAMLError, docIndex: number | undefined): string {
  // The pretty message repeats the source line with a caret; the first line is the part a log line needs.
  const firstLine = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').trim();
  const pos = err.linePos?.[0];
  const at = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
  return `invalid YAML${at}: ${firstLine || err.code}`;
}

function parseDocument(value: unknown, where: string[], origin: string, out: ManifestResult): void {
  if (!isObject(value)) {
    out.errors.push({ origin, message: [...where, `expected a Pod or PodList object, got ${typeName(value)}`].join(': ') });
    return;
  }
  const kind = value.kind;
  if (kind === 'PodList' || kind === 'List') {
    parseList(value, kind, where, origin, out);
    return;
  }
  if (kind !== undefined && kind !== 'Pod') {
    out.errors.push({ origin, message: [...where, `kind ${quote(kind)} is not supported: expected Pod, PodList or List`].join(': ') });
    return;
  }
  // A missing kind is left to parsePod, which reports it as a field error like any other.
  parsePodAt(value, where, origin, out);
}

function parseList(list: Record<string, unknown>, kind: 'PodList' | 'List', where: string[], origin: string, out: ManifestResult): void {
  const items = list.items ?? [];
  if (!Array.isArray(items)) {
    out.errors.push({ origin, message: [...where, `items: expected a list, got ${typeName(items)}`].join(': ') });
    return;
  }
  for (const [i, item] of items.entries()) {
    const at = [...where, `items[${i}]`];
    if (!isObject(item)) {
      out.errors.push({ origin, message: [...at, `expected a Pod object, got ${typeName(item)}`].join(': ') });
      continue;
    }
    // A PodList's items are Pods by definition and often omit apiVersion/kind (the API server omits them too).
    const pod = kind === 'PodList' && item.kind === undefined ? { apiVersion: list.apiVersion ?? 'v1', kind: 'Pod', ...item } : item;
    if (pod.kind !== 'Pod') {
      out.errors.push({ origin, message: [...at, `kind ${quote(pod.kind)} is not supported in a list: expected Pod`].join(': ') });
      continue;
    }
    parsePodAt(pod, at, origin, out);
  }
}

function parsePodAt(value: Record<string, unknown>, where: string[], origin: string, out: ManifestResult): void {
  const meta = value.metadata;
  const name = isObject(meta) && typeof meta.name === 'string' && meta.name !== '' ? meta.name : undefined;
  const at = name === undefined ? where : [...where, `pod ${JSON.stringify(name)}`];
  const parsed = parsePod(value);
  // A manifest is a create: the kubelet applies upstream's create-only rules to it too.
  const refused = parsed.ok ? validatePodCreateOnly(parsed.pod.spec, parsed.pod.metadata.annotations) : [];
  if (parsed.ok && refused.length === 0) {
    out.pods.push(parsed.pod);
    for (const w of parsed.warnings) out.warnings.push(`${[origin, ...at].join(': ')}: ${w}`);
    return;
  }
  for (const e of parsed.ok ? refused : parsed.errors) out.errors.push({ origin, message: [...at, formatFieldError(e)].join(': ') });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function quote(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? typeof v).slice(0, 60);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
