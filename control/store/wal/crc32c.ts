/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven with slicing-by-8.
 *
 * `crc32c(prev, bytes)` continues a checksum the way Go's crc32.Update does: crc32c(crc32c(0, a), b) equals
 * crc32c(0, a ++ b). The WAL uses that to chain every record's checksum onto the previous record's.
 */

import { nextTurn } from '../../../lib/event-loop.js';

const POLY = 0x82f63b78;

function buildTables(): Int32Array[] {
  const t0 = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t0[i] = c | 0;
  }
  const tables = [t0];
  for (let s = 1; s < 8; s++) {
    const prev = tables[s - 1] as Int32Array;
    const t = new Int32Array(256);
    for (let i = 0; i < 256; i++) {
      const p = prev[i] as number;
      t[i] = (p >>> 8) ^ (t0[p & 0xff] as number);
    }
    tables.push(t);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
  Int32Array,
];

/** Continues `prev` (0 to start) over bytes[start, end). Returns an unsigned 32-bit value. */
export function crc32c(prev: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = ~prev | 0;
  let i = start;
  const n8 = end - ((end - start) & 7);
  while (i < n8) {
    const a = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    crc =
      T7[a & 0xff]! ^
      T6[(a >>> 8) & 0xff]! ^
      T5[(a >>> 16) & 0xff]! ^
      T4[a >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) {
    crc = T0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
    i++;
  }
  return ~crc >>> 0;
}

/**
 * crc32c over `bytes`, `sliceBytes` at a time with the event loop let go in between: for data of tens of MB (a
 * snapshot), whose checksum in one go would hold the thread for tens of ms.
 */
export async function crc32cInSlices(prev: number, bytes: Uint8Array, sliceBytes = 1024 * 1024, pace: () => Promise<void> = nextTurn): Promise<number> {
  let crc = prev;
  for (let at = 0; at < bytes.length; at += sliceBytes) {
    if (at > 0) await pace();
    crc = crc32c(crc, bytes, at, Math.min(at + sliceBytes, bytes.length));
  }
  return crc;
}
