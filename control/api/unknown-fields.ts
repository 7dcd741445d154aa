// Finds input fields a schema does not declare, so a caller can reject them (strict field
// validation) or warn about them, using the paths upstream's decoder reports
// (`unknown field "spec.containers[0].foo"`). zod itself only strips them silently.
import { z } from 'zod';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

export function findUnknownFields(schema: z.ZodType, value: unknown, path = ''): string[] {
  const out: string[] = [];
  walk(schema, value, path === '' ? [] : [path], out);
  return out;
}

/**
 * Where the walk is, as the pieces of its path: a field name, an array index, or "[key]" of a map. The text is
 * made only for a field that is reported, not for every field visited (most bodies have no unknown field at all).
 * A field name never starts with "[": only names the schema declares are walked into.
 */
type PathPieces = Array<string | number>;

function pathText(pieces: PathPieces): string {
  let text = '';
  for (const p of pieces) {
    if (typeof p === 'number') text += `[${p}]`;
    else if (p.startsWith('[') || text === '') text += p;
    else text += `.${p}`;
  }
  return text;
}

/** What walk needs of a schema, worked out once per schema: wrappers unwrapped, shapes and element types found. */
type Node =
  | { kind: 'array'; element: z.ZodType }
  | { kind: 'record'; value: z.ZodType }
  | { kind: 'object'; shape: Record<string, z.ZodType>; open: boolean }
  | { kind: 'leaf' };

const nodes = new WeakMap<z.ZodType, Node>();

function nodeOf(schema: z.ZodType): Node {
  let node = nodes.get(schema);
  if (node) return node;
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) s = s.unwrap() as z.ZodType;
    else break;
  }
  if (s instanceof z.ZodArray) node = { kind: 'array', element: s.element as z.ZodType };
  else if (s instanceof z.ZodRecord) node = { kind: 'record', value: s.valueType as z.ZodType };
  // A catchall (looseObject) means "accept anything else": those objects are deliberately open.
  else if (s instanceof z.ZodObject) node = { kind: 'object', shape: s.shape as Record<string, z.ZodType>, open: s.def.catchall !== undefined };
  else node = { kind: 'leaf' };
  nodes.set(schema, node);
  return node;
}

function walk(schema: z.ZodType, value: unknown, path: PathPieces, out: string[]): void {
  if (value === undefined) return;
  const node = nodeOf(schema);
  switch (node.kind) {
    case 'array':
      if (!Array.isArray(value)) return;
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        walk(node.element, value[i], path, out);
        path.pop();
      }
      return;
    case 'record':
      if (!isPlainObject(value)) return;
      for (const [k, v] of Object.entries(value)) {
        path.push(`[${k}]`);
        walk(node.value, v, path, out);
        path.pop();
      }
      return;
    case 'object':
      if (!isPlainObject(value)) return;
      for (const [k, v] of Object.entries(value)) {
        // hasOwn, so inherited names such as "__proto__" or "constructor" count as unknown.
        const field = Object.hasOwn(node.shape, k) ? node.shape[k] : undefined;
        if (field) {
          path.push(k);
          walk(field, v, path, out);
          path.pop();
        } else if (!node.open) out.push(join(pathText(path), k));
      }
      return;
    case 'leaf':
      return;
  }
}
