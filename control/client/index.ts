/** The client that agent/, proxy/ and the controllers use to talk to the API server. */
export * from './client.js';
export * from './informer.js';
export * from './kubeconfig.js';
export * from './workqueue.js';
export * from './rate-limiter.js';
export * from './event-name.js';
