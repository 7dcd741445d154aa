// storage.k8s.io/v1 StorageClass: upstream's defaults, ValidateStorageClass, the update rules and the strategy warnings.
import { describe, expect, it } from 'vitest';
import { isDefaultStorageClass, parseKindUpdate, parseStorageClass, storageClassKind, storageClassWarnings } from '../../../../../control/api/index.js';
import { invalid } from '../../../../../control/apiserver/http/status.js';
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
  it('defaults a null reclaimPolicy or volumeBindingMode as an absent one (pointers upstream)', () => {
    const c = must(parseStorageClass(sc({ reclaimPolicy: null, volumeBindingMode: null })));
    expect([c.reclaimPolicy, c.volumeBindingMode]).toEqual(['Delete', 'Immediate']);
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
  it('limits parameters to 512 entries (worded in bytes, as upstream) and reports nothing else then', () => {
    const params = (n: number, extra: Obj = {}) => ({ ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])), ...extra });
    expect(lines(parseStorageClass(sc({ parameters: params(512) })))).toEqual([]);
    expect(lines(parseStorageClass(sc({ parameters: params(513) })))).toEqual(['parameters: Too long: may not be more than 512 bytes']);
    expect(lines(parseStorageClass(sc({ parameters: params(513, { '': 'v', big: 'x'.repeat(256 * 1024) }) })))).toEqual(['parameters: Too long: may not be more than 512 bytes']);
  });
  it('limits keys and values together to 256 KiB, counted in UTF-8 bytes', () => {
    expect(lines(parseStorageClass(sc({ parameters: { k: 'x'.repeat(256 * 1024 - 1) } })))).toEqual([]);
    expect(lines(parseStorageClass(sc({ parameters: { k: 'x'.repeat(256 * 1024) } })))).toEqual(['parameters: Too long: may not be more than 262144 bytes']);
    // 128 Ki two-byte characters: half the limit in UTF-16 units, over it in bytes.
    expect(lines(parseStorageClass(sc({ parameters: { k: '\u00e9'.repeat(128 * 1024) } })))).toEqual(['parameters: Too long: may not be more than 262144 bytes']);
  });
  it('refuses an empty key (reported before the size) and takes any other key', () => {
    expect(lines(parseStorageClass(sc({ parameters: { '': 'v' } })))).toEqual(['parameters: Invalid value: "": field can not be empty.']);
    expect(lines(parseStorageClass(sc({ parameters: { '': 'x'.repeat(256 * 1024 + 1) } })))).toEqual([
      'parameters: Invalid value: "": field can not be empty.',
      'parameters: Too long: may not be more than 262144 bytes',
    ]);
    expect(lines(parseStorageClass(sc({ parameters: { type: 'gp3', fsType: 'ext4', 'Not A/Label Key!': '' } })))).toEqual([]);
  });
  it('accepts Delete, Retain (and an explicit empty policy) but not Recycle', () => {
    expect(lines(parseStorageClass(sc({ reclaimPolicy: 'Recycle' })))).toEqual(['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']);
    expect(lines(parseStorageClass(sc({ reclaimPolicy: 'Retain' })))).toEqual([]);
    expect(lines(parseStorageClass(sc({ reclaimPolicy: '' })))).toEqual([]);
  });
  it('reads as kubectl shows it', () => {
    const r = parseStorageClass(sc({ reclaimPolicy: 'Foo' }, { name: 'x' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(invalid('StorageClass', 'storage.k8s.io', 'x', r.errors).message).toBe(
      'StorageClass.storage.k8s.io "x" is invalid: reclaimPolicy: Unsupported value: "Foo": supported values: "Delete", "Retain"',
    );
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
  it('reports the values of a requirement before its key, and compares terms as sets of keys and values', () => {
    const topo = (...terms: Obj[]) => sc({ allowedTopologies: terms });
    expect(lines(parseStorageClass(topo({ matchLabelExpressions: [{ key: '' }] })))).toEqual([
      'allowedTopologies[0].matchLabelExpressions[0].values: Required value',
      'allowedTopologies[0].matchLabelExpressions[0].key: Invalid value: "": name part must be non-empty',
      expect.stringMatching(/^allowedTopologies\[0\]\.matchLabelExpressions\[0\]\.key: Invalid value: "": name part must consist of/),
    ]);
    const zoneRack = { matchLabelExpressions: [{ key: 'zone', values: ['a'] }, { key: 'rack', values: ['r1'] }] };
    const rackZone = { matchLabelExpressions: [{ key: 'rack', values: ['r1'] }, { key: 'zone', values: ['a'] }] };
    expect(lines(parseStorageClass(topo(zoneRack, rackZone)))).toEqual(['allowedTopologies[1].matchLabelExpressions: Duplicate value: ""']);
    expect(lines(parseStorageClass(topo(zoneRack, { matchLabelExpressions: [{ key: 'zone', values: ['a'] }] })))).toEqual([]);
    expect(lines(parseStorageClass(topo({ matchLabelExpressions: [{ key: 'zone', values: ['a'] }] }, { matchLabelExpressions: [{ key: 'zone', values: ['b'] }] })))).toEqual([]);
    expect(lines(parseStorageClass(sc({ allowedTopologies: [] })))).toEqual([]);
  });
  it('reports a term without expressions once per term, plus once per earlier such term (as upstream)', () => {
    const dup = (i: number) => `allowedTopologies[${i}].matchLabelExpressions: Duplicate value: ""`;
    expect(lines(parseStorageClass(sc({ allowedTopologies: [{}] })))).toEqual([dup(0)]);
    expect(lines(parseStorageClass(sc({ allowedTopologies: [{ matchLabelExpressions: [] }] })))).toEqual([dup(0)]);
    expect(lines(parseStorageClass(sc({ allowedTopologies: [{}, {}] })))).toEqual([dup(0), dup(0), dup(1), dup(1), dup(1)]);
    expect(lines(parseStorageClass(sc({ allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a'] }] }, {}] })))).toEqual([dup(1), dup(1)]);
  });
  it('lists each distinct error once in the message, as upstream aggregates them, and keeps every cause', () => {
    const r = parseStorageClass(sc({ allowedTopologies: [{}, {}] }, { name: 'x' }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const err = invalid('StorageClass', 'storage.k8s.io', 'x', r.errors);
    expect(err.message).toBe(
      'StorageClass.storage.k8s.io "x" is invalid: [allowedTopologies[0].matchLabelExpressions: Duplicate value: "", allowedTopologies[1].matchLabelExpressions: Duplicate value: ""]',
    );
    expect(err.details?.causes).toHaveLength(5);
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
  it('reports parameters, provisioner, reclaimPolicy then volumeBindingMode when all change', () => {
    expect(update({ provisioner: 'example.com/other', parameters: {}, reclaimPolicy: '', volumeBindingMode: 'WaitForFirstConsumer' })).toEqual([
      'parameters: Forbidden: updates to parameters are forbidden.',
      'provisioner: Forbidden: updates to provisioner are forbidden.',
      'reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.',
      'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]);
  });
  it('compares the provisioner as written, not lowercased', () => {
    expect(update({ provisioner: 'EBS.csi.aws.com' })).toEqual(['provisioner: Forbidden: updates to provisioner are forbidden.']);
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
  it('knows the five deprecated node labels', () => {
    const keys = ['beta.kubernetes.io/arch', 'beta.kubernetes.io/os', 'failure-domain.beta.kubernetes.io/region', 'beta.kubernetes.io/instance-type', 'kubernetes.io/os'];
    const c = must(parseStorageClass(sc({ allowedTopologies: keys.map((key) => ({ matchLabelExpressions: [{ key, values: ['a'] }] })) })));
    expect(storageClassWarnings(c)).toEqual([
      'allowedTopologies[0].matchLabelExpressions[0].key: deprecated since v1.14; use "kubernetes.io/arch" instead',
      'allowedTopologies[1].matchLabelExpressions[0].key: deprecated since v1.14; use "kubernetes.io/os" instead',
      'allowedTopologies[2].matchLabelExpressions[0].key: deprecated since v1.17; use "topology.kubernetes.io/region" instead',
      'allowedTopologies[3].matchLabelExpressions[0].key: deprecated since v1.17; use "node.kubernetes.io/instance-type" instead',
    ]);
  });
});
