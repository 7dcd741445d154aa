// Finds input fields a schema does not declare, so a caller can reject them (strict field
// validation) or warn about them, using the paths upstream's decoder reports
// (`unknown field "spec.containers[0].foo"`). zod itself only strips them silently.
import { z } from 'zod';

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

export function findUnknownFields(schema: z.ZodType, value: unknown, path = ''): string[] {
  const out: string[] = [];
  walk(schema, value, path, out);
  return out;
}

function walk(schema: z.ZodType, value: unknown, path: string, out: string[]): void {
  if (value === undefined) return;
  if (schema instanceof z.ZodPipe) return walk(schema.in as z.ZodType, value, path, out);
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault
  )
    return walk(schema.unwrap() as z.ZodType, value, path, out);
  if (schema instanceof z.ZodArray) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(schema.element as z.ZodType, item, `${path}[${i}]`, out));
    return;
  }
  if (schema instanceof z.ZodRecord) {
    if (isPlainObject(value))
      for (const [k, v] of Object.entries(value)) walk(schema.valueType as z.ZodType, v, `${path}[${k}]`, out);
    return;
  }
  if (schema instanceof z.ZodObject) {
    if (!isPlainObject(value)) return;
    const shape = schema.shape as Record<string, z.ZodType>;
    // A catchall (looseObject) means "accept anything else": those objects are deliberately open.
    const open = schema.def.catchall !== undefined;
    for (const [k, v] of Object.entries(value)) {
      // hasOwn, so inherited names such as "__proto__" or "constructor" count as unknown.
      const field = Object.hasOwn(shape, k) ? shape[k] : undefined;
      if (field) walk(field, v, join(path, k), out);
      else if (!open) out.push(join(path, k));
    }
  }
}
