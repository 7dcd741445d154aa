import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../lib/duration.js';
import { flagHelpLines } from '../lib/command-flags.js';
import { parseGoBool } from '../lib/go-bool.js';
import { sysctlPatternError } from './sysctl-allowlist.js';

/**
 * The agent's settings: the kubelet's flag names on the command line, and the same settings in a
 * KubeletConfiguration-style YAML file (`--config`). Flags win over the file, as upstream.
 */

const duration = (def: string) =>
  z
    .union([z.string(), z.number()])
    .default(def)
    .transform((v, ctx) => {
      const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid duration "${String(v)}" (expected e.g. "20s", "1m30s", "500ms")` });
        return z.NEVER;
      }
      return ms;
    });

const cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/, 'expected an IPv4 CIDR such as 10.88.0.0/16');

export const AgentConfigSchema = z
  .object({
    staticPodPath: z.string().min(1).optional(),
    staticPodURL: z.string().url().optional(),
    staticPodURLHeader: z.record(z.string(), z.array(z.string())).default({}),
    fileCheckFrequency: duration('20s'),
    httpCheckFrequency: duration('20s'),
    syncFrequency: duration('1m'),
    hostnameOverride: z.string().min(1).optional(),
    rootDir: z.string().min(1).default('/var/lib/skiff/agent'),
    address: z.string().default('0.0.0.0'),
    readOnlyPort: z.number().int().min(0).max(65535).default(10255),
    /** The node server over TLS (kubelet's --port); 0 disables it (a Skiff extension). */
    port: z.number().int().min(0).max(65535).default(10250),
    tlsCertFile: z.string().min(1).optional(),
    tlsPrivateKeyFile: z.string().min(1).optional(),
    authentication: z
      .object({
        x509: z.object({ clientCAFile: z.string().min(1).optional() }).prefault({}),
        webhook: z.object({ enabled: z.boolean().default(true) }).prefault({}),
      })
      .prefault({}),
    /**
     * The pod range of this node's bridge network. Unset: in cluster mode the Node's spec.podCIDR (given by the control
     * plane's node IPAM), standalone STANDALONE_POD_CIDR; as kubelet's --pod-cidr, a given value wins.
     */
    podCIDR: cidr.optional(),
    podInfraContainerImage: z.string().default('skiff/pause:3.10'),
    containerRuntimeEndpoint: z.string().default('unix:///var/run/docker.sock'),
    nodeIP: z.string().optional(),
    maxPods: z.number().int().positive().default(110),
    /** The cluster DNS Service IPs written into pods' resolv.conf (ClusterFirst); none: pods get the node's. */
    clusterDNS: z.array(z.string().refine((v) => isIP(v) !== 0, 'expected an IP address')).default([]),
    clusterDomain: z.string().default(''),
    /** The node's resolver configuration, for dnsPolicy Default (and ClusterFirst's extra search paths). */
    resolvConf: z.string().default('/etc/resolv.conf'),
    /** Unsafe sysctls (names or prefixes ending in `*`) pods may set besides the safe ones; upstream's allowedUnsafeSysctls. */
    allowedUnsafeSysctls: z
      .array(z.string())
      .default([])
      .superRefine((patterns, ctx) => {
        for (const p of patterns) {
          const err = sysctlPatternError(p);
          if (err !== undefined) ctx.addIssue({ code: 'custom', message: err });
        }
      }),
    /**
     * Containers whose pod and container leave seccompProfile unset run with the runtime's default profile
     * (RuntimeDefault) instead of none (Unconfined): upstream's seccompDefault, off by default as there.
     */
    seccompDefault: z.boolean().default(false),
    /**
     * Cluster mode: the client-side rate limit of the agent's API requests (upstream's kubeAPIQPS and kubeAPIBurst,
     * whole numbers >= 0; a QPS of 0 is client-go's default of 5). Node status and lease renewals are not held to
     * it, as upstream's heartbeat client is not, and events have a bucket of their own (eventRecordQPS 50, burst 100).
     */
    kubeAPIQPS: z.number().int().min(0, 'must not be a negative number').default(50),
    kubeAPIBurst: z.number().int().min(0, 'must not be a negative number').default(100),
    /**
     * Cluster mode: the events' own bucket (upstream's eventRecordQPS and eventBurst, whole numbers >= 0; 0 is
     * client-go's default of 5/s or bursts of 10, as upstream's kubelet hands them to its event client as they are).
     */
    eventRecordQPS: z.number().int().min(0, 'must not be a negative number').default(50),
    eventBurst: z.number().int().min(0, 'must not be a negative number').default(100),
    /** Cluster mode: the API server to register with and take pods from (a flag upstream, not a config field). */
    kubeconfig: z.string().min(1).optional(),
    /** TLS bootstrap: a kubeconfig with a join token, used to obtain --kubeconfig when that file does not exist yet. */
    bootstrapKubeconfig: z.string().min(1).optional(),
    nodeLabels: z.record(z.string(), z.string()).default({}),
    registerWithTaints: z.array(z.object({ key: z.string().min(1), value: z.string().optional(), effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) })).default([]),
    crashLoopBackOff: z
      .object({
        /** Upstream's KubeletCrashLoopBackOffMax setting. */
        maxContainerRestartPeriod: duration('300s'),
        /** Skiff extensions, mainly for tests: the first delay and how long a run resets the back-off. */
        initialContainerRestartPeriod: duration('10s'),
        resetPeriod: duration('10m'),
      })
      .prefault({}),
  })
  .strict();

/** The pod range of an agent that runs without a control plane and without --pod-cidr. */
export const STANDALONE_POD_CIDR = '10.88.0.0/16';

export type AgentConfig = z.output<typeof AgentConfigSchema>;
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;

/** The flag table: flag name → config field, with help text. Kept as data so --help and parsing agree. */
const FLAGS = [
  ['pod-manifest-path', 'staticPodPath', 'string', 'Directory of static pod manifests (*.yaml, *.yml, *.json), watched for changes'],
  ['manifest-url', 'staticPodURL', 'string', 'URL of a Pod, PodList or multi-document YAML, polled for static pods'],
  ['manifest-url-header', 'staticPodURLHeader', 'list', "HTTP header sent with --manifest-url, as 'Key:Value' (repeatable)"],
  ['file-check-frequency', 'fileCheckFrequency', 'string', 'How often the manifest directory is re-listed (default 20s)'],
  ['http-check-frequency', 'httpCheckFrequency', 'string', 'How often --manifest-url is polled (default 20s)'],
  ['sync-frequency', 'syncFrequency', 'string', 'Maximum time between full syncs of every pod (default 1m)'],
  ['hostname-override', 'hostnameOverride', 'string', 'Node name to use instead of the hostname'],
  ['root-dir', 'rootDir', 'string', 'Directory for pod data and agent state (default /var/lib/skiff/agent)'],
  ['address', 'address', 'string', 'IP address the read-only port listens on (default 0.0.0.0)'],
  ['port', 'port', 'number', 'Port of the node server over TLS: exec, attach, port-forward, logs, stats (default 10250; 0 disables)'],
  ['tls-cert-file', 'tlsCertFile', 'string', 'Serving certificate of the node server (default: a self-signed one in <root-dir>/pki)'],
  ['tls-private-key-file', 'tlsPrivateKeyFile', 'string', 'Key of --tls-cert-file'],
  ['client-ca-file', 'clientCAFile', 'string', 'CA whose client certificates the node server accepts (authentication.x509.clientCAFile)'],
  ['read-only-port', 'readOnlyPort', 'number', 'Port of the read-only HTTP API: /healthz, /pods, /metrics, /containerLogs (default 10255; 0 disables)'],
  ['pod-cidr', 'podCIDR', 'string', 'IP range for pods on the bridge network Skiff creates (default: the Node\'s spec.podCIDR in a cluster, else 10.88.0.0/16)'],
  ['pod-infra-container-image', 'podInfraContainerImage', 'string', 'Sandbox (pause) image (default skiff/pause:3.10)'],
  ['container-runtime-endpoint', 'containerRuntimeEndpoint', 'string', 'Docker endpoint (default unix:///var/run/docker.sock)'],
  ['node-ip', 'nodeIP', 'string', "The node's IP address, reported as hostIP (default: the first non-internal IPv4)"],
  ['max-pods', 'maxPods', 'number', 'Maximum number of pods on this node (default 110)'],
  ['cluster-dns', 'clusterDNS', 'csv', 'Comma-separated DNS server IPs for pods with dnsPolicy ClusterFirst (e.g. 10.96.0.10)'],
  ['cluster-domain', 'clusterDomain', 'string', 'The cluster domain; pods search it in addition to the node\'s search domains (e.g. cluster.local)'],
  ['resolv-conf', 'resolvConf', 'string', 'Resolver configuration used as the basis for pod DNS (default /etc/resolv.conf)'],
  ['allowed-unsafe-sysctls', 'allowedUnsafeSysctls', 'patterns', "Comma-separated unsafe sysctls or sysctl patterns (ending in '*') pods may set, e.g. 'kernel.msg*,net.core.somaxconn'"],
  ['seccomp-default', 'seccompDefault', 'bool', 'Run containers without a seccompProfile under the runtime\'s default profile (RuntimeDefault) instead of Unconfined (default false)'],
  ['kube-api-qps', 'kubeAPIQPS', 'number', 'Requests per second to the API server, beyond which requests wait their turn (default 50; 0: client-go\'s default of 5)'],
  ['kube-api-burst', 'kubeAPIBurst', 'number', 'Requests to the API server that may go at once before --kube-api-qps applies (default 100; 0: client-go\'s default of 10)'],
  ['event-qps', 'eventRecordQPS', 'number', 'Events per second sent to the API server, beyond which they wait their turn (default 50; 0: client-go\'s default of 5)'],
  ['event-burst', 'eventBurst', 'number', 'Events that may go at once before --event-qps applies (default 100; 0: client-go\'s default of 10)'],
  ['kubeconfig', 'kubeconfig', 'string', 'Join a cluster: register this node with the API server in this kubeconfig and run the pods bound to it'],
  ['bootstrap-kubeconfig', 'bootstrapKubeconfig', 'string', 'Kubeconfig with a join token: when --kubeconfig does not exist, obtain a client certificate for this node and write it there'],
  ['node-labels', 'nodeLabels', 'labels', "Labels to add when registering the node, as 'key=value,key2=value2'"],
  ['register-with-taints', 'registerWithTaints', 'taints', "Taints to register the node with, as 'key=value:Effect,key2:Effect'"],
] as const;

export function agentHelp(): string {
  const lines = [
    'Usage: skiff agent [flags]',
    '',
    'Runs the node agent (the kubelet): static pods from a directory, a URL and its own HTTP API, on Docker.',
    '',
    'Flags:',
  ];
  const rows: Array<readonly [string, string]> = [['--config FILE', 'KubeletConfiguration-style YAML with the same settings; flags win']];
  for (const [flag, , type, help] of FLAGS) {
    rows.push([`--${flag}${type === 'number' ? ' N' : type === 'list' ? ' K:V' : type === 'labels' ? ' K=V,...' : type === 'taints' ? ' K=V:E,...' : type === 'csv' ? ' IP,...' : type === 'patterns' ? ' NAME,...' : type === 'bool' ? '' : ' VALUE'}`, help]);
  }
  rows.push(['-h, --help', 'Show this help']);
  lines.push(...flagHelpLines(rows));
  return lines.join('\n');
}

export class ConfigError extends Error {}

/** One line per issue: a value given by flag is blamed on that flag, any other on the config file. */
function formatZodIssues(error: z.ZodError, origin: string, flagFields: ReadonlyMap<string, string> = new Map()): string {
  return error.issues
    .map((i) => {
      const flag = flagFields.get(String(i.path[0] ?? ''));
      if (flag !== undefined && i.path.length <= 1) return `--${flag}: ${i.message}`;
      return `${origin}: ${i.path.join('.') || '(root)'}: ${i.message}`;
    })
    .join('\n');
}

/** Parses `skiff agent` arguments and the optional --config file into a validated configuration. */
export async function loadAgentConfig(argv: string[]): Promise<{ config: AgentConfig; help: boolean }> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  for (const [flag, , type] of FLAGS) options[flag] = { type: 'string', ...(type === 'list' ? { multiple: true } : {}) };
  // A Go bool flag: given bare it means true, and it also takes =true/=false.
  const boolFlags = new Set(FLAGS.filter(([, , type]) => type === 'bool').map(([flag]) => `--${flag}`));
  const args = argv.map((a) => (boolFlags.has(a) ? `${a}=true` : a));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: false, strict: true });
  } catch (err) {
    throw new ConfigError(`${err instanceof Error ? err.message : String(err)}\nRun "skiff agent --help" for the flags.`);
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values.help) return { config: AgentConfigSchema.parse({}), help: true };

  let fromFile: Record<string, unknown> = {};
  const configPath = values.config;
  if (typeof configPath === 'string') {
    let text: string;
    try {
      text = await readFile(configPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`--config ${configPath}: ${err instanceof Error ? err.message : String(err)}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`${configPath}: invalid YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${configPath}: expected a KubeletConfiguration object`);
    const { apiVersion, kind, ...rest } = doc as Record<string, unknown>;
    if (kind !== undefined && kind !== 'KubeletConfiguration') throw new ConfigError(`${configPath}: kind: expected KubeletConfiguration, got ${String(kind)}`);
    void apiVersion;
    fromFile = rest;
  }

  const fromFlags: Record<string, unknown> = {};
  for (const [flag, field, type] of FLAGS) {
    const v = values[flag];
    if (v === undefined) continue;
    if (type === 'number') {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new ConfigError(`--${flag}: expected a whole number, got "${String(v)}"`);
      fromFlags[field] = n;
    } else if (type === 'bool') {
      const b = parseGoBool(String(v));
      if (b === undefined) throw new ConfigError(`--${flag}: invalid boolean "${String(v)}" (expected true or false)`);
      fromFlags[field] = b;
    } else if (type === 'labels') {
      const labels: Record<string, string> = {};
      for (const item of String(v).split(',').filter(Boolean)) {
        const i = item.indexOf('=');
        if (i <= 0) throw new ConfigError(`--${flag}: expected 'key=value', got "${item}"`);
        labels[item.slice(0, i).trim()] = item.slice(i + 1).trim();
      }
      fromFlags[field] = labels;
    } else if (type === 'taints') {
      const taints: Array<{ key: string; value?: string; effect: string }> = [];
      for (const item of String(v).split(',').filter(Boolean)) {
        const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(item.trim());
        if (!m) throw new ConfigError(`--${flag}: expected 'key=value:Effect' or 'key:Effect', got "${item}"`);
        taints.push({ key: m[1] as string, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as string });
      }
      fromFlags[field] = taints;
    } else if (type === 'csv' || type === 'patterns') {
      fromFlags[field] = String(v)
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    } else if (type === 'list') {
      const headers: Record<string, string[]> = {};
      for (const item of v as string[]) {
        const i = item.indexOf(':');
        if (i <= 0) throw new ConfigError(`--${flag}: expected 'Key:Value', got "${item}"`);
        (headers[item.slice(0, i).trim()] ??= []).push(item.slice(i + 1).trim());
      }
      fromFlags[field] = headers;
    } else fromFlags[field] = v;
  }
  // --client-ca-file sets a nested field of the configuration file, as upstream's flag does.
  if (typeof fromFlags.clientCAFile === 'string') {
    const auth = (fromFile.authentication ?? {}) as Record<string, unknown>;
    fromFlags.authentication = { ...auth, x509: { ...((auth.x509 ?? {}) as Record<string, unknown>), clientCAFile: fromFlags.clientCAFile } };
    delete fromFlags.clientCAFile;
  }
  const result = AgentConfigSchema.safeParse({ ...fromFile, ...fromFlags });
  if (!result.success) {
    const flagFields = new Map(FLAGS.filter(([, field]) => field in fromFlags).map(([flag, field]) => [field as string, flag as string]));
    throw new ConfigError(formatZodIssues(result.error, typeof configPath === 'string' ? configPath : 'flags', flagFields));
  }
  return { config: result.data, help: false };
}

/** The node's name: --hostname-override, else the lowercased hostname, as upstream. */
export function nodeNameOf(config: AgentConfig): string {
  return (config.hostnameOverride ?? hostname()).toLowerCase();
}

export function describeConfig(config: AgentConfig): Record<string, unknown> {
  return {
    ...config,
    fileCheckFrequency: formatDuration(config.fileCheckFrequency),
    httpCheckFrequency: formatDuration(config.httpCheckFrequency),
    syncFrequency: formatDuration(config.syncFrequency),
  };
}
