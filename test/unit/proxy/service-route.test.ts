import { describe, expect, it, vi } from 'vitest';
import { silentLogger, type Logger } from '../../../lib/log.js';
import type { CommandResult, CommandRunner } from '../../../proxy/exec.js';
import { ensureLinkRoutes, keepLinkRoutes, removeRouteLink, staleRoutes } from '../../../proxy/service-route.js';

/** A runner that answers from a table keyed by the command line and records what it was asked. */
function recorder(answers: Record<string, Partial<CommandResult>>): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = async (cmd, args) => {
    const line = `${cmd} ${args.join(' ')}`;
    calls.push(line);
    return { exitCode: 0, stdout: '', stderr: '', ...answers[line] };
  };
  return { run, calls };
}

describe('the Service range route', () => {
  it('makes the link when it is missing, then routes the range to it', async () => {
    const { run, calls } = recorder({ 'ip -o link show dev skiff-svc0': { exitCode: 1, stderr: 'Device "skiff-svc0" does not exist.' }, 'ip -4 -o route show dev skiff-svc0': { stdout: '10.96.0.0/12 scope link \n' } });
    await ensureLinkRoutes(run, { serviceRange: '10.96.0.0/12' });
    expect(calls).toEqual(['ip -o link show dev skiff-svc0', 'ip link add skiff-svc0 type bridge', 'ip link set skiff-svc0 up', 'ip -4 route replace 10.96.0.0/12 dev skiff-svc0', 'ip -4 -o route show dev skiff-svc0']);
  });

  it("routes the pods' range too, at a metric of its own, and keeps it when the Service range changes", async () => {
    const { run, calls } = recorder({ 'ip -4 -o route show dev skiff-svc0': { stdout: '10.96.0.0/12 scope link \n10.100.0.0/16 scope link \n10.244.0.0/16 scope link metric 1024 \n' } });
    await ensureLinkRoutes(run, { serviceRange: '10.100.0.0/16', podRange: '10.244.0.0/16' });
    expect(calls.filter((c) => c.includes('route replace'))).toEqual(['ip -4 route replace 10.100.0.0/16 dev skiff-svc0', 'ip -4 route replace 10.244.0.0/16 dev skiff-svc0 metric 1024']);
    expect(calls.filter((c) => c.includes('route del'))).toEqual(['ip -4 route del 10.96.0.0/12 dev skiff-svc0']);
  });

  it('keeps an existing link and drops the routes of another range', async () => {
    const { run, calls } = recorder({ 'ip -4 -o route show dev skiff-svc0': { stdout: '10.96.0.0/12 scope link \n10.100.0.0/16 scope link \n10.100.0.7 scope link \n' } });
    await ensureLinkRoutes(run, { serviceRange: '10.100.0.0/16' });
    expect(calls).not.toContain('ip link add skiff-svc0 type bridge');
    expect(calls.filter((c) => c.includes('route del'))).toEqual(['ip -4 route del 10.96.0.0/12 dev skiff-svc0', 'ip -4 route del 10.100.0.7 dev skiff-svc0']);
  });

  it('fails with the command and its error when the route cannot be set', async () => {
    const { run } = recorder({ 'ip -4 route replace 10.96.0.0/12 dev skiff-svc0': { exitCode: 2, stderr: 'RTNETLINK answers: Operation not permitted' } });
    await expect(ensureLinkRoutes(run, { serviceRange: '10.96.0.0/12' })).rejects.toThrow(/ip -4 route replace 10.96.0.0\/12 dev skiff-svc0: exit 2: RTNETLINK answers: Operation not permitted/);
  });

  it('removes the link, and a missing one is no error', async () => {
    const gone = recorder({ 'ip link del skiff-svc0': { exitCode: 1, stderr: 'Cannot find device "skiff-svc0"' } });
    await expect(removeRouteLink(gone.run)).resolves.toBeUndefined();
    const denied = recorder({ 'ip link del skiff-svc0': { exitCode: 2, stderr: 'RTNETLINK answers: Operation not permitted' } });
    await expect(removeRouteLink(denied.run)).rejects.toThrow(/Operation not permitted/);
  });

  it('reads the destinations of `ip -o route show`', () => {
    expect(staleRoutes('10.96.0.0/12 scope link \n10.96.0.5 scope link \n', ['10.96.0.0/12'])).toEqual(['10.96.0.5']);
    expect(staleRoutes('10.96.0.5 scope link \n', ['10.96.0.5/32'])).toEqual([]);
    expect(staleRoutes('', ['10.96.0.0/12'])).toEqual([]);
    expect(staleRoutes('10.96.0.0/12 scope link \n10.244.0.0/16 scope link metric 1024 \n10.88.0.0/16 scope link metric 1024 \n', ['10.96.0.0/12', '10.244.0.0/16'])).toEqual(['10.88.0.0/16']);
  });
});

describe('keepLinkRoutes', () => {
  it('puts the route back at every resync until stopped, and a failure waits for the next one', async () => {
    vi.useFakeTimers();
    try {
      let fail = true;
      const calls: string[] = [];
      const run: CommandRunner = async (cmd, args) => {
        const line = `${cmd} ${args.join(' ')}`;
        calls.push(line);
        return line.includes('route replace') && fail ? { exitCode: 2, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted' } : { exitCode: 0, stdout: '', stderr: '' };
      };
      const warnings: string[] = [];
      const log = { ...silentLogger(), warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
      const stop = keepLinkRoutes(run, { serviceRange: '10.96.0.0/12' }, 30_000, log);
      await vi.advanceTimersByTimeAsync(29_999);
      expect(calls).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls.filter((c) => c.includes('route replace'))).toHaveLength(1);
      expect(warnings).toEqual(['cannot route the Service and pod ranges to their link; retrying at the next resync']);
      fail = false;
      await vi.advanceTimersByTimeAsync(30_000);
      expect(calls.filter((c) => c.includes('route replace'))).toHaveLength(2);
      expect(warnings).toHaveLength(1);
      stop();
      await vi.advanceTimersByTimeAsync(120_000);
      expect(calls.filter((c) => c.includes('route replace'))).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the link that cannot be made', () => {
  it('fails with the command and its error, asking once', async () => {
    const { run, calls } = recorder({ 'ip -o link show dev skiff-svc0': { exitCode: 1 }, 'ip link add skiff-svc0 type bridge': { exitCode: 2, stderr: 'RTNETLINK answers: Operation not permitted' } });
    await expect(ensureLinkRoutes(run, { serviceRange: '10.96.0.0/12' })).rejects.toThrow(/^ip link add skiff-svc0 type bridge: exit 2: RTNETLINK answers: Operation not permitted$/);
    expect(calls.filter((c) => c.startsWith('ip link add'))).toHaveLength(1);
  });
});
