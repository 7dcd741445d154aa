import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryEventRecorder } from '../../../../agent/events.js';
import { imageUserOf, needsImageUser, verifyRunAsNonRoot } from '../../../../agent/kuberuntime/security-context.js';
import type { PodSyncer } from '../../../../agent/kuberuntime/sync.js';
import { preparePodVolumes } from '../../../../agent/kuberuntime/volumes.js';
import type { FakeRuntime } from '../fake-runtime.js';
import { c, makePod, syncRig, UID } from './fixtures.js';

/** runAsNonRoot as upstream's verifyRunAsNonRoot, its place in the sync, and fsGroup on emptyDir volumes. */

const WHERE = `(pod: "web_default(${UID})", container: app)`;

describe('verifyRunAsNonRoot', () => {
  const check = (spec: Record<string, unknown>, imageUser?: string): string | undefined => {
    const pod = makePod(spec);
    return verifyRunAsNonRoot(pod, pod.spec.containers[0]!, imageUser);
  };
  const nonRoot = { runAsNonRoot: true };

  it('passes when runAsNonRoot is unset or false, whatever the user', () => {
    expect(check({ containers: [c('app')] }, '')).toBeUndefined();
    expect(check({ securityContext: { runAsNonRoot: false, runAsUser: 0 }, containers: [c('app')] }, '0')).toBeUndefined();
  });

  it('decides on runAsUser when set, without the image', () => {
    expect(check({ securityContext: nonRoot, containers: [c('app', { securityContext: { runAsUser: 1000 } })] })).toBeUndefined();
    expect(check({ securityContext: { ...nonRoot, runAsUser: 0 }, containers: [c('app')] })).toBe(`container's runAsUser breaks non-root policy ${WHERE}`);
    const pod = makePod({ securityContext: { ...nonRoot, runAsUser: 1000 }, containers: [c('app')] });
    expect(needsImageUser(pod, pod.spec.containers[0]!)).toBe(false);
  });

  it('the container’s runAsNonRoot wins over the pod’s', () => {
    expect(check({ securityContext: nonRoot, containers: [c('app', { securityContext: { runAsNonRoot: false } })] }, '')).toBeUndefined();
    expect(check({ securityContext: { runAsNonRoot: false }, containers: [c('app', { securityContext: nonRoot })] }, '')).toMatch(/image will run as root/);
  });

  it('refuses an image without a user, or with uid 0 (also as 0:group), as root', () => {
    const msg = `container has runAsNonRoot and image will run as root ${WHERE}`;
    for (const user of ['', '0', '0:0', '0:1000', undefined]) expect(check({ securityContext: nonRoot, containers: [c('app')] }, user)).toBe(msg);
  });

  it('refuses a user name it cannot verify, root included, as upstream', () => {
    expect(check({ securityContext: nonRoot, containers: [c('app')] }, 'nobody')).toBe(
      `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root ${WHERE}`,
    );
    expect(check({ securityContext: nonRoot, containers: [c('app')] }, 'root:root')).toMatch(/non-numeric user \(root\)/);
  });

  it('accepts a numeric non-root image user, refuses one out of range', () => {
    expect(check({ securityContext: nonRoot, containers: [c('app')] }, '1000')).toBeUndefined();
    expect(check({ securityContext: nonRoot, containers: [c('app')] }, '65534:65534')).toBeUndefined();
    expect(check({ securityContext: nonRoot, containers: [c('app')] }, '2147483648')).toMatch(/^container has runAsNonRoot and image has an invalid user id \(2147483648\)\. \(Must be 1-\(2147483647\)\): must be between 0 and 2147483647, inclusive \(pod:/);
  });

  it('parses the image user as dockershim did', () => {
    expect(imageUserOf('')).toEqual({ uid: 0 });
    expect(imageUserOf('1000:50')).toEqual({ uid: 1000 });
    expect(imageUserOf('app:app')).toEqual({ username: 'app' });
  });
});

describe('PodSyncer: runAsNonRoot', () => {
  let root: string;
  let clock: { now: number };
  let runtime: FakeRuntime;
  let events: MemoryEventRecorder;
  let syncer: PodSyncer;

  beforeEach(async () => {
    ({ root, clock, runtime, events, syncer } = await syncRig('skiff-secctx-', Date.parse('2026-01-01T12:00:00Z'), ['busybox:1.36']));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const created = (): string[] => runtime.calls.filter((x) => x.startsWith('createContainer:'));

  it('refuses a root image: no container, CreateContainerConfigError, a Failed event, and a retry later', async () => {
    const pod = makePod({ securityContext: { runAsNonRoot: true }, containers: [c('app', { imagePullPolicy: 'IfNotPresent' })] });
    const out = await syncer.sync(pod);
    const msg = `container has runAsNonRoot and image will run as root ${WHERE}`;
    expect(out.waiting.get('app')).toEqual({ reason: 'CreateContainerConfigError', message: msg, retryAt: clock.now + 10_000 });
    expect(created()).toEqual([]);
    expect(events.list().filter((e) => e.reason === 'Failed').map((e) => `${e.type} ${e.message} ${e.involvedObject.fieldPath}`)).toEqual([`Warning Error: ${msg} spec.containers{app}`]);
    // The image changes its user (or the check is otherwise satisfied): the next sync creates it.
    runtime.imageUsers.set('busybox:1.36', '1000');
    clock.now += 10_000;
    const again = await syncer.sync(pod);
    expect(again.waiting.has('app')).toBe(false);
    expect(created()).toHaveLength(1);
  });

  it('does not ask the image when runAsUser decides', async () => {
    const pod = makePod({ securityContext: { runAsNonRoot: true, runAsUser: 1000 }, containers: [c('app')] });
    await syncer.sync(pod);
    expect(runtime.calls.some((x) => x.startsWith('imageUser'))).toBe(false);
    expect(created()).toHaveLength(1);
  });
});

describe('fsGroup on emptyDir', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'skiff-fsgroup-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('makes the directory group-owned by fsGroup, group-writable and setgid; without fsGroup it is left alone', async () => {
    // Changing a directory's group to an arbitrary one needs root; as another user, use a group of our own.
    const gid = process.getuid?.() === 0 ? 4321 : (process.getgid?.() ?? 0);
    const pod = makePod({ securityContext: { fsGroup: gid }, volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'plain', emptyDir: {} }], containers: [c('app')] });
    const mounts = await preparePodVolumes(root, pod);
    const scratch = mounts.volumes.get('scratch') as { hostPath: string };
    const st = await lstat(scratch.hostPath);
    expect(st.gid).toBe(gid);
    expect(st.mode & 0o2000).toBe(0o2000);
    expect(st.mode & 0o070).toBe(0o070);
    const without = makePod({ volumes: [{ name: 'plain', emptyDir: {} }], containers: [c('app')] }, { uid: 'uid-2' });
    const plain = (await preparePodVolumes(root, without)).volumes.get('plain') as { hostPath: string };
    expect((await lstat(plain.hostPath)).mode & 0o2000).toBe(0);
  });
});
