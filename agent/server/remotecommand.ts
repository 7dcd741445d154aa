import type { SpdySession, SpdyStream } from '../../lib/spdy.js';
import type { WebSocketConnection } from '../../lib/websocket.js';
import type { StreamSession } from '../runtime/streaming.js';

/**
 * exec and attach over WebSocket, the remotecommand protocols kubectl 1.30+ speaks (v5.channel.k8s.io, and
 * v4.channel.k8s.io): every binary message starts with its channel, 0 stdin, 1 stdout, 2 stderr, 3 error (a v1
 * Status when the command is over, with the exit code in a NonZeroExitCode cause), 4 terminal resize ({"Width",
 * "Height"}); in v5 a message [255, n] closes channel n (the client's end of stdin).
 */

export const REMOTECOMMAND_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface RemoteCommandOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * Upstream's NewOptions: the kubelet takes input/output/error/tty=1 (the API server translates kubectl's
 * stdin/stdout/stderr); both spellings are accepted here. At least one stream must be asked for.
 */
export function parseRemoteCommandOptions(query: URLSearchParams): RemoteCommandOptions | { error: string } {
  const flag = (...names: string[]): boolean => names.some((n) => ['1', 'true'].includes(query.get(n) ?? ''));
  const tty = flag('tty');
  const opts: RemoteCommandOptions = {
    command: query.getAll('command'),
    stdin: flag('input', 'stdin'),
    stdout: flag('output', 'stdout'),
    // A terminal merges stderr into stdout.
    stderr: flag('error', 'stderr') && !tty,
    tty,
  };
  if (!opts.stdin && !opts.stdout && !opts.stderr) return { error: 'you must specify at least 1 of stdin, stdout, stderr' };
  return opts;
}

export function successStatus(): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
}

