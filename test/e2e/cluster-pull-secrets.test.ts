import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeIdentity } from '../../cli/identities.js';
import { AgentProcess, eventually, freePort } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * imagePullSecrets end to end: a registry on 127.0.0.1 that requires basic authentication (htpasswd, bcrypt), a
 * control plane, and an agent in cluster mode that reads the pod's kubernetes.io/dockerconfigjson Secret through the
 * API and hands the matching credentials to Docker. dockerd treats 127.0.0.0/8 registries as insecure, so plain
 * HTTP works without daemon configuration, and the registry (distribution 2.8) accepts htpasswd without TLS.
 */
describe('imagePullSecrets against a registry that requires authentication', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'skiff-e2e-authregistry-'));
  let registry: ChildProcess | undefined;
  let port = 0;
  let image = '';
  const user = 'skiff-puller';
  const password = `pw-${Math.random().toString(36).slice(2)}`;

  const waitingReason = (pod: string): string =>
    cp.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}']).stdout.trim();
  const podEvents = (pod: string): Array<{ reason: string; type: string; message: string }> => {
    const list = JSON.parse(cp.k(['get', 'events', '-o', 'json'])) as { items: Array<{ involvedObject: { name: string }; reason: string; type: string; message: string }> };
    return list.items.filter((e) => e.involvedObject.name === pod);
  };
  const podYaml = (name: string, secrets: string[]): string =>
    [
      'apiVersion: v1',
      'kind: Pod',
      `metadata: {name: ${name}}`,
      'spec:',
      '  terminationGracePeriodSeconds: 1',
      ...(secrets.length > 0 ? ['  imagePullSecrets:', ...secrets.map((s) => `  - name: ${s}`)] : []),
      '  containers:',
      '  - name: web',
      `    image: ${image}`,
      '    imagePullPolicy: Always',
      '',
    ].join('\n');

  beforeAll(async () => {
    // The registry: bcrypt users only (htpasswd -B), on a free loopback port.
    const hash = spawnSync('htpasswd', ['-nbB', user, password], { encoding: 'utf8' });
    if (hash.status !== 0) throw new Error(`htpasswd failed (is apache2-utils installed? scripts/install-deps.sh): ${hash.stderr}`);
    writeFileSync(join(dir, 'htpasswd'), hash.stdout.trim() + '\n');
    port = await freePort();
    writeFileSync(
      join(dir, 'config.yml'),
      [
        'version: 0.1',
        'log: {level: error}',
        `storage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}`,
        `http: {addr: 127.0.0.1:${port}}`,
        `auth: {htpasswd: {realm: skiff-test, path: ${join(dir, 'htpasswd')}}}`,
        '',
      ].join('\n'),
    );
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.status === 401, 'registry up, asking for credentials', 30_000);

    // Push the test image with the credentials, then drop it locally so that pods must pull it.
    agent = new AgentProcess({ args: ['--kubeconfig', join(cp.dir, 'node.kubeconfig'), '--address', '0.0.0.0'] });
    const docker = agent.docker;
    image = `127.0.0.1:${port}/skiff-it/private-web:v1`;
    await docker.getImage('skiff/web:1.0').tag({ repo: `127.0.0.1:${port}/skiff-it/private-web`, tag: 'v1' });
    const push = await docker.getImage(image).push({ authconfig: { username: user, password, serveraddress: `127.0.0.1:${port}` } });
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(push, (err: Error | null) => (err ? reject(err) : resolve())));
    await docker.getImage(image).remove();

    await cp.start();
    await cp.writeKubeconfig(join(cp.dir, 'node.kubeconfig'), nodeIdentity(agent.nodeName));
    await agent.start();
    const nodeName = agent.nodeName;
    await eventually(() => cp.k(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'node Ready');
  }, 180_000);

  afterAll(async () => {
    await agent?.cleanup();
    await cp.stop();
    if (agent && image) await agent.docker.getImage(image).remove({ force: true }).catch(() => undefined);
    const r = registry;
    if (r && r.exitCode === null && r.signalCode === null) {
      const exited = new Promise<void>((resolve) => r.once('exit', () => resolve()));
      r.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an anonymous pull: without a secret, and with a secret that does not exist (FailedToRetrieveImagePullSecret)', async () => {
    const registryAnswer = await fetch(`http://127.0.0.1:${port}/v2/skiff-it/private-web/manifests/v1`);
    expect(registryAnswer.status).toBe(401);
    cp.k(['apply', '-f', '-'], { input: podYaml('anon', []) });
    cp.k(['apply', '-f', '-'], { input: podYaml('private', ['regcred']) });
    for (const pod of ['anon', 'private']) {
      await eventually(() => ['ErrImagePull', 'ImagePullBackOff'].includes(waitingReason(pod)), `${pod} failing to pull`, 90_000);
      expect(cp.k(['get', 'pod', pod, '-o', 'jsonpath={.status.phase}'])).toBe('Pending');
    }
    const failed = await eventually(() => podEvents('anon').find((e) => e.reason === 'Failed' && e.message.startsWith('Failed to pull image')), 'the anonymous pull failure event');
    expect(failed.message).toContain(image);
    const missing = await eventually(() => podEvents('private').find((e) => e.reason === 'FailedToRetrieveImagePullSecret'), 'FailedToRetrieveImagePullSecret');
    expect(missing).toMatchObject({ type: 'Warning', message: 'Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.' });
    expect(podEvents('anon').some((e) => e.reason === 'FailedToRetrieveImagePullSecret')).toBe(false);
  }, 180_000);

  it('pulls with a kubernetes.io/dockerconfigjson secret once it exists, and only for the pod that names it', async () => {
    cp.k(['create', 'secret', 'docker-registry', 'regcred', `--docker-server=127.0.0.1:${port}`, `--docker-username=${user}`, `--docker-password=${password}`]);
    expect(cp.k(['get', 'secret', 'regcred', '-o', 'jsonpath={.type}'])).toBe('kubernetes.io/dockerconfigjson');
    // The agent watches the secret the pod names: its creation re-syncs the pod, which pulls at its next try.
    await eventually(() => cp.k(['get', 'pod', 'private', '-o', 'jsonpath={.status.phase}']) === 'Running', 'private Running with the pull secret', 120_000);
    expect(podEvents('private').some((e) => e.reason === 'Pulled' && e.message.startsWith(`Successfully pulled image "${image}"`))).toBe(true);
    // The image is on the node now, but "Always" pulls again: the pod without credentials is still refused.
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(waitingReason('anon'));
    expect(cp.k(['get', 'pod', 'anon', '-o', 'jsonpath={.status.phase}'])).toBe('Pending');
  }, 180_000);

  it('tries each matching credential: a wrong one first does not stop a right one', async () => {
    cp.k(['create', 'secret', 'docker-registry', 'wrongcred', `--docker-server=http://127.0.0.1:${port}/v2/`, `--docker-username=${user}`, '--docker-password=wrong']);
    cp.k(['apply', '-f', '-'], { input: podYaml('rotated', ['wrongcred', 'regcred']) });
    await eventually(() => cp.k(['get', 'pod', 'rotated', '-o', 'jsonpath={.status.phase}']) === 'Running', 'rotated Running', 120_000);
    cp.k(['apply', '-f', '-'], { input: podYaml('wrongonly', ['wrongcred']) });
    await eventually(() => ['ErrImagePull', 'ImagePullBackOff'].includes(waitingReason('wrongonly')), 'wrongonly failing to pull', 90_000);
  }, 240_000);
});
