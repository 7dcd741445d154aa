// The batch/v1 strategies: Job selector generation with the API server's uid, immutable templates, the
// status.successful field selector; CronJob defaults and schedule validation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSelection, Rest, selects } from '../../../../../control/apiserver/rest.js';
import type { MemoryStore } from '../../../../../control/store/index.js';
import { ctx, def, freshRest, rejection } from './fixture.js';

let store: MemoryStore;
let rest: Rest;
beforeEach(() => {
  ({ store, rest } = freshRest());
});
afterEach(async () => {
  await store.close();
});

const podTemplate = { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl:5.34', command: ['perl', '-e', '1'] }] } };

describe('Job strategy', () => {
  const jobs = def('jobs', 'batch');

  it('generates the selector and pod labels from the assigned uid', async () => {
    const created = await rest.create(jobs, ctx('default'), { metadata: { name: 'pi' }, spec: { template: podTemplate } });
    const uid = created.metadata.uid as string;
    const spec = created.spec as any;
    expect(spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    expect(spec.template.metadata.labels).toEqual({ 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' });
    expect(created.metadata.labels).toEqual(spec.template.metadata.labels);
    expect(spec).toMatchObject({ backoffLimit: 6, completions: 1, parallelism: 1, completionMode: 'NonIndexed', suspend: false, manualSelector: false, podReplacementPolicy: 'TerminatingOrFailed' });
    expect(created.status).toEqual({});
    expect(created.metadata.generation).toBe(1);
  });

  it('refuses template changes and allows parallelism changes', async () => {
    const created = await rest.create(jobs, ctx('default'), { metadata: { name: 'pi' }, spec: { template: podTemplate } });
    const changed = JSON.parse(JSON.stringify(created));
    changed.spec.template.spec.containers[0].image = 'perl:5.36';
    const msg = await rejection(rest.update(jobs, ctx('default'), 'pi', changed));
    expect(msg).toMatch(/^Job\.batch "pi" is invalid: spec\.template: Invalid value: \{.*\}: field is immutable$/);
    const scaled = JSON.parse(JSON.stringify(created));
    scaled.spec.parallelism = 3;
    const updated = await rest.update(jobs, ctx('default'), 'pi', scaled);
    expect(updated.metadata.generation).toBe(2);
  });

  it('selects by status.successful', async () => {
    const created = await rest.create(jobs, ctx('default'), { metadata: { name: 'pi' }, spec: { template: podTemplate } });
    const done = await rest.update(jobs, ctx('default'), 'pi', { ...created, status: { succeeded: 1, startTime: '2026-01-01T00:00:00Z' } }, 'status');
    expect(selects(jobs, parseSelection(jobs, new URLSearchParams({ fieldSelector: 'status.successful=1' })), done)).toBe(true);
    expect(selects(jobs, parseSelection(jobs, new URLSearchParams({ fieldSelector: 'status.successful=0' })), done)).toBe(false);
  });

  it('requires OnFailure or Never', async () => {
    const msg = await rejection(rest.create(jobs, ctx('default'), { metadata: { name: 'pi' }, spec: { template: { spec: { containers: podTemplate.spec.containers } } } }));
    expect(msg).toBe('Job.batch "pi" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"');
  });
});

describe('CronJob strategy', () => {
  const cronjobs = def('cronjobs', 'batch');

  it('stores defaults and validates the schedule', async () => {
    const body = { metadata: { name: 'hello' }, spec: { schedule: '@hourly', jobTemplate: { spec: { template: podTemplate } } } };
    const created = await rest.create(cronjobs, ctx('default'), body);
    expect(created.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, schedule: '@hourly' });
    expect(await rejection(rest.update(cronjobs, ctx('default'), 'hello', { ...body, spec: { ...body.spec, schedule: '61 * * * *' } }))).toBe(
      'CronJob.batch "hello" is invalid: spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    );
  });
});
