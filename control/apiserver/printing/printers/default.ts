import type { KindPrinter } from '../table.js';
import { col, NAME_DOC, CREATION_DOC } from './common.js';

/**
 * The API server's default table (k8s.io/apiserver rest.NewDefaultTableConvertor), which upstream serves for kinds
 * that have no printer (roles, cluster roles, limit ranges): NAME, and CREATED AT as an RFC 3339 UTC time.
 */
export const createdAtPrinter: KindPrinter = {
  columns: [col('Name', 'string', NAME_DOC, 0, 'name'), col('Created At', 'date', CREATION_DOC)],
  cells: (o) => {
    const ts = o.metadata.creationTimestamp;
    const t = ts ? Date.parse(ts) : NaN;
    // Go formats the zero time as 0001-01-01T00:00:00Z.
    const created = Number.isNaN(t) ? '0001-01-01T00:00:00Z' : new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    return [o.metadata.name ?? '', created];
  },
};
