import { afterEach, describe, expect, it, vi } from 'vitest';
import { agentHelp } from '../../../agent/options.js';
import { controlHelp } from '../../../control/main.js';
import { storeHelp } from '../../../control/store/cli.js';
import { flagHelpLines, parseCommandFlags } from '../../../lib/command-flags.js';
import { proxyHelp } from '../../../proxy/options.js';

const config = (args: string[]) => ({ args, allowPositionals: true, options: { ttl: { type: 'string' as const }, force: { type: 'boolean' as const } } });

describe('parseCommandFlags', () => {
  afterEach(() => vi.restoreAllMocks());

  it('returns the flags and positionals', () => {
    const parsed = parseCommandFlags('token', () => 'help', config(['create', '--ttl', '1h', '--force']));
    expect(parsed).toEqual({ values: { ttl: '1h', force: true }, positionals: ['create'] });
  });

  it('prints the help for -h and --help, and says to exit 0', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(parseCommandFlags('token', () => 'Usage: skiff token', config(['--help']))).toEqual({ exitCode: 0 });
    expect(parseCommandFlags('token', () => 'Usage: skiff token', config(['-h']))).toEqual({ exitCode: 0 });
    expect(out.mock.calls.map((c) => c[0])).toEqual(['Usage: skiff token\n', 'Usage: skiff token\n']);
  });

  it('explains an unknown flag and says to exit 2', () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(parseCommandFlags('token', () => 'help', config(['--nope']))).toEqual({ exitCode: 2 });
    expect(String(err.mock.calls[0]?.[0])).toMatch(/^skiff token: .*'--nope'.*\nRun "skiff token --help" for the flags\.\n$/s);
  });
});

describe('flagHelpLines', () => {
  it('puts every description in one column two spaces after the longest flag', () => {
    expect(flagHelpLines([['--a', 'one'], ['--longer-flag N', 'two']])).toEqual(['  --a              one', '  --longer-flag N  two']);
  });

  it('gives a flag too long for the column its description on the next line', () => {
    const long = `--${'x'.repeat(45)}`;
    const lines = flagHelpLines([['--short', 'one'], [long, 'two']]);
    expect(lines).toEqual(['  --short  one', `  ${long}`, `  ${' '.repeat(7)}  two`]);
  });

  it('leaves no flag name running into its description in any command help', () => {
    for (const help of [controlHelp(), agentHelp(), proxyHelp(), storeHelp()]) {
      const flagLines = help.split('\n').filter((l) => /^ {2}-/.test(l));
      expect(flagLines.length).toBeGreaterThan(3);
      // A flag, maybe its value's placeholder (N, K=V,..., FILE), then two spaces or more before the description.
      for (const line of flagLines) expect(line).toMatch(/^ {2}(?:-h, )?--[a-z0-9-]+(?: [A-Z][A-Za-z=:.,]*)?(?: {2,}\S.*)?$/);
    }
  });
});
