// storage.k8s.io/v1 StorageClass: upstream's defaults, ValidateStorageClass, the update rules and the strategy warnings.
import { describe, expect, it } from 'vitest';
import { isDefaultStorageClass, parseKindUpdate, parseStorageClass, storageClassKind, storageClassWarnings } from '../../../../../control/api/index.js';
import { lines, must, type Obj } from '../apps/helpers.js';

const sc = (extra: Obj = {}, metadata: Obj = { name: 'fast' }): Obj => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata, provisioner: 'ebs.csi.aws.com', ...extra });

describe('StorageClass defaults', () => {
  it('defaults reclaimPolicy to Delete and volumeBindingMode to Immediate, and nothing else', () => {
    const c = must(parseStorageClass(sc()));
    expect(c.reclaimPolicy).toBe('Delete');
    expect(c.volumeBindingMode).toBe('Immediate');
    expect(c.allowVolumeExpansion).toBeUndefined();
    expect(c.parameters).toBeUndefined();
  });
  it('keeps values that are set', () => {
    const c = must(parseStorageClass(sc({ reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true, mountOptions: ['ro'] })));
    expect([c.reclaimPolicy, c.volumeBindingMode, c.allowVolumeExpansion, c.mountOptions]).toEqual(['Retain', 'WaitForFirstConsumer', true, ['ro']]);
  });
  it('recognises the GA and the beta default-class annotations only when "true"', () => {
    const with_ = (annotations: Obj) => must(parseStorageClass(sc({}, { name: 'x', annotations })));
    expect(isDefaultStorageClass(with_({ 'storageclass.kubernetes.io/is-default-class': 'true' }))).toBe(true);
    expect(isDefaultStorageClass(with_({ 'storageclass.beta.kubernetes.io/is-default-class': 'true' }))).toBe(true);
    expect(isDefaultStorageClass(with_({ 'storageclass.kubernetes.io/is-default-class': 'True' }))).toBe(false);
    expect(isDefaultStorageClass(with_({}))).toBe(false);
  });
});

describe('StorageClass validation', () => {
  it('requires a provisioner that is a qualified name once lowercased (errors show it lowercased)', () => {
    expect(lines(parseStorageClass(sc({ provisioner: undefined })))).toEqual(['provisioner: Required value']);
    expect(lines(parseStorageClass(sc({ provisioner: 'Kubernetes.IO/AWS-EBS' })))).toEqual([]);
    expect(lines(parseStorageClass(sc({ provisioner: 'a/b/c' })))[0]).toMatch(/^provisioner: Invalid value: "a\/b\/c": a valid label key must consist of/);
    expect(lines(parseStorageClass(sc({ provisioner: 'Bad_Prefix/x' })))[0]).toMatch(/^provisioner: Invalid value: "bad_prefix\/x": prefix part a lowercase RFC 1123 subdomain/);
  });
  it('limits parameters to 512 entries and 256 KiB, and refuses an empty key', () => {
    const many = Object.fromEntries(Array.from({ length: 513 }, (_, i) => [`k${i}`, 'v']));
    expect(lines(parseStorageClass(sc({ parameters: many })))).toEqual(['parameters: Too long: must have at most 512 bytes']);
    expect(lines(parseStorageClass(sc({ parameters: { big: 'x'.repeat(256 * 1024) } })))).toEqual(['parameters: Too long: must have at most 262144 bytes']);
    expect(lines(parseStorageClass(sc({ parameters: { '': 'v' } })))).toEqual(['parameters: Invalid value: "": field can not be empty.']);
    expect(lines(parseStorageClass(sc({ parameters: { type: 'gp3', fsType: 'ext4' } })))).toEqual([]);
  });
  it('accepts Delete, Retain (and an explicit empty policy) but not Recycle', () => {
    expect(lines(parseStorageClass(sc({ reclaimPolicy: 'Recycle' })))).toEqual(['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']);
    expect(lines(parseStorageClass(sc({ reclaimPolicy: '' })))).toEqual([]);
  });
  it('accepts only the two binding modes', () => {
    expect(lines(parseStorageClass(sc({ volumeBindingMode: 'Later' })))).toEqual(['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"']);
    expect(lines(parseStorageClass(sc({ volumeBindingMode: '' })))).toEqual(['volumeBindingMode: Unsupported value: "": supported values: "Immediate", "WaitForFirstConsumer"']);
  });
  it('validates allowedTopologies: values required and unique, keys label names and unique, terms unique', () => {
    const topo = (...terms: Obj[]) => sc({ allowedTopologies: terms });
    const term = (...exprs: Array<[string, string[]?]>) => ({ matchLabelExpressions: exprs.map(([key, values]) => ({ key, ...(values ? { values } : {}) })) });
    expect(lines(parseStorageClass(topo(term(['topology.kubernetes.io/zone', ['a', 'b']]))))).toEqual([]);
    expect(lines(parseStorageClass(topo(term(['zone']))))).toEqual(['allowedTopologies[0].matchLabelExpressions[0].values: Required value']);
    expect(lines(parseStorageClass(topo(term(['zone', ['a', 'a']]))))).toEqual(['allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: "a"']);
    expect(lines(parseStorageClass(topo(term(['zone', ['a']], ['zone', ['b']]))))).toEqual(['allowedTopologies[0].matchLabelExpressions[1].key: Duplicate value: "zone"']);
    expect(lines(parseStorageClass(topo(term(['bad key', ['a']]))))[0]).toMatch(/^allowedTopologies\[0\]\.matchLabelExpressions\[0\]\.key: Invalid value: "bad key": name part must consist of/);
    // The same term twice, whatever the order of its values.
    expect(lines(parseStorageClass(topo(term(['zone', ['a', 'b']]), term(['zone', ['b', 'a']]))))).toEqual(['allowedTopologies[1].matchLabelExpressions: Duplicate value: ""']);
  });
  it('validates the name as a DNS subdomain and refuses a namespace', () => {
    expect(lines(parseStorageClass(sc({}, { name: 'Fast' })))[0]).toMatch(/^metadata\.name: Invalid value: "Fast": a lowercase RFC 1123 subdomain/);
    expect(lines(parseStorageClass(sc({}, { name: 'fast', namespace: 'default' })))).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });
});

