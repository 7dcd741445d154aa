import { describe, expect, it } from 'vitest';
import type { ContainerStatus } from '../../../../control/api/index.js';
import { logTarget } from '../../../../agent/server/log-target.js';
import type { RuntimeContainer } from '../../../../agent/runtime/runtime.js';

const base = { name: 'app', ready: false, restartCount: 1, image: 'skiff/busybox:1.0', imageID: 'sha256:x' };
const terminated = (id: string) => ({ terminated: { exitCode: 3, reason: 'Error', containerID: `docker://${id}` } });
const instance = (id: string, attempt: number): RuntimeContainer =>
  ({ id, name: 'app', podUid: 'u', podName: 'p', podNamespace: 'default', attempt, state: 'exited', createdAt: new Date(attempt * 1000) }) as RuntimeContainer;

describe('logTarget: which instance kubectl logs reads (upstream validateContainerLogStatus)', () => {
  it('reads the running instance, and with --previous the last terminated one', () => {
    const s: ContainerStatus = { ...base, containerID: 'docker://run2', state: { running: { startedAt: '2026-01-01T00:00:00Z' } }, lastState: terminated('dead1') };
    expect(logTarget(s, [], false, 'p', 'app')).toEqual({ id: 'run2' });
    expect(logTarget(s, [], true, 'p', 'app')).toEqual({ id: 'dead1' });
  });

  it('reads the last terminated instance both ways while a crashed container waits to be restarted or its new image is pulled', () => {
    for (const reason of ['CrashLoopBackOff', 'ErrImagePull']) {
      const s: ContainerStatus = { ...base, containerID: 'docker://dead1', state: { waiting: { reason } }, lastState: terminated('dead1') };
      expect(logTarget(s, [], false, 'p', 'app')).toEqual({ id: 'dead1' });
      expect(logTarget(s, [], true, 'p', 'app')).toEqual({ id: 'dead1' });
    }
  });

  it('reads a container that ended, and says when there is no earlier one', () => {
    const s: ContainerStatus = { ...base, restartCount: 0, containerID: 'docker://done', state: terminated('done') };
    expect(logTarget(s, [], false, 'p', 'app')).toEqual({ id: 'done' });
    expect(logTarget(s, [], true, 'p', 'app')).toEqual({ error: 'previous terminated container "app" in pod "p" not found' });
  });

  it('says what a container that never ran is waiting for, in upstream words', () => {
    const waiting = (reason: string): ContainerStatus => ({ ...base, restartCount: 0, state: { waiting: { reason } } });
    expect(logTarget(waiting('ErrImagePull'), [], false, 'p', 'app')).toEqual({ error: `container "app" in pod "p" is waiting to start: image can't be pulled` });
    expect(logTarget(waiting('ImagePullBackOff'), [], false, 'p', 'app')).toEqual({ error: 'container "app" in pod "p" is waiting to start: trying and failing to pull image' });
    expect(logTarget(waiting('ContainerCreating'), [], false, 'p', 'app')).toEqual({ error: 'container "app" in pod "p" is waiting to start: ContainerCreating' });
    expect(logTarget({ ...base, restartCount: 0 }, [], false, 'p', 'app')).toEqual({ error: 'container "app" in pod "p" is waiting to start - no logs yet' });
  });

  it('without a status yet, takes the runtime newest instances', () => {
    const instances = [instance('b', 1), instance('a', 0)];
    expect(logTarget(undefined, instances, false, 'p', 'app')).toEqual({ id: 'b' });
    expect(logTarget(undefined, instances, true, 'p', 'app')).toEqual({ id: 'a' });
    expect(logTarget(undefined, [], false, 'p', 'app')).toEqual({ error: 'container "app" in pod "p" is not available' });
  });
});
