import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureClusterPki } from '../../../control/apiserver/pki.js';
import { loadKubeconfig } from '../../../control/client/index.js';
import { ensureComponentKubeconfig, nodeIdentity, proxyIdentity, subjectOf } from '../../../cli/identities.js';

describe('skiff up: the agent and proxy identities', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'skiff-ids-'));
    dirs.push(d);
    return d;
  };

  it('writes a kubeconfig per identity, signed by the cluster CA, and keeps it while it is still right', async () => {
    const dir = tmp();
    const pki = await ensureClusterPki(join(dir, 'pki'), { serverNames: ['127.0.0.1'], serverUrl: 'https://127.0.0.1:6443' });
    const agent = join(dir, 'agent.kubeconfig');
    expect(await ensureComponentKubeconfig(agent, join(dir, 'pki'), 'https://127.0.0.1:6443', nodeIdentity('n1'))).toBe(true);
    expect(statSync(agent).mode & 0o777).toBe(0o600);
    const conn = await loadKubeconfig(agent);
    expect(conn.server).toBe('https://127.0.0.1:6443');
    expect(conn.ca?.trim()).toBe(pki.ca.cert.trim());
    expect(subjectOf(conn.cert as string)).toEqual({ commonName: 'system:node:n1', organizations: ['system:nodes'] });
    const before = await readFile(agent, 'utf8');
    expect(await ensureComponentKubeconfig(agent, join(dir, 'pki'), 'https://127.0.0.1:6443', nodeIdentity('n1'))).toBe(false);
    expect(await readFile(agent, 'utf8')).toBe(before);
    // Another node name or another server: replaced.
    expect(await ensureComponentKubeconfig(agent, join(dir, 'pki'), 'https://127.0.0.1:6443', nodeIdentity('n2'))).toBe(true);
    expect(subjectOf((await loadKubeconfig(agent)).cert as string).commonName).toBe('system:node:n2');
    expect(await ensureComponentKubeconfig(agent, join(dir, 'pki'), 'https://127.0.0.1:7443', nodeIdentity('n2'))).toBe(true);

    const proxy = join(dir, 'proxy.kubeconfig');
    await ensureComponentKubeconfig(proxy, join(dir, 'pki'), 'https://127.0.0.1:6443', proxyIdentity());
    expect(subjectOf((await loadKubeconfig(proxy)).cert as string)).toEqual({ commonName: 'system:kube-proxy', organizations: [] });
  });
});
