// An update of a stored pod decodes only what changed in the spec. The result must be exactly the full decode's (the
// body decoded whole, then upstream's update validation), for every pod of the shared kubernetes/examples and the
// kinds of change a client makes: labels, an image, a toleration, a deadline, a forbidden change, a bad value.
import { describe, expect, it, vi } from 'vitest';
import { compactSpec, decodeKind, parsePod, Pod, type FieldError } from '../../../../../control/api/index.js';
import { validatePodUpdate } from '../../../../../control/api/pod-update-validation.js';
import { strategyFor } from '../../../../../control/apiserver/registry/index.js';
import type { Prepared } from '../../../../../control/apiserver/registry/strategy.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { corpusPods } from './corpus.js';
import { ctx, def, freshRest } from './fixture.js';

const pods = def('pods');
const strategy = strategyFor(pods);
const POD_TYPE = { apiVersion: 'v1', kind: 'Pod' };

/** The full decode of an update, as the pod strategy did it before decoding in part. */
function wholeDecode(obj: KubeObject, old: KubeObject, strict: boolean): Prepared {
  const previous = parsePod({ ...old, ...POD_TYPE }, { decodedBefore: true });
  if (!previous.ok) throw new Error('the stored pod decodes');
  const r = decodeKind(Pod, { ...obj, ...POD_TYPE }, POD_TYPE, { strict }, (p): FieldError[] => validatePodUpdate(p, previous.pod));
  if (!r.ok) return r;
  const pod = { ...r.obj, spec: compactSpec(r.obj.spec) } as unknown as KubeObject;
  if (obj.status !== undefined) pod.status = obj.status;
  const qosClass = (old.status as { qosClass?: string } | undefined)?.qosClass;
  const status = pod.status as { qosClass?: string } | undefined;
  if (qosClass && !status?.qosClass) pod.status = { ...status, qosClass };
  return { ok: true, obj: pod, warnings: r.warnings };
}

type Spec = { containers: Array<Record<string, unknown>>; tolerations?: unknown[] } & Record<string, unknown>;

const changes: Array<{ what: string; change: (pod: KubeObject) => void; inPart: boolean }> = [
  { what: 'a label', change: (p) => void (p.metadata.labels = { ...p.metadata.labels, rev: '2' }), inPart: true },
  { what: 'an image', change: (p) => void ((p.spec as Spec).containers[0] = { ...(p.spec as Spec).containers[0], image: 'busybox:1.36' }), inPart: true },
  { what: 'a toleration', change: (p) => void ((p.spec as Spec).tolerations = [...((p.spec as Spec).tolerations ?? []), { key: 'k', operator: 'Exists', effect: 'NoSchedule' }]), inPart: true },
  { what: 'a deadline', change: (p) => void ((p.spec as Spec).activeDeadlineSeconds = 60), inPart: true },
  { what: 'a forbidden change (a container renamed)', change: (p) => void ((p.spec as Spec).containers[0] = { ...(p.spec as Spec).containers[0], name: 'renamed' }), inPart: true },
  { what: 'a value that does not decode', change: (p) => void ((p.spec as Spec).terminationGracePeriodSeconds = 'soon'), inPart: false },
  { what: 'an unknown field', change: (p) => void ((p.spec as Spec).bogus = 1), inPart: true },
];

describe('an update of a stored pod, decoded in part', async () => {
  const { rest } = freshRest();
  const stored: Array<{ where: string; pod: KubeObject }> = [];
  for (const [i, { where, pod }] of corpusPods().entries()) {
    try {
      const created = await rest.create(pods, ctx('ns', false), { ...structuredClone(pod), metadata: { ...(pod.metadata ?? {}), name: `p${i}`, namespace: 'ns' } });
      stored.push({ where, pod: (await rest.get(pods, ctx('ns'), created.metadata.name ?? '')) as KubeObject });
    } catch {
      // A pod of the corpus this server refuses (tested elsewhere): nothing to update.
    }
  }

  it('has stored pods of the corpus to update', () => {
    expect(stored.length).toBeGreaterThan(100);
  });

  for (const { what, change, inPart } of changes) {
    for (const strict of [false, true]) {
      it(`gives the full decode's result for ${what}${strict ? ' (Strict)' : ''}, for every pod`, () => {
        for (const { where, pod: old } of stored) {
          const body = { ...structuredClone(old), status: undefined } as KubeObject;
          change(body);
          const wholeDecodes = vi.spyOn(Pod, 'safeParse');
          const prepared = strategy.prepareUpdate(structuredClone(body), old, ctx('ns', strict));
          const decodedWhole = wholeDecodes.mock.calls.length;
          wholeDecodes.mockRestore();
          try {
            expect(prepared).toEqual(wholeDecode(body, old, strict));
            expect(JSON.stringify(prepared)).toBe(JSON.stringify(wholeDecode(body, old, strict)));
            // Under Strict an unknown field is refused by the full decode, for its error.
            if (inPart && !(strict && what === 'an unknown field')) expect(decodedWhole).toBe(1);
          } catch (err) {
            throw new Error(`${where}: ${(err as Error).message}`);
          }
        }
      });
    }
  }

  it('refuses the forbidden change with upstream\'s message, and keeps the new image with its pull policy', () => {
    const old = stored[0]?.pod as KubeObject;
    const renamed = { ...structuredClone(old), status: undefined } as KubeObject;
    (renamed.spec as Spec).containers[0] = { ...(renamed.spec as Spec).containers[0], name: 'renamed' };
    const refused = strategy.prepareUpdate(renamed, old, ctx('ns', false));
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.errors.map((e) => [e.type, e.field])).toEqual([['FieldValueForbidden', 'spec']]);
    const retagged = { ...structuredClone(old), status: undefined } as KubeObject;
    (retagged.spec as Spec).containers[0] = { ...(retagged.spec as Spec).containers[0], image: 'busybox:1.36' };
    const taken = strategy.prepareUpdate(retagged, old, ctx('ns', false));
    expect(taken.ok).toBe(true);
    if (taken.ok) expect((taken.obj.spec as Spec).containers[0]).toMatchObject({ image: 'busybox:1.36' });
  });
});
