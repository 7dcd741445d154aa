import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from './control-harness.js';

const table = (out: string): string[][] => out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

const storageClassYaml = (provisioner: string): string =>
  [
    'apiVersion: storage.k8s.io/v1',
    'kind: StorageClass',
    'metadata:',
    '  name: fast',
    '  annotations:',
    '    storageclass.kubernetes.io/is-default-class: "true"',
    `provisioner: ${provisioner}`,
    'parameters:',
    '  type: gp3',
    'volumeBindingMode: WaitForFirstConsumer',
    'allowVolumeExpansion: true',
    '',
  ].join('\n');

/** storage.k8s.io/v1 StorageClasses with the real kubectl against `skiff control`. */
describe('kubectl and storage.k8s.io/v1', () => {
  const cp = new ControlPlane();
  beforeAll(async () => {
    await cp.start();
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('lists storageclasses in api-resources with the short name sc', () => {
    const lines = cp.k(['api-resources', '--api-group=storage.k8s.io']).trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/))).toEqual([['storageclasses', 'sc', 'storage.k8s.io/v1', 'false', 'StorageClass']]);
  });

  it('applies a default StorageClass from YAML and prints it with upstream columns', () => {
    const file = cp.writeFile('sc.yaml', storageClassYaml('ebs.csi.aws.com'));
    expect(cp.k(['apply', '-f', file]).trim()).toBe('storageclass.storage.k8s.io/fast created');
    const rows = table(cp.k(['get', 'sc']));
    expect(rows[0]).toEqual(['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
    expect(rows[1]?.slice(0, 5)).toEqual(['fast (default)', 'ebs.csi.aws.com', 'Delete', 'WaitForFirstConsumer', 'true']);
    expect(cp.k(['get', 'storageclass', 'fast', '-o', 'name']).trim()).toBe('storageclass.storage.k8s.io/fast');
    const o = JSON.parse(cp.k(['get', 'sc', 'fast', '-o', 'json']));
    expect([o.provisioner, o.reclaimPolicy, o.volumeBindingMode, o.parameters]).toEqual(['ebs.csi.aws.com', 'Delete', 'WaitForFirstConsumer', { type: 'gp3' }]);
    expect(o.spec).toBeUndefined();
  });

  it('describes a storageclass', () => {
    const out = cp.k(['describe', 'sc', 'fast']);
    expect(out).toMatch(/^Name:\s+fast$/m);
    expect(out).toMatch(/^IsDefaultClass:\s+Yes$/m);
    expect(out).toMatch(/^Provisioner:\s+ebs\.csi\.aws\.com$/m);
    expect(out).toMatch(/^Parameters:\s+type=gp3$/m);
    expect(out).toMatch(/^AllowVolumeExpansion:\s+True$/m);
    expect(out).toMatch(/^ReclaimPolicy:\s+Delete$/m);
    expect(out).toMatch(/^VolumeBindingMode:\s+WaitForFirstConsumer$/m);
  });

  it('explains storageclass fields', () => {
    const out = cp.k(['explain', 'storageclass']);
    expect(out).toMatch(/^GROUP:\s+storage\.k8s\.io$/m);
    expect(out).toMatch(/^KIND:\s+StorageClass$/m);
    expect(out).toMatch(/^VERSION:\s+v1$/m);
    expect(out).toMatch(/^\s+provisioner\s+<string>/m);
    expect(out).toMatch(/^\s+allowedTopologies\s+<\[\]Object>$/m);
    const field = cp.k(['explain', 'sc.reclaimPolicy']);
    expect(field).toMatch(/^FIELD: reclaimPolicy <string>$/m);
    expect(field.replace(/\s+/g, ' ')).toContain('Delete (the default) or Retain');
  });

  it('refuses to change the provisioner with kubectl apply (422)', () => {
    const file = cp.writeFile('sc-changed.yaml', storageClassYaml('example.com/other'));
    const r = cp.kubectl(['apply', '-f', file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('The StorageClass "fast" is invalid: provisioner: Forbidden: updates to provisioner are forbidden.');
    expect(cp.kubectl(['-v=6', 'apply', '-f', file]).stderr).toMatch(/PATCH https:\/\/127\.0\.0\.1:\d+\/apis\/storage\.k8s\.io\/v1\/storageclasses\/fast\?\S* 422 Unprocessable Entity/);
    expect(cp.k(['get', 'sc', 'fast', '-o', 'jsonpath={.provisioner}'])).toBe('ebs.csi.aws.com');
  });

  it('refuses an invalid class with upstream messages', () => {
    const bad = cp.kubectl(['create', '-f', cp.writeFile('bad-sc.yaml', 'apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: bad\nprovisioner: x.io/y\nreclaimPolicy: Recycle\n')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe('The StorageClass "bad" is invalid: reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"');
  });

  it('gives a new claim without a class the default class', () => {
    const claim = (name: string, extra = '') =>
      cp.writeFile(`${name}.yaml`, `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: ${name}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n${extra}`);
    expect(cp.k(['create', '-f', claim('data')]).trim()).toBe('persistentvolumeclaim/data created');
    expect(cp.k(['get', 'pvc', 'data', '-o', 'jsonpath={.spec.storageClassName}'])).toBe('fast');
    cp.k(['create', '-f', claim('none', '  storageClassName: ""\n')]);
    expect(cp.k(['get', 'pvc', 'none', '-o', 'jsonpath={.spec.storageClassName}'])).toBe('');
  });
});
