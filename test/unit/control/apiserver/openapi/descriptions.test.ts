import { describe, expect, it } from 'vitest';
import { groupVersionDocument } from '../../../../../control/apiserver/openapi/openapi.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const schema = (group: string, version: string, name: string): Json => (groupVersionDocument(group, version)?.doc as Json).components.schemas[name];

describe('OpenAPI descriptions for kubectl explain', () => {
  it('describe kinds, common metadata and the pod spec wherever a kind keeps one', () => {
    const pod = schema('', 'v1', 'io.k8s.api.core.v1.Pod');
    expect(pod.description).toMatch(/^A Pod is a group of containers/);
    expect(pod.properties.metadata.properties.labels.description).toMatch(/label selectors/);
    expect(pod.properties.spec.properties.containers.items.properties.image.description).toMatch(/^The container image to run/);
    const ephemeral = pod.properties.spec.properties.ephemeralContainers;
    expect(ephemeral.description).toMatch(/kubectl debug/);
    expect(ephemeral.items.properties.image.description).toMatch(/^The container image to run/);
    expect(ephemeral.items.properties.targetContainerName.description).toMatch(/process namespace/);
    const deploy = schema('apps', 'v1', 'io.k8s.api.apps.v1.Deployment');
    expect(deploy.properties.spec.properties.replicas.description).toBe('The number of pods wanted. Defaults to 1.');
    expect(deploy.properties.spec.properties.template.properties.spec.properties.restartPolicy.description).toMatch(/^When the containers of the pod are restarted/);
    const cron = schema('batch', 'v1', 'io.k8s.api.batch.v1.CronJob');
    expect(cron.properties.spec.properties.jobTemplate.properties.spec.properties.template.properties.spec.properties.containers.description).toMatch(/^The containers of the pod/);
  });

  it('describe kind-specific fields', () => {
    const svc = schema('', 'v1', 'io.k8s.api.core.v1.Service');
    expect(svc.properties.spec.properties.ports.items.properties.nodePort.description).toMatch(/^The port on every node/);
    const quota = schema('', 'v1', 'io.k8s.api.core.v1.ResourceQuota');
    expect(quota.properties.status.properties.used.description).toMatch(/currently use/);
    const hpaV1 = schema('autoscaling', 'v1', 'io.k8s.api.autoscaling.v1.HorizontalPodAutoscaler');
    expect(hpaV1.properties.spec.properties.targetCPUUtilizationPercentage.description).toMatch(/average CPU utilization/);
  });
});
