import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostSysctlsPath, recordHostSysctls, restoreHostSysctls } from '../../../cli/host-sysctls.js';

const NAME = 'net.ipv4.conf.all.route_localnet';

describe('host sysctls noted by skiff up and put back by skiff down', () => {
  let dir: string;
  let procSys: string;
  let dataDir: string;
  const file = (): string => join(procSys, 'net', 'ipv4', 'conf', 'all', 'route_localnet');
  const set = (v: string): void => writeFileSync(file(), `${v}\n`);
  const get = (): string => readFileSync(file(), 'utf8').trim();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-sysctls-'));
    procSys = join(dir, 'proc-sys');
    dataDir = join(dir, 'data');
    mkdirSync(join(procSys, 'net', 'ipv4', 'conf', 'all'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('puts back the value the host had before the proxy changed it, and forgets it', async () => {
    set('0');
    await recordHostSysctls(dataDir, [NAME], procSys);
    set('1'); // what the proxy does
    expect(await restoreHostSysctls(dataDir, procSys)).toEqual([`${NAME}: 1 -> 0`]);
    expect(get()).toBe('0');
    expect(existsSync(hostSysctlsPath(dataDir))).toBe(false);
  });

  it('keeps the first value noted across a second skiff up without a skiff down between', async () => {
    set('0');
    await recordHostSysctls(dataDir, [NAME], procSys);
    set('1');
    await recordHostSysctls(dataDir, [NAME], procSys);
    await restoreHostSysctls(dataDir, procSys);
    expect(get()).toBe('0');
  });

  it('leaves a value that was already on, and one changed back meanwhile, as they are', async () => {
    set('1');
    await recordHostSysctls(dataDir, [NAME], procSys);
    expect(await restoreHostSysctls(dataDir, procSys)).toEqual([]);
    expect(get()).toBe('1');
  });

  it('does nothing without a record, and ignores a record it cannot read', async () => {
    set('1');
    expect(await restoreHostSysctls(dataDir, procSys)).toEqual([]);
    mkdirSync(join(dataDir, 'run'), { recursive: true });
    writeFileSync(hostSysctlsPath(dataDir), 'not json');
    expect(await restoreHostSysctls(dataDir, procSys)).toEqual([]);
    expect(get()).toBe('1');
    expect(existsSync(hostSysctlsPath(dataDir))).toBe(false);
  });

  it('notes nothing for a sysctl this kernel does not have', async () => {
    await recordHostSysctls(dataDir, ['net.ipv9.nothing'], procSys);
    expect(existsSync(hostSysctlsPath(dataDir))).toBe(false);
  });
});
