import { spawn } from 'node:child_process';
import { Duplex, PassThrough, type Readable } from 'node:stream';
import type Dockerode from 'dockerode';

/**
 * The runtime's streaming side (upstream's CRI Exec/Attach/PortForward and the stats cadvisor gives the kubelet),
 * on Docker: exec and attach through hijacked Docker connections, port-forward by a relay that runs in the pod's
 * network namespace, resource usage from Docker's stats.
 */

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** A running exec or attach session. */
export interface StreamSession {
  /** Write the user's input here; end() closes the process's stdin. */
  stdin: NodeJS.WritableStream | undefined;
  stdout: Readable;
  /** Empty when tty is set: a terminal merges both. */
  stderr: Readable;
  resize(width: number, height: number): Promise<void>;
  /** Resolves with the exit code once the output has ended (undefined for attach, which has none). */
  done: Promise<number | undefined>;
  abort(): void;
}

export interface ContainerUsage {
  /** Cumulative CPU time in nanoseconds. */
  cpuNanoSeconds: number;
  /** CPU cores in use, in billionths, over Docker's last sampling interval. */
  nanoCores?: number;
  memoryUsageBytes: number;
  workingSetBytes: number;
  rssBytes?: number;
}

export interface StreamingRuntime {
  exec(containerId: string, cmd: string[], opts: StreamOptions): Promise<StreamSession>;
  attach(containerId: string, opts: StreamOptions): Promise<StreamSession>;
  /** A byte stream to 127.0.0.1:port inside the network namespace of the container (the pod's sandbox). */
  portForward(sandboxId: string, port: number): Promise<Duplex>;
  usage(containerId: string): Promise<ContainerUsage | undefined>;
}

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'statusCode' in err ? (err as { statusCode?: number }).statusCode : undefined;
}

/** Splits a hijacked non-TTY Docker stream into stdout and stderr; a TTY stream is stdout alone. */
function outputs(docker: Dockerode, stream: Duplex, tty: boolean): { stdout: PassThrough; stderr: PassThrough; ended: Promise<void> } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (tty) stream.pipe(stdout);
  else docker.modem.demuxStream(stream, stdout, stderr);
  const ended = new Promise<void>((resolve) => {
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      if (!tty) stdout.end();
      stderr.end();
      resolve();
    };
    stream.once('end', done);
    stream.once('close', done);
    // Every error, not just the first: a write to stdin after the process ended errors again.
    stream.on('error', done);
  });
  return { stdout, stderr, ended };
}

export class DockerStreaming implements StreamingRuntime {
  constructor(private readonly docker: Dockerode) {}

  async exec(containerId: string, cmd: string[], opts: StreamOptions): Promise<StreamSession> {
    const exec = await this.docker.getContainer(containerId).exec({
      Cmd: cmd,
      AttachStdin: opts.stdin,
      AttachStdout: opts.stdout,
      AttachStderr: opts.stderr,
      Tty: opts.tty,
    });
    const stream = (await exec.start({ hijack: true, stdin: opts.stdin, Tty: opts.tty })) as Duplex;
    const { stdout, stderr, ended } = outputs(this.docker, stream, opts.tty);
    const done = ended.then(async () => {
      const info = await exec.inspect();
      return info.ExitCode ?? undefined;
    });
    return {
      stdin: opts.stdin ? stream : undefined,
      stdout,
      stderr,
      done,
      async resize(width, height) {
        if (opts.tty) await exec.resize({ w: width, h: height }).catch(() => undefined);
      },
      abort: () => stream.destroy(),
    };
  }

  async attach(containerId: string, opts: StreamOptions): Promise<StreamSession> {
    const container = this.docker.getContainer(containerId);
    const info = await container.inspect();
    const tty = info.Config.Tty === true;
    const stream = (await container.attach({ stream: true, hijack: true, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr })) as unknown as Duplex;
    // Docker keeps an attach to a container that is not running open until the container is started again (what
    // `docker start -a` relies on). A pod's container that has exited is never started again (a restart is a new
    // container), so an attach that lost the race with the exit (kubectl run -i of a short command) would wait forever.
    // Checked once the attach is in place: an exit after this point ends the stream by itself.
    const state = await container.inspect().then((i) => i.State, () => undefined);
    if (!state?.Running) {
      stream.destroy();
      throw new Error(`container ${containerId.slice(0, 12)} is not running${state?.Status ? ` (${state.Status})` : ''}`);
    }
    const { stdout, stderr, ended } = outputs(this.docker, stream, tty);
    return {
      stdin: opts.stdin ? stream : undefined,
      stdout,
      stderr,
      done: ended.then(() => undefined),
      async resize(width, height) {
        if (tty) await container.resize({ w: width, h: height }).catch(() => undefined);
      },
      abort: () => stream.destroy(),
    };
  }

