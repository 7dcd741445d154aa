// Checks the shipped systemd units with `systemd-analyze verify`. verify insists that ExecStart
// binaries exist, and /usr/local/bin/skiff is not installed on a dev or CI machine, so each unit is
// verified from a temp copy whose ExecStart points at this node binary; the shipped path itself is
// asserted separately.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const systemdDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../systemd');
const SHIPPED_BINARY = '/usr/local/bin/skiff';
const SYSTEM_UNIT_DIRS = ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'skiff-units-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function unitDependencies(text: string): string[] {
  const deps = new Set<string>();
  for (const m of text.matchAll(/^(?:After|Requires|Wants|BindsTo|Before)=(.*)$/gm)) {
    for (const name of (m[1] ?? '').split(/\s+/)) if (name.endsWith('.service')) deps.add(name);
  }
  return [...deps];
}

/**
 * Copies a unit into the temp dir (with ExecStart rewritten) and runs verify on the copy. verify also
 * loads the units this one depends on; a machine without docker.io has no docker.service, so a stub is
 * put beside the copy (verify searches the copy's directory), which tests our unit rather than the machine.
 */
async function verify(name: string, text: string): Promise<{ exitCode: number; output: string }> {
  const dir = await mkdtemp(join(work, 'unit-'));
  for (const dep of unitDependencies(text)) {
    if (!SYSTEM_UNIT_DIRS.some((d) => existsSync(join(d, dep)))) {
      await writeFile(join(dir, dep), '[Unit]\nDescription=stub\n[Service]\nExecStart=/bin/true\n');
    }
  }
  const path = join(dir, name);
  await writeFile(path, text);
  const res = await execa('systemd-analyze', ['verify', '--man=no', path], { reject: false, all: true });
  if (res.failed && res.exitCode === undefined) throw new Error(`systemd-analyze did not run: ${res.message}`);
  return { exitCode: res.exitCode ?? -1, output: (res.all ?? '').trim() };
}

function withExecStart(text: string, from: string, to: string): string {
  return text.replace(new RegExp(`^(ExecStart=-?)${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=\\s|$)`, 'gm'), `$1${to}`);
}

describe('systemd units', () => {
  it('ships at least the agent unit', async () => {
    const units = (await readdir(systemdDir)).filter((f) => f.endsWith('.service'));
    expect(units).toContain('skiff-agent.service');
  });

  it('every unit passes systemd-analyze verify with no output', async () => {
    const units = (await readdir(systemdDir)).filter((f) => /\.(service|socket|timer|path|target)$/.test(f));
    for (const unit of units) {
      const text = await readFile(join(systemdDir, unit), 'utf8');
      const rewritten = withExecStart(text, SHIPPED_BINARY, process.execPath);
      expect(rewritten, `${unit}: ExecStart was not rewritten`).not.toContain(`ExecStart=${SHIPPED_BINARY}`);
      const res = await verify(unit, rewritten);
      expect({ unit, ...res }).toEqual({ unit, exitCode: 0, output: '' });
    }
  });

  it('the verify harness does report a broken unit', async () => {
    // Guards against a harness that silently passes everything (e.g. verify not looking at the file).
    const text = await readFile(join(systemdDir, 'skiff-agent.service'), 'utf8');
    const broken = withExecStart(text, SHIPPED_BINARY, process.execPath).replace('Restart=always', 'Restart=sometimes');
    const res = await verify('skiff-agent.service', broken);
    expect(res.output).toMatch(/restart/i);
    const missingBinary = await verify('skiff-agent.service', text.replace(SHIPPED_BINARY, '/nonexistent/skiff'));
    expect(missingBinary.exitCode).not.toBe(0);
  });

  it('skiff-agent.service runs the installed skiff with overridable args and survives crashes', async () => {
    const text = await readFile(join(systemdDir, 'skiff-agent.service'), 'utf8');
    const service = text.slice(text.indexOf('[Service]'));
    const unit = text.slice(text.indexOf('[Unit]'), text.indexOf('[Service]'));
    expect(service).toMatch(/^ExecStart=\/usr\/local\/bin\/skiff agent \$SKIFF_AGENT_ARGS$/m);
    expect(service).toMatch(/^Environment=SKIFF_AGENT_ARGS=--pod-manifest-path=\/etc\/skiff\/manifests$/m);
    expect(service).toMatch(/^EnvironmentFile=-\/etc\/default\/skiff-agent$/m);
    expect(service).toMatch(/^Restart=always$/m);
    expect(unit).toMatch(/^After=.*\bdocker\.service\b/m);
    expect(unit).toMatch(/^Requires=docker\.service$/m);
  });

  it('skiff-agent.env sets only KEY=VALUE lines systemd can read', async () => {
    const text = await readFile(join(systemdDir, 'skiff-agent.env'), 'utf8');
    const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    for (const l of lines) expect(l).toMatch(/^[A-Z_][A-Z0-9_]*=\S/);
    expect(lines).toContain('SKIFF_AGENT_ARGS=--pod-manifest-path=/etc/skiff/manifests');
  });
});
