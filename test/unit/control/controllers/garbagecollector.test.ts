import { describe, expect, it } from 'vitest';
import { decideDependent, decideForeground, orphanedReferences, resourceForOwner, type OwnerState } from '../../../../control/controllers/garbagecollector.js';
import type { Obj, OwnerReference } from '../../../../control/controllers/objects.js';

const ref = (uid: string, block = true): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid, controller: uid === 'a', blockOwnerDeletion: block });
const obj = (refs: OwnerReference[], deleting = false): Obj => ({ metadata: { name: 'p', uid: 'p-uid', ownerReferences: refs, ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) } });
const states = (m: Record<string, OwnerState>) => new Map(Object.entries(m));

describe('garbage collector decisions', () => {
  const table: Array<{ what: string; refs: OwnerReference[]; owners: Record<string, OwnerState>; hasDeps?: boolean; deleting?: boolean; want: ReturnType<typeof decideDependent> }> = [
    { what: 'no owners: not garbage', refs: [], owners: {}, want: { action: 'none' } },
    { what: 'owner alive: keep', refs: [ref('a')], owners: { a: 'solid' }, want: { action: 'none' } },
    { what: 'every owner gone: delete in the background', refs: [ref('a'), ref('b')], owners: { a: 'dangling', b: 'dangling' }, want: { action: 'delete', propagationPolicy: 'Background' } },
    { what: 'one owner gone, one alive: drop the dangling reference', refs: [ref('a'), ref('b')], owners: { a: 'solid', b: 'dangling' }, want: { action: 'patchOwners', ownerReferences: [ref('a')] } },
    { what: 'owner deleting in the foreground: delete', refs: [ref('a')], owners: { a: 'waitingForDependentsDeletion' }, want: { action: 'delete', propagationPolicy: 'Background' } },
    { what: 'owner in the foreground, dependents of its own: delete in the foreground', refs: [ref('a')], owners: { a: 'waitingForDependentsDeletion' }, hasDeps: true, want: { action: 'delete', propagationPolicy: 'Foreground' } },
    { what: 'another owner alive: stop blocking the one in the foreground', refs: [ref('a'), ref('b')], owners: { a: 'waitingForDependentsDeletion', b: 'solid' }, want: { action: 'patchOwners', ownerReferences: [{ ...ref('a'), blockOwnerDeletion: false }, ref('b')] } },
    { what: 'already being deleted: nothing', refs: [ref('a')], owners: { a: 'dangling' }, deleting: true, want: { action: 'none' } },
  ];
  for (const c of table) {
    it(c.what, () => {
      expect(decideDependent(obj(c.refs, c.deleting), states(c.owners), c.hasDeps ?? false)).toEqual(c.want);
    });
  }

  it('foreground: deletes blocking dependents not yet going, and finishes once none block', () => {
    const blocking = { metadata: { name: 'x', uid: 'x', ownerReferences: [ref('o')] } };
    const going = { metadata: { name: 'y', uid: 'y', ownerReferences: [ref('o')], deletionTimestamp: 't' } };
    const nonBlocking = { metadata: { name: 'z', uid: 'z', ownerReferences: [ref('o', false)] } };
    expect(decideForeground([blocking, going, nonBlocking], 'o')).toEqual({ removeFinalizer: false, delete: [blocking] });
    expect(decideForeground([going], 'o')).toEqual({ removeFinalizer: false, delete: [] });
    expect(decideForeground([nonBlocking], 'o')).toEqual({ removeFinalizer: true, delete: [] });
  });

  it('orphan: only the deleted owner is dropped from the references', () => {
    expect(orphanedReferences(obj([ref('a'), ref('b')]), 'a')).toEqual([ref('b')]);
  });

  it('maps owner references to resources by group and kind', () => {
    expect(resourceForOwner({ apiVersion: 'apps/v1', kind: 'ReplicaSet' })?.resource).toBe('replicasets');
    expect(resourceForOwner({ apiVersion: 'v1', kind: 'ReplicationController' })?.resource).toBe('replicationcontrollers');
    expect(resourceForOwner({ apiVersion: 'example.com/v1', kind: 'ReplicaSet' })).toBeUndefined();
  });
});
