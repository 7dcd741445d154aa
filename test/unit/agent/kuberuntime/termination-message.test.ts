import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from '../../../../agent/events.js';
import {
  fallsBackToLogs,
  MAX_TERMINATION_MESSAGE_LENGTH,
  MAX_TERMINATION_MESSAGE_LOG_LENGTH,
  MAX_TERMINATION_MESSAGE_LOG_LINES,
  prepareTerminationMessageFile,
  terminationMessage,
} from '../../../../agent/kuberuntime/termination-message.js';
import { silentLogger } from '../../../../lib/log.js';
import { FakeRuntime } from '../fake-runtime.js';
import { c, makePod, NOW, testSyncer, UID } from './fixtures.js';

/** Upstream's getTerminationMessage / readLastStringFromContainerLogs, and the file the container writes to. */

const noLogs = async (): Promise<Buffer> => {
  throw new Error('logs must not be read');
};

describe('terminationMessage', () => {
  it('is what the file holds, its last 4096 bytes when longer', async () => {
    expect(await terminationMessage(Buffer.from('bye\n'), false, noLogs)).toBe('bye\n');
    const long = Buffer.from(`${'a'.repeat(100)}${'b'.repeat(MAX_TERMINATION_MESSAGE_LENGTH)}`);
    expect(await terminationMessage(long, false, noLogs)).toBe('b'.repeat(4096));
  });

  it('is empty for an empty or missing file under File', async () => {
    expect(await terminationMessage(Buffer.alloc(0), false, noLogs)).toBe('');
    expect(await terminationMessage(undefined, false, noLogs)).toBe('');
  });

  it('falls back to the last 80 log lines, at most their last 2048 bytes, when the file is empty', async () => {
    let asked = 0;
    const logs = async (tail: number): Promise<Buffer> => {
      asked = tail;
      return Buffer.from('x'.repeat(3000));
    };
    expect(await terminationMessage(Buffer.alloc(0), true, logs)).toBe('x'.repeat(MAX_TERMINATION_MESSAGE_LOG_LENGTH));
    expect(asked).toBe(MAX_TERMINATION_MESSAGE_LOG_LINES);
    expect(await terminationMessage(undefined, true, async () => Buffer.from('short\n'))).toBe('short\n');
  });

  it('prefers the file over the logs, and reports a log read that fails', async () => {
    expect(await terminationMessage(Buffer.from('from file'), true, noLogs)).toBe('from file');
    expect(await terminationMessage(undefined, true, async () => Promise.reject(new Error('no such container')))).toBe(
      'Error on reading termination message from logs: no such container',
    );
  });
});

describe('fallsBackToLogs', () => {
  it.each([
    ['FallbackToLogsOnError', 1, 'Error', true],
    ['FallbackToLogsOnError', 137, 'OOMKilled', true],
    ['FallbackToLogsOnError', 0, 'Completed', false],
    ['FallbackToLogsOnError', 128, 'ContainerCannotRun', false],
    ['File', 1, 'Error', false],
  ] as const)('policy %s, exit %d (%s) → %s', (policy, code, reason, want) => {
    expect(fallsBackToLogs(policy, code, reason)).toBe(want);
  });
});

describe('the termination message file', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'skiff-termmsg-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is a new empty file per instance under the pod directory, writable by any user', async () => {
    const pod = makePod({ containers: [c('app')] });
    const a = await prepareTerminationMessageFile(root, pod, pod.spec.containers[0]!);
    const b = await prepareTerminationMessageFile(root, pod, pod.spec.containers[0]!);
    expect(a).toBeDefined();
    expect(a).not.toBe(b);
    expect(dirname(a ?? '')).toBe(join(root, 'pods', UID, 'containers', 'app'));
    expect(await readFile(a ?? '', 'utf8')).toBe('');
    expect((await stat(a ?? '')).mode & 0o777).toBe(0o666);
  });

  it('is not made for a container without terminationMessagePath', async () => {
    const pod = makePod({ containers: [c('app', { terminationMessagePath: '' })] });
    // The API defaults an empty path; a container that reaches the agent without one gets no file.
    const container = { ...pod.spec.containers[0]!, terminationMessagePath: '' };
    expect(await prepareTerminationMessageFile(root, pod, container)).toBeUndefined();
  });

  it('is handed to the runtime for every container the sync creates, for the default /dev/termination-log', async () => {
    const runtime = new FakeRuntime(() => NOW);
    runtime.images.add('busybox:1.36');
    const created: Array<[string, string | undefined, string | undefined]> = [];
    const create = runtime.createContainer.bind(runtime);
    runtime.createContainer = async (pod, container, opts) => {
      created.push([container.name, container.terminationMessagePath, opts.terminationMessageFile]);
      return create(pod, container, opts);
    };
    const syncer = testSyncer({
      runtime,
      rootDir: root,
      events: new MemoryEventRecorder('node1', silentLogger(), () => new Date(NOW)),
      now: () => NOW,
    });
    await syncer.sync(makePod({ containers: [c('app', { imagePullPolicy: 'Never' }), c('custom', { imagePullPolicy: 'Never', terminationMessagePath: '/tmp/msg' })] }));
    // App containers start together: the order they reach the runtime in is not fixed.
    expect(created.map(([name, path]) => [name, path]).sort()).toEqual([
      ['app', '/dev/termination-log'],
      ['custom', '/tmp/msg'],
    ]);
    for (const [name, , file] of created) expect(dirname(file ?? '')).toBe(join(root, 'pods', UID, 'containers', name));
  });
});
