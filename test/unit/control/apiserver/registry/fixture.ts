import { Rest, type RequestContext } from '../../../../../control/apiserver/rest.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import { ObjectStorage } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

/** What the registry strategy tests share: resource lookup, a request context, a fresh store and REST layer. */
export const def = (resource: string, group = '', version = 'v1'): ResourceDef => {
  const d = findResource(group, version, resource);
  if (!d) throw new Error(resource);
  return d;
};

export const ctx = (namespace?: string, strict = true): RequestContext => ({ namespace, strict, dryRun: false, now: new Date('2026-01-01T00:00:00Z') });

export function freshRest(): { store: MemoryStore; rest: Rest } {
  const store = new MemoryStore({ autoTickMs: 60_000 });
  return { store, rest: new Rest(new ObjectStorage(store), undefined) };
}

/** The message a promise is rejected with; fails when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}
