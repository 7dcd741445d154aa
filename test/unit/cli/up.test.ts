import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { looksLikeDataDir } from '../../../cli/down.js';
import { daemonArgs, isSkiffDaemonCmdline, serviceRange, mergeKubeconfig, removeFromKubeconfig, sudoUser, userKubeconfigPath, type KubeconfigEntry, type UpSettings } from '../../../cli/up.js';

const entry: KubeconfigEntry = { server: 'https://127.0.0.1:6443', certificateAuthorityData: 'Q0E=', clientCertificateData: 'Q0VSVA==', clientKeyData: 'S0VZ' };

const other = {
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [{ name: 'kind-kind', cluster: { server: 'https://127.0.0.1:40000', 'certificate-authority-data': 'eA==' } }],
  users: [{ name: 'kind-kind', user: { token: 't' } }],
  contexts: [{ name: 'kind-kind', context: { cluster: 'kind-kind', user: 'kind-kind', namespace: 'dev' } }],
  'current-context': 'kind-kind',
  preferences: { colors: true },
  extensions: [{ name: 'x', extension: { a: 1 } }],
};

describe('mergeKubeconfig', () => {
  it('creates a complete kubeconfig from nothing, with embedded certificate data', () => {
    const cfg = mergeKubeconfig(undefined, entry);
    expect(cfg).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'skiff', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } }],
      users: [{ name: 'skiff', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': 'S0VZ' } }],
      contexts: [{ name: 'skiff', context: { cluster: 'skiff', user: 'skiff' } }],
      'current-context': 'skiff',
      preferences: {},
    });
    // Survives a YAML round trip unchanged.
    expect(parse(stringify(cfg))).toEqual(cfg);
  });

  it('keeps other clusters, users, contexts and fields, and switches the current context', () => {
    const before = structuredClone(other);
    const cfg = mergeKubeconfig(other, entry);
    expect(other).toEqual(before); // input untouched
    expect((cfg.clusters as Array<{ name: string }>).map((c) => c.name)).toEqual(['kind-kind', 'skiff']);
    expect((cfg.users as Array<{ name: string }>).map((c) => c.name)).toEqual(['kind-kind', 'skiff']);
    expect((cfg.contexts as Array<{ name: string }>).map((c) => c.name)).toEqual(['kind-kind', 'skiff']);
    expect(cfg.contexts).toContainEqual(other.contexts[0]);
    expect(cfg['current-context']).toBe('skiff');
    expect(cfg.preferences).toEqual({ colors: true });
    expect(cfg.extensions).toEqual(other.extensions);
  });

  it('replaces an earlier skiff entry in place instead of adding a second one', () => {
    const first = mergeKubeconfig(other, { ...entry, server: 'https://127.0.0.1:1' });
    const second = mergeKubeconfig({ ...first, 'current-context': 'kind-kind' }, entry);
    const clusters = second.clusters as Array<{ name: string; cluster: { server: string } }>;
    expect(clusters.filter((c) => c.name === 'skiff')).toHaveLength(1);
    expect(clusters.find((c) => c.name === 'skiff')?.cluster.server).toBe('https://127.0.0.1:6443');
    expect((second.contexts as unknown[]).length).toBe(2);
    expect(second['current-context']).toBe('skiff');
  });

  it('tolerates an empty or partial file (null lists)', () => {
    const cfg = mergeKubeconfig({ apiVersion: 'v1', clusters: null, users: null, contexts: null }, entry);
    expect((cfg.contexts as unknown[]).length).toBe(1);
    expect(mergeKubeconfig(null, entry)['current-context']).toBe('skiff');
  });

  it('uses another name when asked', () => {
    const cfg = mergeKubeconfig(undefined, entry, 'skiff-2');
    expect(cfg.contexts).toEqual([{ name: 'skiff-2', context: { cluster: 'skiff-2', user: 'skiff-2' } }]);
  });
});

describe('removeFromKubeconfig', () => {
  it('takes out exactly the skiff entries and clears current-context', () => {
    const { config, changed } = removeFromKubeconfig(mergeKubeconfig(other, entry));
    expect(changed).toBe(true);
    expect(config).toEqual({ ...other, 'current-context': '' });
  });

  it('keeps a current context that is not skiff', () => {
    const { config } = removeFromKubeconfig({ ...mergeKubeconfig(other, entry), 'current-context': 'kind-kind' });
    expect(config['current-context']).toBe('kind-kind');
  });

  it('reports no change when there is nothing to remove', () => {
    expect(removeFromKubeconfig(other).changed).toBe(false);
    expect(removeFromKubeconfig(undefined).changed).toBe(false);
  });
});

