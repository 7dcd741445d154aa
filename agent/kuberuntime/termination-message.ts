import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod } from '../../control/api/index.js';
import { podDir } from './volumes.js';

/**
 * A container's termination message, as upstream's kubelet gathers it (kuberuntime_container.go getTerminationMessage
 * and readLastStringFromContainerLogs, limits from pkg/kubelet/container/runtime.go): what the container wrote to its
 * terminationMessagePath, a host file bind-mounted there; with FallbackToLogsOnError, a failed exit and an empty (or
 * missing) file, the tail of its logs instead.
 */

/** The most of the file that is kept: its last 4 KiB (upstream's tail.ReadAtMost with MaxContainerTerminationMessageLength). */
export const MAX_TERMINATION_MESSAGE_LENGTH = 4 * 1024;
/** Log lines the fallback reads (MaxContainerTerminationMessageLogLines). */
export const MAX_TERMINATION_MESSAGE_LOG_LINES = 80;
/** Bytes of those lines the fallback keeps, the last ones (MaxContainerTerminationMessageLogLength, a circular buffer). */
export const MAX_TERMINATION_MESSAGE_LOG_LENGTH = 2 * 1024;

/** The end of `buf`, at most `max` bytes, as text. */
export function tailBytes(buf: Buffer, max: number): string {
  return (buf.length > max ? buf.subarray(buf.length - max) : buf).toString('utf8');
}

/** Whether the logs are to be read when the file says nothing: upstream's fallbackToLogs (a container that never ran has none). */
export function fallsBackToLogs(policy: string | undefined, exitCode: number | undefined, reason: string | undefined): boolean {
  return policy === 'FallbackToLogsOnError' && exitCode !== undefined && exitCode !== 0 && reason !== 'ContainerCannotRun';
}

/**
 * The message from what was read: `file` is the file's content (undefined when it does not exist), `logs` reads the
 * container's last log lines when the fallback applies.
 */
export async function terminationMessage(
  file: Buffer | undefined,
  fallback: boolean,
  logs: (tailLines: number) => Promise<Buffer>,
): Promise<string> {
  const fromFile = file ? tailBytes(file, MAX_TERMINATION_MESSAGE_LENGTH) : '';
  if (fromFile.length > 0 || !fallback) return fromFile;
  try {
    return tailBytes(await logs(MAX_TERMINATION_MESSAGE_LOG_LINES), MAX_TERMINATION_MESSAGE_LOG_LENGTH);
  } catch (err) {
    return `Error on reading termination message from logs: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Creates the empty host file a new container instance writes its termination message to, as upstream's makeMounts:
 * <pod dir>/containers/<name>/<random id>, mode 0666 so any user the container runs as can write it. Undefined when the
 * container has no terminationMessagePath. The file lives as long as the pod's data directory, so the message outlives
 * the container's run.
 */
export async function prepareTerminationMessageFile(rootDir: string, pod: Pod, container: Container): Promise<string | undefined> {
  if (!container.terminationMessagePath) return undefined;
  const dir = join(podDir(rootDir, pod.metadata.uid ?? ''), 'containers', container.name);
  await mkdir(dir, { recursive: true });
  const path = join(dir, randomBytes(4).toString('hex'));
  await writeFile(path, '', { mode: 0o666 });
  await chmod(path, 0o666);
  return path;
}