  /**
   * Runs a tiny relay (this Node binary) inside the sandbox's network namespace with nsenter, so the pod's
   * 127.0.0.1 is reached whatever its images contain; its stdin and stdout are the connection.
   */
  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const info = await this.docker.getContainer(sandboxId).inspect();
    const pid = info.State?.Pid;
    if (!pid) throw new Error(`the pod's sandbox ${sandboxId.slice(0, 12)} is not running`);
    const relay = [
      "const s=require('net').connect(Number(process.argv[1]),'127.0.0.1');",
      "s.on('connect',()=>{process.stderr.write('connected\\n');process.stdin.pipe(s);s.pipe(process.stdout);});",
      "s.on('error',e=>{process.stderr.write(e.message);process.exit(1);});",
      "s.on('end',()=>process.stdout.end());process.stdout.on('finish',()=>process.exit(0));",
    ].join('');
    const child = spawn('nsenter', ['-t', String(pid), '-n', '--', process.execPath, '-e', relay, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    // The relay says "connected" once it reached the port, or exits with the reason it could not.
    const connected = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.startsWith('connected\n')) resolve();
      });
      child.once('exit', () => reject(new Error(err.trim() || 'the port-forward relay exited')));
      child.once('error', reject);
    });
    // The child's stdin and stdout as one duplex: writes go to stdin, reads come from stdout.
    const conn = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        if (child.stdin.writable) child.stdin.write(chunk, cb);
        else cb();
      },
      final(cb) {
        child.stdin.end();
        cb();
      },
      read() {
        child.stdout.resume();
      },
      destroy(e, cb) {
        if (child.exitCode === null) child.kill('SIGKILL');
        cb(e);
      },
    });
    child.stdout.on('data', (d: Buffer) => {
      if (!conn.push(d)) child.stdout.pause();
    });
    child.stdout.on('end', () => conn.push(null));
    child.stdin.on('error', () => undefined);
    try {
      await connected;
    } catch (e) {
      conn.destroy();
      throw e;
    }
    // From here on the caller listens for errors on the connection.
    child.on('exit', (code) => {
      if (code !== 0) conn.destroy(new Error(err.replace(/^connected\n/, '').trim() || `relay exited with ${code}`));
    });
    child.on('error', (e) => conn.destroy(e));
    return conn;
  }

  async usage(containerId: string): Promise<ContainerUsage | undefined> {
    let s: DockerStats;
    try {
      s = (await this.docker.getContainer(containerId).stats({ stream: false })) as unknown as DockerStats;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
    return usageFromDockerStats(s);
  }
}

/** The parts of Docker's stats we read (cgroup v1 and v2 shapes). */
export interface DockerStats {
  read?: string;
  preread?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/**
 * Docker stats → usage, as cadvisor computes it: working set is usage minus inactive file pages (total_inactive_file
 * on cgroup v1, inactive_file on v2); nano cores from the CPU time spent between Docker's two samples.
 */
export function usageFromDockerStats(s: DockerStats): ContainerUsage {
  const cpu = s.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const usage = s.memory_stats?.usage ?? 0;
  const stats = s.memory_stats?.stats ?? {};
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const out: ContainerUsage = { cpuNanoSeconds: cpu, memoryUsageBytes: usage, workingSetBytes: Math.max(0, usage - inactive) };
  const rss = stats.total_rss ?? stats.rss ?? stats.anon;
  if (rss !== undefined) out.rssBytes = rss;
  const prev = s.precpu_stats?.cpu_usage?.total_usage;
  const t1 = s.read ? Date.parse(s.read) : NaN;
  const t0 = s.preread ? Date.parse(s.preread) : NaN;
  if (prev !== undefined && prev > 0 && Number.isFinite(t0) && Number.isFinite(t1) && t1 > t0 && cpu >= prev) {
    out.nanoCores = Math.round(((cpu - prev) / ((t1 - t0) * 1e6)) * 1e9);
  }
  return out;
}
