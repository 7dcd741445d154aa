import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeIdentity } from '../../cli/identities.js';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/** spec.readinessGates: the agent holds Ready back until another client sets the gate's condition through pods/status. */
describe('readiness gates with a control plane and an agent', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess;
  beforeAll(async () => {
    await cp.start();
    const nodeKubeconfig = join(cp.dir, 'node.kubeconfig');
    agent = new AgentProcess({ args: ['--kubeconfig', nodeKubeconfig] });
    await cp.writeKubeconfig(nodeKubeconfig, nodeIdentity(agent.nodeName));
    await agent.start();
  });
  afterAll(async () => {
    await agent?.cleanup();
    await cp.stop();
  });

  it('is Ready only once the gate\'s condition is True, and keeps the condition it does not own', async () => {
    await eventually(() => cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'node Ready');
    const overrides = { spec: { readinessGates: [{ conditionType: 'example.com/lb' }], terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'skiff/web:1.0' }] } };
    cp.k(['run', 'gated', '--image=skiff/web:1.0', `--overrides=${JSON.stringify(overrides)}`]);
    const ready = (): string => cp.k(['get', 'pod', 'gated', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}/{.status.conditions[?(@.type=="Ready")].message}']);
    await eventually(() => cp.k(['get', 'pod', 'gated', '-o', 'jsonpath={.status.conditions[?(@.type=="ContainersReady")].status}']) === 'True', 'containers ready', 90_000);
    expect(ready()).toBe('False/ReadinessGatesNotReady/corresponding condition of pod readiness gate "example.com/lb" does not exist.');

    cp.k(['patch', 'pod', 'gated', '--subresource=status', '-p', '{"status":{"conditions":[{"type":"example.com/lb","status":"False"}]}}']);
    await eventually(() => ready() === 'False/ReadinessGatesNotReady/the status of pod readiness gate "example.com/lb" is not "True", but False', 'gate False');

    cp.k(['patch', 'pod', 'gated', '--subresource=status', '-p', '{"status":{"conditions":[{"type":"example.com/lb","status":"True"}]}}']);
    await eventually(() => ready() === 'True//', 'Ready once the gate is True');
    expect(cp.k(['get', 'pod', 'gated', '-o', 'jsonpath={.status.conditions[?(@.type=="example.com/lb")].status}'])).toBe('True');
    expect(cp.k(['get', 'pod', 'gated'])).toMatch(/^gated\s+1\/1\s+Running/m);
    cp.k(['delete', 'pod', 'gated', '--wait=false']);
  });
});
