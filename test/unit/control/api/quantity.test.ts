import { describe, expect, it } from 'vitest';
import { compareQuantities, cpuMillis, memoryBytes, parseQuantity, quantityError } from '../../../../control/api/index.js';

const FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX = "unable to parse quantity's suffix";

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5],
    ['1', 1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['1.', 1],
    ['+2', 2],
    ['-1', -1],
    ['100n', 1e-7],
    ['3u', 3e-6],
    ['1k', 1000],
    ['1Ki', 1024],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['2T', 2e12],
    ['1P', 1e15],
    ['1E', 1e18],
    ['1Ei', 2 ** 60],
    ['1e3', 1000],
    ['1E3', 1000],
    ['5e-3', 0.005],
    ['1.5Gi', 1.5 * 2 ** 30],
    [2, 2],
    [0.25, 0.25],
    [1e21, 1e21],
  ] as const)('%s is %d', (input, want) => {
    expect(parseQuantity(input)).toBe(want);
  });

  it.each([
    ['', FORMAT],
    ['abc', FORMAT],
    ['1 Gi', FORMAT],
    ['Gi', FORMAT],
    ['1..2', FORMAT],
    ['.', FORMAT],
    ['1gi', FORMAT],
    ['1iK', SUFFIX],
    ['1KiB', FORMAT],
    ['1mm', SUFFIX],
    ['1e', SUFFIX],
    ['1Ki3', SUFFIX],
    ['1e1000000000', 'quantity is out of range'],
  ])('%j is rejected: %s', (input, message) => {
    expect(() => parseQuantity(input)).toThrow(message);
    expect(quantityError(input)).toBe(message);
  });

  it('treats non-string non-number input as malformed', () => {
    expect(quantityError(true)).toBe(FORMAT);
    expect(quantityError('1Gi')).toBeUndefined();
  });
});

describe('cpuMillis / memoryBytes', () => {
  it.each([
    ['100m', 100],
    ['0.1', 100],
    ['1', 1000],
    ['2.5', 2500],
    ['0.0001', 1], // rounded up to the milli scale, as upstream's ResourceList defaulting does
    ['1u', 1],
    [3, 3000],
  ] as const)('cpuMillis(%j) = %d', (q, want) => {
    expect(cpuMillis(q)).toBe(want);
  });

  it.each([
    ['128Mi', 134217728],
    ['1G', 1e9],
    ['1.5Ki', 1536],
    ['0.5', 1], // whole bytes, rounded up like Quantity.Value()
    ['100m', 1],
    [64, 64],
  ] as const)('memoryBytes(%j) = %d', (q, want) => {
    expect(memoryBytes(q)).toBe(want);
  });
});

describe('compareQuantities', () => {
  it.each([
    ['1', '1000m', 0],
    ['1Gi', '1G', 1],
    ['0.1', '100m', 0],
    ['500m', '1', -1],
    ['1Ki', '1024', 0],
  ] as const)('%s vs %s is %d', (a, b, want) => {
    expect(compareQuantities(a, b)).toBe(want);
  });
});

describe('quantities seen again', () => {
  it('give the same answers however often they are asked about, malformed ones too', () => {
    for (let round = 0; round < 3; round++) {
      expect(cpuMillis('250m')).toBe(250);
      expect(memoryBytes('64Mi')).toBe(64 * 2 ** 20);
      expect(quantityError('12Mii')).toBe(SUFFIX);
      expect(quantityError('abc')).toBe(FORMAT);
      expect(() => parseQuantity('12Mii')).toThrow(SUFFIX);
    }
  });

  it('stay right after more distinct quantities than are remembered', () => {
    for (let i = 0; i < 2000; i++) expect(memoryBytes(`${i}Ki`)).toBe(i * 1024);
    expect(cpuMillis('1500m')).toBe(1500);
  });
});
