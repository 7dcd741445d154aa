import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execRunner, type CommandRunner } from '../../../proxy/exec.js';
import { IptablesProxier } from '../../../proxy/iptables/proxier.js';
import { eps, svc } from '../../unit/proxy/fixtures.js';
import { canNetns, NetLab, tally } from './netlab.js';

/**
 * Someone flushes the node's tables (`iptables -t nat -F`, a firewall reload): the proxier, left running with its
 * runner, puts its jumps and chains back by itself, while its regular syncs run one iptables-restore each and nothing
 * else. In namespaces the test creates (see NetLab), with the host's default iptables backend.
 */

const lab = new NetLab(randomBytes(3).toString('hex'), 1);
const inNode = execRunner({ netns: lab.node });
/** Every command the proxier ran, in order. */
const commands: string[] = [];
const run: CommandRunner = (cmd, args, input) => {
  commands.push(cmd);
  return inNode(cmd, args, input);
};
let proxier: IptablesProxier;

const WEB = '10.96.0.10';
/** The periodic full sync, which bounds how long a flush goes unnoticed when nothing else changes. */
const SYNC_PERIOD_MS = 1000;
const JUMP = '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES';

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const natSave = (): Promise<string> => lab.exec(lab.node, 'iptables-save', ['-t', 'nat']);
/** One request through the ClusterIP answered by the backend (the uplink drops anything not NATed: a timeout). */
const reachable = async (): Promise<boolean> => tally(await lab.fetch(lab.node, `http://${WEB}/`, 1))['backend-1'] === 1;

/** Waits for `n` more syncs than `from` and returns what they ran. */
async function syncsAfter(from: number, n: number): Promise<string[]> {
  const at = commands.length;
  await until(`${n} more syncs`, async () => proxier.history.length >= from + n);
  await proxier.idle();
  return commands.slice(at);
}

beforeAll(async () => {
  if (!canNetns) return;
  await lab.create();
  proxier = new IptablesProxier({ run, nodeName: 'node-a', minSyncPeriodMs: 0, syncPeriodMs: SYNC_PERIOD_MS, retryBaseMs: 100 });
  proxier.onServiceAdd(svc('web', { clusterIP: WEB }));
  proxier.onEndpointsAdd(eps('web', [lab.backendIP(0)], [{ port: 80 }]));
  proxier.onServicesSynced();
  proxier.onEndpointsSynced();
  proxier.start();
  await until('the first sync', async () => proxier.history.some((r) => r.ok));
  await until('the service to answer', reachable);
}, 60_000);

afterAll(async () => {
  await proxier?.stop();
  await lab.destroy();
});

describe.skipIf(!canNetns)('iptables proxier: a flush of the tables', () => {
  it('runs one iptables-restore per regular sync, and nothing else', async () => {
    const ran = await syncsAfter(proxier.history.length, 3);
    expect(ran.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ran)).toEqual(new Set(['iptables-restore']));
    expect(proxier.history.slice(-3).every((r) => r.ok && r.full)).toBe(true);
  });

  it('puts the jumps and rules back after iptables -t nat -F', async () => {
    await proxier.idle();
    const before = proxier.history.length;
    const at = commands.length;
    await lab.exec(lab.node, 'iptables', ['-t', 'nat', '-F']);
    await until('the jump and the service rules back', async () => {
      const nat = await natSave();
      return nat.includes(JUMP) && nat.includes(`-d ${WEB}/32`);
    });
    await until('the service to answer again', reachable);
    // Noticed by a regular sync's own checks; repaired by reading the tables once and putting the jumps back.
    expect(proxier.history.slice(before).some((r) => r.ok && r.full)).toBe(true);
    expect(commands.slice(at).filter((c) => c === 'iptables-save').length).toBeGreaterThanOrEqual(1);
    // Then back to one restore per sync.
    expect(new Set(await syncsAfter(proxier.history.length, 2))).toEqual(new Set(['iptables-restore']));
  });

  it('puts everything back after the nat and filter tables are flushed and their chains deleted', async () => {
    await proxier.idle();
    for (const table of ['nat', 'filter']) {
      await lab.exec(lab.node, 'iptables', ['-t', table, '-F']);
      await lab.exec(lab.node, 'iptables', ['-t', table, '-X']);
    }
    await until('the jumps and chains back', async () => {
      const nat = await natSave();
      const filter = await lab.exec(lab.node, 'iptables-save', ['-t', 'filter']);
      return nat.includes(JUMP) && nat.includes(`-d ${WEB}/32`) && filter.includes('-j KUBE-FORWARD');
    });
    await until('the service to answer again', reachable);
    const failures = proxier.history.filter((r) => !r.ok);
    expect(failures.map((r) => r.error?.message)).toEqual([]);
  });
});
