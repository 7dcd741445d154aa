import { execa } from 'execa';

/**
 * How the proxy runs iptables, iptables-save, iptables-restore and conntrack: one injected function, so tests can
 * record the calls or run them inside a network namespace of their own (`ip netns exec NAME ...`).
 */
export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (cmd: string, args: string[], input?: string) => Promise<CommandResult>;

export interface ExecRunnerOptions {
  /** Run every command inside this network namespace (ip netns exec). */
  netns?: string;
  timeoutMs?: number;
}

export function execRunner(opts: ExecRunnerOptions = {}): CommandRunner {
  return async (cmd, args, input) => {
    const [file, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, cmd, ...args]] : [cmd, args];
    const r = await execa(file, argv, {
      reject: false,
      timeout: opts.timeoutMs ?? 60_000,
      ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
    });
    return { exitCode: r.exitCode ?? (r.failed ? 1 : 0), stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? r.message ?? '') };
  };
}

export class CommandError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: string[],
    readonly result: CommandResult,
  ) {
    super(`${cmd} ${args.join(' ')}: exit ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Runs a command and throws CommandError when it fails. */
export async function mustRun(run: CommandRunner, cmd: string, args: string[], input?: string): Promise<CommandResult> {
  const r = await run(cmd, args, input);
  if (r.exitCode !== 0) throw new CommandError(cmd, args, r);
  return r;
}
