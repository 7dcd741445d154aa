import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommandFlags } from '../../../lib/command-flags.js';

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
