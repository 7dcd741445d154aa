import { describe, expect, it } from 'vitest';
import { crc32c, crc32cInSlices } from '../../../../../control/store/wal/crc32c.js';
import {
  HEADER_SIZE,
  RecordType,
  decodeRecord,
  encodeRecord,
  encodeRecords,
  findNextHeader,
  type WalRecord,
} from '../../../../../control/store/wal/record.js';

const enc = new TextEncoder();

describe('crc32c', () => {
  it('matches the standard check values', () => {
    expect(crc32c(0, enc.encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(0, new Uint8Array(0))).toBe(0);
    expect(crc32c(0, new Uint8Array(32))).toBe(0x8a9136aa); // 32 zero bytes (RFC 3720 B.4)
    expect(crc32c(0, new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const inc = new Uint8Array(32).map((_, i) => i);
    expect(crc32c(0, inc)).toBe(0x46dd794e);
  });

  it('chains: crc(crc(a), b) === crc(a ++ b), for every split point', () => {
    const data = new Uint8Array(100).map((_, i) => (i * 37 + 11) & 0xff);
    const whole = crc32c(0, data);
    for (let k = 0; k <= data.length; k++) {
      expect(crc32c(crc32c(0, data.subarray(0, k)), data.subarray(k))).toBe(whole);
      expect(crc32c(crc32c(0, data, 0, k), data, k)).toBe(whole);
    }
  });

  it('in slices: the same checksum, with the event loop let go between slices', async () => {
    const data = new Uint8Array(1000).map((_, i) => (i * 37 + 11) & 0xff);
    for (const slice of [1, 7, 100, 999, 1000, 5000]) expect(await crc32cInSlices(5, data, slice)).toBe(crc32c(5, data));
    let turns = 0;
    let done = false;
    const tick = (): void => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await crc32cInSlices(0, data, 100);
    done = true;
    // Ten slices, nine turns between them: nothing but the slicing lets the loop run here (no I/O).
    expect(turns).toBeGreaterThanOrEqual(8);
  });
});

const samples: WalRecord[] = [
  { type: RecordType.metadata, metadata: enc.encode('{"cluster":"c1","node":3}') },
  { type: RecordType.metadata, metadata: new Uint8Array(0) },
  { type: RecordType.entry, entry: { term: 7, index: 42, type: 'normal', data: enc.encode('hello') } },
  { type: RecordType.entry, entry: { term: 2 ** 40, index: Number.MAX_SAFE_INTEGER, type: 'confChange', data: new Uint8Array(0) } },
  { type: RecordType.hardState, hardState: { term: 9, vote: 2, commit: 40 } },
  { type: RecordType.crc, seed: 0xdeadbeef },
  { type: RecordType.snapshot, snapshot: { index: 100, term: 5 } },
];

describe('record encoding', () => {
  it('round-trips every record type, 8-byte aligned', () => {
    let crc = 0x1234;
    for (const rec of samples) {
      const { bytes, crc: next } = encodeRecord(rec, crc);
      expect(bytes.length % 8).toBe(0);
      const res = decodeRecord(bytes, 0, crc);
      expect(res.kind).toBe('ok');
      if (res.kind !== 'ok') return;
      expect(res.record).toEqual(rec);
      expect(res.crc).toBe(next);
      expect(res.next).toBe(bytes.length);
      crc = next;
    }
  });

  it('round-trips entry data of every length 0..40 (all paddings)', () => {
    for (let n = 0; n <= 40; n++) {
      const rec: WalRecord = { type: RecordType.entry, entry: { term: 1, index: n + 1, type: 'normal', data: new Uint8Array(n).fill(n) } };
      const { bytes } = encodeRecord(rec, 5);
      expect(bytes.length % 8).toBe(0);
      const res = decodeRecord(bytes, 0, 5);
      expect(res.kind === 'ok' && res.record).toEqual(rec);
    }
  });

  it('decodes a sequence, chaining CRCs', () => {
    const { bytes, crc } = encodeRecords(samples, 0);
    let off = 0;
    let chain = 0;
    const out: WalRecord[] = [];
    for (;;) {
      const res = decodeRecord(bytes, off, chain);
      if (res.kind === 'eof') break;
      expect(res.kind).toBe('ok');
      if (res.kind !== 'ok') return;
      out.push(res.record);
      chain = res.crc;
      off = res.next;
    }
    expect(chain).toBe(crc);
    // encodeRecords seeds crc records with the running chain value.
    expect(out.length).toBe(samples.length);
  });

  it('detects a record decoded against the wrong chain value (reordered or foreign record)', () => {
    const a = encodeRecord(samples[2]!, 0);
    const b = encodeRecord(samples[4]!, a.crc);
    expect(decodeRecord(b.bytes, 0, a.crc).kind).toBe('ok');
    const wrong = decodeRecord(b.bytes, 0, 0);
    expect(wrong).toMatchObject({ kind: 'bad', reason: expect.stringContaining('crc mismatch') });
  });

  it('detects every single-bit flip anywhere in a frame', () => {
    const { bytes } = encodeRecord(samples[2]!, 99);
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const copy = bytes.slice();
      copy[bit >> 3]! ^= 1 << (bit & 7);
      const res = decodeRecord(copy, 0, 99);
      expect(res.kind, `bit ${bit}`).not.toBe('ok');
    }
  });

  it('reports zero headers, torn headers and torn frames', () => {
    expect(decodeRecord(new Uint8Array(64), 0, 0).kind).toBe('zero');
    expect(decodeRecord(new Uint8Array(5), 0, 0).kind).toBe('zero');
    const { bytes } = encodeRecord(samples[0]!, 0);
    expect(decodeRecord(bytes.subarray(0, 10), 0, 0)).toMatchObject({ kind: 'bad', reason: expect.stringContaining('torn header') });
    expect(decodeRecord(bytes.subarray(0, bytes.length - 1), 0, 0)).toMatchObject({
      kind: 'bad',
      reason: expect.stringContaining('torn record'),
      frameEnd: bytes.length,
    });
    expect(decodeRecord(bytes, bytes.length, 0).kind).toBe('eof');
  });

  it('refuses values that are not safe integers', () => {
    expect(() => encodeRecord({ type: RecordType.hardState, hardState: { term: -1, vote: 0, commit: 0 } }, 0)).toThrow(RangeError);
    expect(() => encodeRecord({ type: RecordType.snapshot, snapshot: { index: 1.5, term: 0 } }, 0)).toThrow(RangeError);
  });

  it('findNextHeader finds well-formed headers only', () => {
    const { bytes } = encodeRecords(samples.slice(0, 3), 0);
    const first = encodeRecord(samples[0]!, 0).bytes.length;
    expect(findNextHeader(bytes, 1)).toBe(first);
    const garbage = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 0xff);
    expect(findNextHeader(garbage, 0)).toBe(-1);
    expect(findNextHeader(new Uint8Array(HEADER_SIZE * 4), 0)).toBe(-1);
  });
});