/** The Status upstream writes on the error channel when a command exits non-zero (kubectl exits with that code). */
export function exitStatus(command: string[], code: number): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: command '${command.join(' ')}' exited with ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function failureStatus(message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

/** Runs one exec/attach session over an accepted WebSocket until the command ends or the client goes away. */
export async function serveRemoteCommand(ws: WebSocketConnection, opts: RemoteCommandOptions, start: () => Promise<StreamSession>): Promise<void> {
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  // The client may send input before the process is up: keep it until then.
  const early: Buffer[] = [];
  let closedEarly = false;
  const keep = (m: Buffer): void => void early.push(m);
  const noteClose = (): void => void (closedEarly = true);
  ws.on('message', keep);
  ws.once('close', noteClose);
  let session: StreamSession;
  try {
    session = await start();
  } catch (err) {
    ws.send(frame(ERROR, JSON.stringify(failureStatus(err instanceof Error ? err.message : String(err)))));
    ws.close();
    return;
  } finally {
    ws.off('message', keep);
    ws.off('close', noteClose);
  }
  if (closedEarly) {
    session.abort();
    return;
  }
  // Tells the client the streams are up: an empty message on the lowest channel it reads, as the kubelet does.
  ws.send(frame(opts.stdout ? STDOUT : opts.stderr ? STDERR : ERROR, Buffer.alloc(0)));

  const onMessage = (m: Buffer): void => {
    if (m.length === 0) return;
    const channel = m[0] as number;
    const data = m.subarray(1);
    if (channel === STDIN && session.stdin && data.length > 0) session.stdin.write(data);
    else if (channel === RESIZE) {
      try {
        const size = JSON.parse(data.toString('utf8')) as { Width?: number; Height?: number };
        if (typeof size.Width === 'number' && typeof size.Height === 'number') void session.resize(size.Width, size.Height);
      } catch {
        // A malformed resize message changes nothing.
      }
    } else if (channel === CLOSE && v5 && data[0] === STDIN) session.stdin?.end();
  };
  for (const m of early) onMessage(m);
  ws.on('message', onMessage);
  ws.on('close', () => session.abort());

  const pump = (from: NodeJS.ReadableStream, channel: number): Promise<void> =>
    new Promise((resolve) => {
      // Back-pressure: a client that reads slowly pauses the command's output.
      from.on('data', (d: Buffer) => {
        if (!ws.send(frame(channel, d)) && !ws.isClosed) {
          from.pause();
          void ws.drained().then(() => from.resume());
        }
      });
      from.once('end', resolve);
      from.once('close', resolve);
      from.once('error', () => resolve());
    });
  const pumped = Promise.all([opts.stdout ? pump(session.stdout, STDOUT) : Promise.resolve(), opts.stderr ? pump(session.stderr, STDERR) : (session.stderr.resume(), Promise.resolve())]);
  if (!opts.stdout) session.stdout.resume();
  let code: number | undefined;
  try {
    code = await session.done;
    await pumped;
  } catch (err) {
    if (!ws.isClosed) ws.send(frame(ERROR, JSON.stringify(failureStatus(err instanceof Error ? err.message : String(err)))));
    ws.close();
    return;
  }
  if (ws.isClosed) return;
  ws.send(frame(ERROR, JSON.stringify(code !== undefined && code !== 0 ? exitStatus(opts.command, code) : successStatus())));
  await ws.drained();
  ws.close();
}

/** The remotecommand protocols over SPDY (kubectl before 1.30, or with KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false). */
export const REMOTECOMMAND_SPDY_PROTOCOLS = ['v4.channel.k8s.io'];

/**
 * exec/attach over a SPDY session: the client opens one stream per channel (streamType error, stdin, stdout,
 * stderr, resize); once all it asked for are there the command runs, stdout/stderr are written and half-closed,
 * and the error stream carries the final Status.
 */
export function serveRemoteCommandSpdy(session: SpdySession, opts: RemoteCommandOptions, start: () => Promise<StreamSession>): void {
  const expected = ['error', ...(opts.stdin ? ['stdin'] : []), ...(opts.stdout ? ['stdout'] : []), ...(opts.stderr ? ['stderr'] : []), ...(opts.tty ? ['resize'] : [])];
  const streams = new Map<string, SpdyStream>();
  let started = false;
  const pendingStdin: Buffer[] = [];
  let stdinEnded = false;
  let proc: StreamSession | undefined;
  session.on('stream', (s: SpdyStream) => {
    void s.reply();
    const type = s.headers.streamtype ?? '';
    streams.set(type, s);
    if (type === 'stdin') {
      s.on('data', (d: Buffer) => (proc?.stdin ? proc.stdin.write(d) : pendingStdin.push(d)));
      s.on('end', () => (proc?.stdin ? proc.stdin.end() : (stdinEnded = true)));
    } else if (type === 'resize') {
      let buf = '';
      s.on('data', (d: Buffer) => {
        // Resize events are JSON objects back to back.
        buf += d.toString('utf8');
        for (let i = buf.indexOf('}'); i >= 0; i = buf.indexOf('}')) {
          try {
            const size = JSON.parse(buf.slice(0, i + 1)) as { Width?: number; Height?: number };
            if (typeof size.Width === 'number' && typeof size.Height === 'number') void proc?.resize(size.Width, size.Height);
          } catch {
            // ignore a malformed event
          }
          buf = buf.slice(i + 1);
        }
      });
    } else s.on('data', () => undefined);
    if (!started && expected.every((t) => streams.has(t))) {
      started = true;
      void run();
    }
  });
  session.on('close', () => proc?.abort());
  session.on('error', () => undefined);

  const run = async (): Promise<void> => {
    const errorStream = streams.get('error') as SpdyStream;
    try {
      proc = await start();
    } catch (err) {
      errorStream.write(Buffer.from(JSON.stringify(failureStatus(err instanceof Error ? err.message : String(err)))));
      errorStream.end();
      for (const s of streams.values()) s.end();
      return;
    }
    for (const d of pendingStdin) proc.stdin?.write(d);
    if (stdinEnded) proc.stdin?.end();
    const pump = (from: NodeJS.ReadableStream, to: SpdyStream | undefined): Promise<void> =>
      new Promise((resolve) => {
        if (!to) {
          from.resume();
          resolve();
          return;
        }
        from.on('data', (d: Buffer) => {
          if (!to.write(d)) {
            from.pause();
            void to.drained().then(() => from.resume());
          }
        });
        const done = (): void => {
          to.end();
          resolve();
        };
        from.once('end', done);
        from.once('close', done);
        from.once('error', done);
      });
    const pumped = Promise.all([pump(proc.stdout, streams.get('stdout')), pump(proc.stderr, streams.get('stderr'))]);
    let status: Record<string, unknown>;
    try {
      const code = await proc.done;
      await pumped;
      status = code !== undefined && code !== 0 ? exitStatus(opts.command, code) : successStatus();
    } catch (err) {
      status = failureStatus(err instanceof Error ? err.message : String(err));
    }
    errorStream.write(Buffer.from(JSON.stringify(status)));
    errorStream.end();
  };
}