describe('userKubeconfigPath', () => {
  it('prefers the flag, then the first existing $KUBECONFIG entry, then its first entry, then ~/.kube/config', () => {
    expect(userKubeconfigPath('/x/config', { KUBECONFIG: '/a' }, '/home/u')).toBe('/x/config');
    expect(userKubeconfigPath(undefined, { KUBECONFIG: '/a:/b' }, '/home/u', (p) => p === '/b')).toBe('/b');
    expect(userKubeconfigPath(undefined, { KUBECONFIG: '/a:/b' }, '/home/u', () => false)).toBe('/a');
    expect(userKubeconfigPath(undefined, {}, '/home/u')).toBe('/home/u/.kube/config');
  });
});

describe('sudoUser', () => {
  const passwd = (): string => 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1001:Alice:/home/alice:/bin/bash\n';
  it('finds the invoking user behind sudo, so their ~/.kube/config is written and owned by them', () => {
    expect(sudoUser({ SUDO_USER: 'alice' }, passwd, 0)).toEqual({ home: '/home/alice', uid: 1000, gid: 1001 });
    expect(userKubeconfigPath(undefined, {}, sudoUser({ SUDO_USER: 'alice' }, passwd, 0)?.home)).toBe('/home/alice/.kube/config');
  });
  it('is nothing without sudo, for root, for an unknown user, or when not running as root', () => {
    expect(sudoUser({}, passwd, 0)).toBeUndefined();
    expect(sudoUser({ SUDO_USER: 'root' }, passwd, 0)).toBeUndefined();
    expect(sudoUser({ SUDO_USER: 'bob' }, passwd, 0)).toBeUndefined();
    expect(sudoUser({ SUDO_USER: 'alice' }, passwd, 1000)).toBeUndefined();
  });
});

describe('daemon processes', () => {
  it('recognises skiff daemons by their command line only', () => {
    expect(isSkiffDaemonCmdline(['/usr/bin/node', '/opt/skiff/dist/cli/skiff.js', 'agent', '--kubeconfig', 'x', ''].join('\0'), 'agent')).toBe(true);
    expect(isSkiffDaemonCmdline(['node', '/usr/local/bin/skiff', 'control', ''].join('\0'), 'control')).toBe(true);
    expect(isSkiffDaemonCmdline(['node', '/usr/local/bin/skiff', 'control', ''].join('\0'), 'agent')).toBe(false);
    expect(isSkiffDaemonCmdline(['sleep', '100', ''].join('\0'), 'proxy')).toBe(false);
    expect(isSkiffDaemonCmdline(['vim', 'proxy', ''].join('\0'), 'proxy')).toBe(false);
    expect(isSkiffDaemonCmdline('', 'proxy')).toBe(false);
  });

  it('gives each daemon its flags: the cluster CIDR to the control plane and the proxy, their own kubeconfigs to the agent and the proxy', () => {
    const s: UpSettings = { dataDir: '/d', kubeconfig: '/k', securePort: 7443, clusterCIDR: '10.200.0.0/16', readOnlyPort: 0, nodeName: 'n1', controlArgs: ['--event-ttl=2h'], agentArgs: [], proxyArgs: ['--metrics-bind-address=127.0.0.1:0'] };
    expect(daemonArgs(s, 'control')).toEqual(['--data-dir', '/d/control', '--secure-port', '7443', '--cluster-cidr', '10.200.0.0/16', '--event-ttl=2h']);
    expect(daemonArgs(s, 'agent')).toEqual(['--kubeconfig', '/d/agent.kubeconfig', '--root-dir', '/d/agent', '--hostname-override', 'n1', '--read-only-port', '0', '--cluster-dns', '10.96.0.10', '--cluster-domain', 'cluster.local']);
    expect(daemonArgs(s, 'proxy')).toEqual(['--kubeconfig', '/d/proxy.kubeconfig', '--hostname-override', 'n1', '--cluster-cidr', '10.200.0.0/16', '--service-cluster-ip-range', '10.96.0.0/12', '--cluster-dns', '10.96.0.10', '--cluster-domain', 'cluster.local', '--metrics-bind-address=127.0.0.1:0']);
  });

  it("gives the proxy the control plane's Service range, the default or the one a --control-arg sets", () => {
    expect(serviceRange({ controlArgs: [] })).toBe('10.96.0.0/12');
    expect(serviceRange({ controlArgs: ['--service-cluster-ip-range=10.100.0.0/16'] })).toBe('10.100.0.0/16');
    expect(serviceRange({ controlArgs: ['--event-ttl=2h', '--service-cluster-ip-range', '10.101.0.0/16'] })).toBe('10.101.0.0/16');
  });

  it('purges only directories that look like a Skiff data dir', () => {
    expect(looksLikeDataDir('/', ['skiff-up.json'])).toBe(false);
    expect(looksLikeDataDir('/var/lib/skiff', ['skiff-up.json', 'control', 'whatever'])).toBe(true);
    expect(looksLikeDataDir('/var/lib/skiff', ['control', 'logs'])).toBe(true);
    expect(looksLikeDataDir('/home/u', ['.bashrc', 'control'])).toBe(false);
    expect(looksLikeDataDir('/home/u', [])).toBe(false);
  });
});
