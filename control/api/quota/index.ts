export * from './resource-list.js';
export * from './usage.js';
