/**
 * Event names as upstream's recorders make them: "<object name>.<hex Unix nanoseconds>". Clocks here tell
 * milliseconds, so a counter fills the nanoseconds below them and names made in one millisecond still differ.
 */
export class EventNamer {
  private seq = 0n;

  name(objectName: string, atMs: number): string {
    this.seq = (this.seq + 1n) % 1_000_000n;
    return `${objectName}.${(BigInt(atMs) * 1_000_000n + this.seq).toString(16)}`;
  }
}
