/** Skiff's service proxy (kube-proxy): iptables and userspace modes, and the `skiff proxy` entry point. */
export { runProxy, createProvider, connectInformers, startClusterDns, type ProxyProvider, type ProxyDeps, type EndpointsSource } from './main.js';
export { parseProxyFlags, proxyHelp, ProxyConfigError, type ProxyConfig } from './options.js';
export { IptablesProxier, cleanupIptables, type IptablesProxierOptions, type SyncReport } from './iptables/proxier.js';
export { renderRules, renderCleanup, serviceChainName, endpointChainName, type RenderInput, type RenderOptions, type RenderResult } from './iptables/rules.js';
export { UserspaceProxier, type UserspaceProxierOptions } from './userspace/proxier.js';
export { execRunner, type CommandRunner, type CommandResult } from './exec.js';
export { createProxyMetrics, type ProxyMetrics } from './metrics.js';
export { BoundedFrequencyRunner } from './runner.js';
export { ClusterDnsView, type DnsService } from './dns/view.js';
export { ClusterDnsServer, type DnsServerOptions } from './dns/server.js';
export { answerQuery, DEFAULT_DNS_TTL, type DnsAnswerConfig, type Resolution } from './dns/answer.js';
export { resolverUpstream, type Upstream } from './dns/forward.js';
export { EndpointSliceTracker, endpointsFromSlices, endpointsFromV1, SERVICE_NAME_LABEL, type ServiceEndpoints } from './endpoints.js';