describe('StorageClass updates', () => {
  const old = must(parseStorageClass(sc({ parameters: { type: 'gp3' } })));
  const update = (extra: Obj) => lines(parseKindUpdate(storageClassKind, sc({ parameters: { type: 'gp3' }, ...extra }), old));
  it('allows changing mountOptions, allowVolumeExpansion, allowedTopologies and annotations', () => {
    expect(update({ mountOptions: ['debug'], allowVolumeExpansion: true, allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a'] }] }] })).toEqual([]);
    expect(lines(parseKindUpdate(storageClassKind, sc({ parameters: { type: 'gp3' } }, { name: 'fast', annotations: { a: 'b' } }), old))).toEqual([]);
  });
  it('forbids changing provisioner, parameters and reclaimPolicy, and volumeBindingMode is immutable', () => {
    expect(update({ provisioner: 'example.com/other' })).toEqual(['provisioner: Forbidden: updates to provisioner are forbidden.']);
    expect(update({ parameters: { type: 'io2' } })).toEqual(['parameters: Forbidden: updates to parameters are forbidden.']);
    expect(update({ parameters: undefined })).toEqual(['parameters: Forbidden: updates to parameters are forbidden.']);
    expect(update({ reclaimPolicy: 'Retain' })).toEqual(['reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.']);
    expect(update({ volumeBindingMode: 'WaitForFirstConsumer' })).toEqual(['volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable']);
  });
  it('checks the class as on create first', () => {
    expect(update({ reclaimPolicy: 'Recycle' })).toEqual([
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
    ]);
  });
});

describe('StorageClass warnings', () => {
  it('warns about deprecated node labels in allowedTopologies', () => {
    const c = must(parseStorageClass(sc({ allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['a'] }, { key: 'failure-domain.beta.kubernetes.io/zone', values: ['a'] }] }] })));
    expect(storageClassWarnings(c)).toEqual(['allowedTopologies[0].matchLabelExpressions[1].key: deprecated since v1.17; use "topology.kubernetes.io/zone" instead']);
  });
});
