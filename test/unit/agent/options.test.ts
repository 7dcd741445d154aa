import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentHelp, AgentConfigSchema, ConfigError, describeConfig, loadAgentConfig, nodeNameOf } from '../../../agent/options.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'skiff-options-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function configError(argv: string[]): Promise<string> {
  try {
    await loadAgentConfig(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to be rejected`);
}

describe('loadAgentConfig: defaults', () => {
  it('has the kubelet defaults', async () => {
    const { config, help } = await loadAgentConfig([]);
    expect(help).toBe(false);
    expect(config).toMatchObject({
      fileCheckFrequency: 20_000,
      httpCheckFrequency: 20_000,
      syncFrequency: 60_000,
      readOnlyPort: 10255,
      address: '0.0.0.0',
      rootDir: '/var/lib/skiff/agent',
      maxPods: 110,
      staticPodURLHeader: {},
      crashLoopBackOff: { maxContainerRestartPeriod: 300_000, initialContainerRestartPeriod: 10_000, resetPeriod: 600_000 },
    });
    expect(config.staticPodPath).toBeUndefined();
    // Unset, so that a node in a cluster takes its range from its Node's spec.podCIDR.
    expect(config.podCIDR).toBeUndefined();
    expect(config.seccompDefault).toBe(false);
  });
});

describe('loadAgentConfig: --seccomp-default', () => {
  it('is a Go bool flag: bare means true, =true/=false and ParseBool spellings; seccompDefault in the file, the flag winning', async () => {
    expect((await loadAgentConfig(['--seccomp-default'])).config.seccompDefault).toBe(true);
    expect((await loadAgentConfig(['--seccomp-default=true'])).config.seccompDefault).toBe(true);
    expect((await loadAgentConfig(['--seccomp-default=T'])).config.seccompDefault).toBe(true);
    expect((await loadAgentConfig(['--seccomp-default=false'])).config.seccompDefault).toBe(false);
    const f = file('k.yaml', 'kind: KubeletConfiguration\nseccompDefault: true\n');
    expect((await loadAgentConfig(['--config', f])).config.seccompDefault).toBe(true);
    expect((await loadAgentConfig(['--config', f, '--seccomp-default=0'])).config.seccompDefault).toBe(false);
  });
  it('rejects a value that is not a boolean, from the flag or the file', async () => {
    expect(await configError(['--seccomp-default=maybe'])).toBe('--seccomp-default: invalid boolean "maybe" (expected true or false)');
    const f = file('k.yaml', 'seccompDefault: yes-please\n');
    expect(await configError(['--config', f])).toMatch(/k\.yaml: seccompDefault: /);
  });
});

describe('loadAgentConfig: --kube-api-qps and --kube-api-burst', () => {
  it("default to upstream kubelet's 50 and 100; kubeAPIQPS/kubeAPIBurst in the file, the flags winning", async () => {
    expect((await loadAgentConfig([])).config).toMatchObject({ kubeAPIQPS: 50, kubeAPIBurst: 100 });
    expect((await loadAgentConfig(['--kube-api-qps', '5', '--kube-api-burst', '10'])).config).toMatchObject({ kubeAPIQPS: 5, kubeAPIBurst: 10 });
    const f = file('k.yaml', 'kind: KubeletConfiguration\nkubeAPIQPS: 20\nkubeAPIBurst: 40\n');
    expect((await loadAgentConfig(['--config', f])).config).toMatchObject({ kubeAPIQPS: 20, kubeAPIBurst: 40 });
    expect((await loadAgentConfig(['--config', f, '--kube-api-qps', '30'])).config).toMatchObject({ kubeAPIQPS: 30, kubeAPIBurst: 40 });
  });
  it('rejects negative and fractional values with the flag named', async () => {
    expect(await configError(['--kube-api-qps=-1'])).toBe('--kube-api-qps: must not be a negative number');
    expect(await configError(['--kube-api-burst', '2.5'])).toBe('--kube-api-burst: expected a whole number, got "2.5"');
    expect(await configError(['--config', file('k.yaml', 'kubeAPIBurst: -3\n')])).toMatch(/k\.yaml: kubeAPIBurst: must not be a negative number/);
  });
});

describe('loadAgentConfig: --event-qps and --event-burst', () => {
  it("default to upstream kubelet's 50 and 100; eventRecordQPS/eventBurst in the file, the flags winning; 0 allowed", async () => {
    expect((await loadAgentConfig([])).config).toMatchObject({ eventRecordQPS: 50, eventBurst: 100 });
    expect((await loadAgentConfig(['--event-qps', '0', '--event-burst', '0'])).config).toMatchObject({ eventRecordQPS: 0, eventBurst: 0 });
    const f = file('k.yaml', 'kind: KubeletConfiguration\neventRecordQPS: 5\neventBurst: 7\n');
    expect((await loadAgentConfig(['--config', f])).config).toMatchObject({ eventRecordQPS: 5, eventBurst: 7 });
    expect((await loadAgentConfig(['--config', f, '--event-burst=9'])).config).toMatchObject({ eventRecordQPS: 5, eventBurst: 9 });
  });
  it('rejects negative and fractional values with the flag or field named', async () => {
    expect(await configError(['--event-qps=-1'])).toBe('--event-qps: must not be a negative number');
    expect(await configError(['--event-burst', '1.5'])).toBe('--event-burst: expected a whole number, got "1.5"');
    expect(await configError(['--config', file('k.yaml', 'eventRecordQPS: -2\n')])).toMatch(/k\.yaml: eventRecordQPS: must not be a negative number/);
  });
});

describe('loadAgentConfig: cluster DNS', () => {
  it('reads --cluster-dns (comma-separated), --cluster-domain and --resolv-conf, or clusterDNS/clusterDomain in the file', async () => {
    const { config } = await loadAgentConfig(['--cluster-dns', '10.96.0.10,10.96.0.11', '--cluster-domain', 'cluster.local', '--resolv-conf', '/tmp/r.conf']);
    expect(config).toMatchObject({ clusterDNS: ['10.96.0.10', '10.96.0.11'], clusterDomain: 'cluster.local', resolvConf: '/tmp/r.conf' });
    const f = file('k.yaml', 'kind: KubeletConfiguration\nclusterDNS: [10.96.0.10]\nclusterDomain: cluster.local\n');
    expect((await loadAgentConfig(['--config', f])).config).toMatchObject({ clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', resolvConf: '/etc/resolv.conf' });
    expect((await loadAgentConfig([])).config).toMatchObject({ clusterDNS: [], clusterDomain: '' });
  });
  it('rejects a --cluster-dns that is not an IP', async () => {
    expect(await configError(['--cluster-dns', 'dns.example'])).toContain('expected an IP address');
  });
});

describe('loadAgentConfig: flags and the config file', () => {
  it('takes settings from the file, and flags win over it', async () => {
    const cfg = file(
      'kubelet.yaml',
      ['apiVersion: kubelet.config.k8s.io/v1beta1', 'kind: KubeletConfiguration', 'staticPodPath: /etc/from-file', 'readOnlyPort: 1234', 'fileCheckFrequency: 5s', 'maxPods: 7'].join('\n'),
    );
    const { config } = await loadAgentConfig(['--config', cfg, '--read-only-port', '4321', '--pod-manifest-path', '/etc/from-flag']);
    expect(config.readOnlyPort).toBe(4321);
    expect(config.staticPodPath).toBe('/etc/from-flag');
    expect(config.fileCheckFrequency).toBe(5000);
    expect(config.maxPods).toBe(7);
  });

  it('accepts a file without apiVersion/kind and nested crashLoopBackOff settings', async () => {
    const cfg = file('k.yaml', 'crashLoopBackOff:\n  maxContainerRestartPeriod: 1m\n  initialContainerRestartPeriod: 100ms\n');
    const { config } = await loadAgentConfig(['--config', cfg]);
    expect(config.crashLoopBackOff).toEqual({ maxContainerRestartPeriod: 60_000, initialContainerRestartPeriod: 100, resetPeriod: 600_000 });
  });

  it.each([
    ['20s', 20_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
    ['1.5s', 1500],
    ['0', 0],
  ])('parses the duration %j as %i ms', async (text, ms) => {
    const { config } = await loadAgentConfig(['--sync-frequency', text, '--file-check-frequency', text]);
    expect(config.syncFrequency).toBe(ms);
    expect(config.fileCheckFrequency).toBe(ms);
  });

  it('reads a bare number in the file as seconds', async () => {
    const cfg = file('k.yaml', 'syncFrequency: 3\n');
    expect((await loadAgentConfig(['--config', cfg])).config.syncFrequency).toBe(3000);
  });

  it("parses repeated --manifest-url-header 'Key:Value' flags", async () => {
    const { config } = await loadAgentConfig([
      '--manifest-url',
      'http://example.com/pods',
      '--manifest-url-header',
      'Authorization:Bearer abc',
      '--manifest-url-header',
      'X-Tag: a',
      '--manifest-url-header',
      'X-Tag:b:c',
    ]);
    expect(config.staticPodURL).toBe('http://example.com/pods');
    expect(config.staticPodURLHeader).toEqual({ Authorization: ['Bearer abc'], 'X-Tag': ['a', 'b:c'] });
  });
});

describe('loadAgentConfig: the node server', () => {
  it('listens on 10250 with webhook authentication by default; --port, TLS files and --client-ca-file set it', async () => {
    const defaults = (await loadAgentConfig([])).config;
    expect([defaults.port, defaults.authentication.webhook.enabled, defaults.authentication.x509.clientCAFile]).toEqual([10250, true, undefined]);
    const { config } = await loadAgentConfig(['--port', '11250', '--tls-cert-file', '/c.crt', '--tls-private-key-file', '/c.key', '--client-ca-file', '/ca.crt']);
    expect([config.port, config.tlsCertFile, config.tlsPrivateKeyFile, config.authentication.x509.clientCAFile]).toEqual([11250, '/c.crt', '/c.key', '/ca.crt']);
  });

  it('takes the client CA from the file, and --client-ca-file wins over it keeping the other authentication settings', async () => {
    const cfg = file('auth.yaml', 'authentication:\n  x509:\n    clientCAFile: /file-ca.crt\n  webhook:\n    enabled: false\n');
    expect((await loadAgentConfig(['--config', cfg])).config.authentication).toEqual({ x509: { clientCAFile: '/file-ca.crt' }, webhook: { enabled: false } });
    expect((await loadAgentConfig(['--config', cfg, '--client-ca-file', '/flag-ca.crt'])).config.authentication).toEqual({ x509: { clientCAFile: '/flag-ca.crt' }, webhook: { enabled: false } });
  });
});

describe('loadAgentConfig: errors name the flag or the file', () => {
  it.each([
    [['--read-only-port', 'abc'], ['--read-only-port', 'whole number']],
    [['--max-pods', '1.5'], ['--max-pods']],
    [['--manifest-url-header', 'novalue'], ['--manifest-url-header', "'Key:Value'", 'novalue']],
    [['--manifest-url-header', ':x'], ['--manifest-url-header']],
    [['--file-check-frequency', '20x'], ['--file-check-frequency', 'invalid duration "20x"']],
    [['--sync-frequency=-1s'], ['--sync-frequency', 'invalid duration "-1s"']],
    [['--sync-frequency', '-1s'], ['--sync-frequency']],
    [['--read-only-port', '70000'], ['--read-only-port']],
    [['--pod-cidr', '10.0.0.0'], ['--pod-cidr', 'CIDR']],
    [['--manifest-url', 'not a url'], ['--manifest-url']],
    [['--no-such-flag'], ['no-such-flag', '--help']],
    [['stray'], ['stray', '--help']],
  ])('%j', async (argv, words) => {
    const message = await configError(argv);
    for (const w of words) expect(message).toContain(w);
  });

  it('a bad flag value is blamed on the flag even when a config file is given', async () => {
    const cfg = file('ok.yaml', 'maxPods: 5\n');
    const message = await configError(['--config', cfg, '--read-only-port', '70000']);
    expect(message).toContain('--read-only-port');
    expect(message).not.toContain(cfg);
  });

  it('a bad file value names the file and the field', async () => {
    const cfg = file('bad.yaml', 'readOnlyPort: "x"\nfileCheckFrequency: soon\n');
    const message = await configError(['--config', cfg]);
    expect(message).toContain(`${cfg}: readOnlyPort`);
    expect(message).toContain(`${cfg}: fileCheckFrequency`);
    expect(message).toContain('invalid duration "soon"');
  });

  it('an unknown field in the file is rejected, naming it', async () => {
    const cfg = file('typo.yaml', 'staticPodPth: /etc\n');
    const message = await configError(['--config', cfg]);
    expect(message).toContain(cfg);
    expect(message).toContain('staticPodPth');
  });

  it.each([
    ['invalid YAML', 'a: [1, 2\n', 'invalid YAML'],
    ['not an object', '- 1\n- 2\n', 'expected a KubeletConfiguration object'],
    ['the wrong kind', 'kind: Pod\n', 'kind: expected KubeletConfiguration, got Pod'],
  ])('a config file with %s is rejected, naming the file', async (_what, text, words) => {
    const cfg = file('c.yaml', text);
    const message = await configError(['--config', cfg]);
    expect(message).toContain(cfg);
    expect(message).toContain(words);
  });

  it('a missing config file is reported with --config and its path', async () => {
    const message = await configError(['--config', join(dir, 'missing.yaml')]);
    expect(message).toContain(`--config ${join(dir, 'missing.yaml')}`);
  });
});

describe('--help', () => {
  const flags = [
    'config',
    'seccomp-default',
    'kube-api-qps',
    'kube-api-burst',
    'event-qps',
    'event-burst',
    'kubeconfig',
    'bootstrap-kubeconfig',
    'cluster-dns',
    'cluster-domain',
    'resolv-conf',
    'allowed-unsafe-sysctls',
    'node-labels',
    'register-with-taints',
    'pod-manifest-path',
    'manifest-url',
    'manifest-url-header',
    'file-check-frequency',
    'http-check-frequency',
    'sync-frequency',
    'hostname-override',
    'root-dir',
    'address',
    'read-only-port',
    'port',
    'tls-cert-file',
    'tls-private-key-file',
    'client-ca-file',
    'pod-cidr',
    'pod-infra-container-image',
    'container-runtime-endpoint',
    'node-ip',
    'max-pods',
    'help',
  ];

  it.each([['--help'], ['-h']])('%s asks for help', async (arg) => {
    expect((await loadAgentConfig([arg])).help).toBe(true);
  });

  it('lists every flag, and every listed flag is accepted', async () => {
    const help = agentHelp();
    for (const f of flags) expect(help).toMatch(new RegExp(`--${f}\\b`));
    const listed = [...help.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
    for (const f of listed) expect(flags).toContain(f);
  });
});

describe('nodeNameOf / describeConfig', () => {
  it('lowercases --hostname-override', () => {
    expect(nodeNameOf(AgentConfigSchema.parse({ hostnameOverride: 'Node-A' }))).toBe('node-a');
  });

  it('shows durations as text', () => {
    const d = describeConfig(AgentConfigSchema.parse({ fileCheckFrequency: '90s', syncFrequency: '1m', httpCheckFrequency: '250ms' }));
    expect(d).toMatchObject({ fileCheckFrequency: '90s', syncFrequency: '1m', httpCheckFrequency: '250ms' });
  });
});
