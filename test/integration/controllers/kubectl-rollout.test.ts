import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../control/controllers/objects.js';
import { eventually, R, startCluster, type Cluster } from './harness.js';

const deployment = JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } } },
});

const image = async (c: Cluster): Promise<string | undefined> => (await c.client.get<Deployment>(R.deployments, 'default', 'web')).spec.template?.spec?.containers?.[0]?.image;

describe('kubectl rollout on Deployments', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('status, history, undo, pause and resume', async () => {
    cluster = await startCluster(['deployment', 'replicaset']);
    const c = cluster;
    expect((await c.kubectl(['apply', '-f', '-'], deployment)).stdout.trim()).toBe('deployment.apps/web created');
    const status = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(status.code).toBe(0);
    expect(status.stdout.trim().split('\n').pop()).toBe('deployment "web" successfully rolled out');

    expect((await c.kubectl(['set', 'image', 'deployment/web', 'web=nginx:1.26'])).stdout.trim()).toBe('deployment.apps/web image updated');
    await c.kubectl(['annotate', 'deployment/web', 'kubernetes.io/change-cause=to 1.26']);
    const second = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('deployment "web" successfully rolled out');

    const history = await c.kubectl(['rollout', 'history', 'deployment/web']);
    const lines = history.stdout.trim().split('\n');
    expect(lines[0]).toBe('deployment.apps/web ');
    expect(lines[1]?.split(/\s{2,}/)).toEqual(['REVISION', 'CHANGE-CAUSE']);
    expect(lines[2]?.split(/\s{2,}/)).toEqual(['1', '<none>']);
    expect(lines[3]?.split(/\s{2,}/)).toEqual(['2', 'to 1.26']);
    const rev1 = await c.kubectl(['rollout', 'history', 'deployment/web', '--revision=1']);
    expect(rev1.stdout).toMatch(/Image:\s+nginx:1\.25/);

    expect((await c.kubectl(['rollout', 'undo', 'deployment/web'])).stdout.trim()).toBe('deployment.apps/web rolled back');
    await eventually(async () => (await image(c)) === 'nginx:1.25', 'template back at nginx:1.25');
    expect((await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code).toBe(0);
    const after = (await c.kubectl(['rollout', 'history', 'deployment/web'])).stdout.trim().split('\n').slice(2).map((l) => l.split(/\s{2,}/)[0]);
    // Revision 1 became revision 3.
    expect(after).toEqual(['2', '3']);

    expect((await c.kubectl(['rollout', 'pause', 'deployment/web'])).stdout.trim()).toBe('deployment.apps/web paused');
    await c.kubectl(['set', 'image', 'deployment/web', 'web=nginx:1.27']);
    // Paused: no new ReplicaSet for nginx:1.27, and status says so.
    await eventually(async () => (await c.client.get<Deployment>(R.deployments, 'default', 'web')).status?.conditions?.find((x) => x.type === 'Progressing')?.reason === 'DeploymentPaused', 'DeploymentPaused');
    const rss = (await c.client.list<{ metadata: { name: string }; spec: { template: { spec: { containers: Array<{ image: string }> } } } } & Record<string, unknown>>(R.replicasets, { namespace: 'default' })).items;
    expect(rss.some((rs) => rs.spec.template.spec.containers[0]?.image === 'nginx:1.27')).toBe(false);
    expect((await c.kubectl(['rollout', 'resume', 'deployment/web'])).stdout.trim()).toBe('deployment.apps/web resumed');
    expect((await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'])).code).toBe(0);
    const rss2 = (await c.client.list<{ metadata: { name: string }; spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } } & Record<string, unknown>>(R.replicasets, { namespace: 'default' })).items;
    expect(rss2.find((rs) => rs.spec.template.spec.containers[0]?.image === 'nginx:1.27')?.spec.replicas).toBe(3);
  });
});
