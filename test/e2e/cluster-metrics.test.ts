import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * The resource metrics pipeline end to end: the agent's /metrics/resource (TLS node server) → the control plane's
 * scraper → metrics.k8s.io → `kubectl top` and the horizontal pod autoscaler, with the real kubectl.
 */
describe('kubectl top and kubectl autoscale on a real agent', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess;

  beforeAll(async () => {
    await cp.start(['--metric-resolution', '2s', '--horizontal-pod-autoscaler-sync-period', '2s']);
    agent = new AgentProcess({ args: ['--kubeconfig', cp.kubeconfig] });
    await agent.start();
    await eventually(() => cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'node Ready', 60_000);
    await eventually(() => cp.kubectl(['get', 'serviceaccount', 'default']).code === 0, 'the default service account', 30_000);
  }, 180_000);

  afterAll(async () => {
    cp.kubectl(['delete', 'deployment', 'burn', '--wait=false']);
    await agent?.cleanup();
    await cp.stop();
  });

  it('shows node and pod usage with kubectl top', async () => {
    // One busy container: its CPU usage is far above its 50m request.
    cp.k(['create', 'deployment', 'burn', '--image=skiff/busybox:1.0', '--', 'sh', '-c', 'while true; do :; done']);
    cp.k(['set', 'resources', 'deployment', 'burn', '--requests=cpu=50m']);
    await eventually(() => cp.k(['get', 'pods', '-l', 'app=burn', '-o', 'jsonpath={.items[*].status.phase}']).trim() === 'Running', 'the burn pod Running', 90_000);
    const nodeTop = await eventually(() => {
      const r = cp.kubectl(['top', 'node', agent.nodeName, '--no-headers']);
      return r.code === 0 ? r.stdout : undefined;
    }, 'kubectl top node', 60_000);
    expect(nodeTop).toMatch(new RegExp(`^${agent.nodeName}\\s+\\d+m\\s+\\d+%\\s+\\d+Mi\\s+\\d+%`));
    const podTop = await eventually(() => {
      const r = cp.kubectl(['top', 'pod', '-l', 'app=burn', '--no-headers']);
      const m = /^burn-\S+\s+(\d+)m\s+(\d+)Mi/.exec(r.stdout);
      return r.code === 0 && m && Number(m[1]) > 100 ? m : undefined;
    }, 'kubectl top pod showing the busy loop', 60_000);
    expect(Number(podTop[1])).toBeGreaterThan(100);
  });

  it('scales the deployment out with kubectl autoscale', async () => {
    cp.k(['autoscale', 'deployment', 'burn', '--cpu-percent=50', '--min=1', '--max=2']);
    await eventually(() => cp.k(['get', 'deployment', 'burn', '-o', 'jsonpath={.spec.replicas}']) === '2', 'the HPA to scale burn to 2', 90_000);
    const row = await eventually(() => {
      const out = cp.k(['get', 'hpa', 'burn', '--no-headers']);
      return /cpu: \d+%\/50%/.test(out) ? out : undefined;
    }, 'kubectl get hpa to show the current utilization', 60_000);
    expect(row).toMatch(/^burn\s+Deployment\/burn\s+cpu: \d+%\/50%\s+1\s+2\s+[12]\s/);
    const events = cp.k(['get', 'events', '--field-selector', 'involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale', '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain('New size: 2; reason: cpu resource utilization (percentage of request) above target');
  });
});
