export * from './resource-list.js';
export * from './usage.js';
export * from './used.js';
