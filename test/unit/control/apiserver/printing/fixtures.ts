// Shared helpers for the printing tests: a fixed clock, timestamps relative to it, and kubectl's table layout.
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import type { ColumnDefinition } from '../../../../../control/apiserver/printing/table.js';

export const NOW = new Date('2026-11-30T12:00:00Z');

/** An RFC 3339 timestamp `seconds` before NOW (negative: in the future), second precision as the API stores it. */
export function ago(seconds: number): string {
  return new Date(NOW.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const MIN = 60;
export const HOUR = 3600;
export const DAY = 86400;

export function obj(kind: string, apiVersion: string, metadata: KubeObject['metadata'], rest: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { creationTimestamp: ago(5 * MIN), ...metadata }, ...rest };
}

interface Table {
  columnDefinitions?: ColumnDefinition[];
  rows: Array<{ cells: unknown[] }>;
}

function cellText(cell: unknown): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'string') {
    // kubectl cuts a cell at its first line break and marks it with "...".
    const i = cell.search(/[\f\n\r]/);
    return i >= 0 ? `${cell.slice(0, i)}...` : cell;
  }
  return String(cell);
}

/**
 * What `kubectl get` prints for a server-side Table (k8s.io/cli-runtime's printTable through a text/tabwriter with
 * minwidth 6, padding 3): upper-cased column names, priority-1 columns only with -o wide, every column but the last
 * padded to its widest cell plus three spaces. The table goes through JSON first, as it does on the wire.
 */
export function kubectlGet(table: Record<string, unknown>, opts: { wide?: boolean } = {}): string {
  const t = JSON.parse(JSON.stringify(table)) as Table;
  const cols = t.columnDefinitions ?? [];
  const keep = cols.map((c) => opts.wide === true || c.priority === 0);
  const lines: string[][] = [cols.filter((_, i) => keep[i]).map((c) => c.name.toUpperCase())];
  for (const row of t.rows) lines.push(row.cells.filter((_, i) => i < cols.length && keep[i]).map(cellText));
  const n = lines[0]?.length ?? 0;
  const widths: number[] = [];
  for (let c = 0; c < n - 1; c++) widths.push(Math.max(6, ...lines.map((l) => (l[c] ?? '').length + 3)));
  return lines.map((l) => l.map((cell, c) => (c < n - 1 ? cell.padEnd(widths[c] as number) : cell)).join('')).join('\n') + '\n';
}
