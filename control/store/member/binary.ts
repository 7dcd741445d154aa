/**
 * The binary layout Skiff's members share: numbers as float64 (exact for the safe integers they carry), byte strings
 * and UTF-8 strings as a u32 length then the bytes, booleans as a byte, all big-endian. Raft messages between members
 * (wire.ts) and the snapshots of the store (codec.ts) are written and read with these.
 */

/** Appends to a buffer that grows as needed. */
export class BinaryWriter {
  buf: Buffer;
  off = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.off++] = v;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.off);
    this.off += 4;
  }
  num(v: number): void {
    this.room(8);
    this.buf.writeDoubleBE(v, this.off);
    this.off += 8;
  }
  bool(v: boolean | undefined): void {
    this.u8(v === true ? 1 : 0);
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.off);
    this.off += b.length;
  }
  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.u32(n);
    this.room(n);
    this.buf.write(s, this.off, n, 'utf8');
    this.off += n;
  }
  /** An optional string: a presence byte, then the string. */
  optStr(s: string | undefined): void {
    this.u8(s === undefined ? 0 : 1);
    if (s !== undefined) this.str(s);
  }
}

/** Reads what BinaryWriter wrote, checking every length against the buffer; errors are made by `error`. */
export class BinaryReader {
  off = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly error: (message: string) => Error,
  ) {}
  private need(n: number): void {
    if (this.off + n > this.buf.length) throw this.error(`truncated at byte ${this.off} (need ${n} more)`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.off++] as number;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  /** A safe integer (ids, terms, indexes). */
  int(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.off);
    this.off += 8;
    if (!Number.isSafeInteger(v) || v < 0) throw this.error(`expected a non-negative integer at byte ${this.off - 8}, got ${v}`);
    return v;
  }
  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw this.error(`expected a boolean at byte ${this.off - 1}`);
    return v === 1;
  }
  /** A copy, so a retained entry never pins the whole frame. */
  bytes(): Uint8Array {
    const n = this.u32();
    this.need(n);
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return out;
  }
  str(): string {
    const n = this.u32();
    this.need(n);
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  optStr(): string | undefined {
    return this.bool() ? this.str() : undefined;
  }
  done(): boolean {
    return this.off === this.buf.length;
  }
}
