/** client-go's tools/leaderelection: one active instance among several, through a Lease. */
export * from './record.js';
export * from './elector.js';
export * from './lease-lock.js';
