// Printer for storage.k8s.io/v1 StorageClasses, as upstream's printStorageClass.
import { describe, expect, it } from 'vitest';
import { storageClassPrinter } from '../../../../../control/apiserver/printing/printers/storage.js';
import { PRINTERS } from '../../../../../control/apiserver/printing/printers/index.js';
import { ago, DAY, NOW, obj } from './fixtures.js';

const sc = (rest: Record<string, unknown>, annotations?: Record<string, string>) =>
  obj('StorageClass', 'storage.k8s.io/v1', { name: 'fast', creationTimestamp: ago(2 * DAY), ...(annotations ? { annotations } : {}) }, rest);

describe('storageclasses', () => {
  it('has upstream columns and is registered', () => {
    expect(storageClassPrinter.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Provisioner', 'string', 0],
      ['ReclaimPolicy', 'string', 0],
      ['VolumeBindingMode', 'string', 0],
      ['AllowVolumeExpansion', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(PRINTERS.filter(([g]) => g === 'storage.k8s.io').map(([, k]) => k)).toEqual(['StorageClass']);
  });
  it('prints the policies, the expansion flag as a bool, and the age', () => {
    const row = storageClassPrinter.cells(sc({ provisioner: 'ebs.csi.aws.com', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true }), NOW);
    expect(row).toEqual(['fast', 'ebs.csi.aws.com', 'Retain', 'WaitForFirstConsumer', true, '2d']);
  });
  it('prints unset pointers as their defaults and false', () => {
    expect(storageClassPrinter.cells(sc({ provisioner: 'x.io/y' }), NOW)).toEqual(['fast', 'x.io/y', 'Delete', 'Immediate', false, '2d']);
  });
  it('marks the default class after its name (GA or beta annotation, only "true")', () => {
    expect(storageClassPrinter.cells(sc({ provisioner: 'p' }, { 'storageclass.kubernetes.io/is-default-class': 'true' }), NOW)[0]).toBe('fast (default)');
    expect(storageClassPrinter.cells(sc({ provisioner: 'p' }, { 'storageclass.beta.kubernetes.io/is-default-class': 'true' }), NOW)[0]).toBe('fast (default)');
    expect(storageClassPrinter.cells(sc({ provisioner: 'p' }, { 'storageclass.kubernetes.io/is-default-class': 'false' }), NOW)[0]).toBe('fast');
  });
});
