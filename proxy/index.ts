/** Skiff's service proxy (kube-proxy): iptables and userspace modes, and the `skiff proxy` entry point. */
export { runProxy, createProvider, connectInformers, type ProxyProvider, type ProxyDeps } from './main.js';
export { parseProxyFlags, proxyHelp, ProxyConfigError, type ProxyConfig } from './options.js';
export { IptablesProxier, cleanupIptables, type IptablesProxierOptions, type SyncReport } from './iptables/proxier.js';
export { renderRules, renderCleanup, serviceChainName, endpointChainName, type RenderInput, type RenderOptions, type RenderResult } from './iptables/rules.js';
export { UserspaceProxier, type UserspaceProxierOptions } from './userspace/proxier.js';
export { execRunner, type CommandRunner, type CommandResult } from './exec.js';
export { createProxyMetrics, type ProxyMetrics } from './metrics.js';
export { BoundedFrequencyRunner } from './runner.js';
