/**
 * A sorted set of strings as a list of sorted chunks (the layout of Python's sortedcontainers): insert and delete
 * cost a binary search plus a splice within one chunk of at most 2*LOAD keys, so 100k+ keys stay cheap without a
 * balanced tree, and range scans walk contiguous arrays.
 */
const LOAD = 512;

function lowerBound(arr: readonly string[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedKeySet {
  private chunks: string[][] = [];
  /** maxes[i] is the last key of chunks[i]: the search index over chunks. */
  private maxes: string[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds the key; false when it was already present. */
  add(key: string): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.maxes.push(key);
      this.count = 1;
      return true;
    }
    let i = lowerBound(this.maxes, key);
    if (i === this.chunks.length) {
      i--;
      this.chunks[i]!.push(key);
      this.maxes[i] = key;
    } else {
      const chunk = this.chunks[i]!;
      const j = lowerBound(chunk, key);
      if (chunk[j] === key) return false;
      chunk.splice(j, 0, key);
    }
    this.count++;
    const chunk = this.chunks[i]!;
    if (chunk.length > 2 * LOAD) {
      const tail = chunk.splice(LOAD);
      this.chunks.splice(i + 1, 0, tail);
      this.maxes.splice(i, 1, chunk[chunk.length - 1]!, tail[tail.length - 1]!);
    }
    return true;
  }

  /** Removes the key; false when it was absent. */
  delete(key: string): boolean {
    const i = lowerBound(this.maxes, key);
    const chunk = this.chunks[i];
    if (chunk === undefined) return false;
    const j = lowerBound(chunk, key);
    if (chunk[j] !== key) return false;
    chunk.splice(j, 1);
    this.count--;
    if (chunk.length === 0) {
      this.chunks.splice(i, 1);
      this.maxes.splice(i, 1);
    } else if (j === chunk.length) {
      this.maxes[i] = chunk[j - 1]!;
    }
    return true;
  }

  has(key: string): boolean {
    const chunk = this.chunks[lowerBound(this.maxes, key)];
    return chunk !== undefined && chunk[lowerBound(chunk, key)] === key;
  }

  /** Keys k with start <= k < end, ascending; end undefined means no upper bound. */
  *range(start: string, end: string | undefined): Generator<string> {
    let i = lowerBound(this.maxes, start);
    if (i >= this.chunks.length) return;
    let j = lowerBound(this.chunks[i]!, start);
    for (; i < this.chunks.length; i++, j = 0) {
      const chunk = this.chunks[i]!;
      for (; j < chunk.length; j++) {
        const key = chunk[j]!;
        if (end !== undefined && key >= end) return;
        yield key;
      }
    }
  }

  /** Builds from keys that are already sorted and unique (snapshot restore), in linear time. */
  static fromSorted(keys: readonly string[]): SortedKeySet {
    const set = new SortedKeySet();
    for (let i = 0; i < keys.length; i += LOAD) {
      const chunk = keys.slice(i, i + LOAD);
      set.chunks.push(chunk);
      set.maxes.push(chunk[chunk.length - 1]!);
    }
    set.count = keys.length;
    return set;
  }
}
