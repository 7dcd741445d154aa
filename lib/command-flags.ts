import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * How every `skiff <command>` reads its flags: strictly, with -h/--help added. A bad flag is explained on stderr
 * (exit code 2), --help prints the command's help on stdout (exit code 0); either way the command returns `exitCode`.
 */
export function parseCommandFlags<T extends ParseArgsConfig>(command: string, help: () => string, config: T): ReturnType<typeof parseArgs<T>> | { exitCode: number } {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs({ ...config, strict: true, options: { ...config.options, help: { type: 'boolean', short: 'h' } } }) as ReturnType<typeof parseArgs<T>>;
  } catch (err) {
    process.stderr.write(`skiff ${command}: ${err instanceof Error ? err.message : String(err)}\nRun "skiff ${command} --help" for the flags.\n`);
    return { exitCode: 2 };
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${help()}\n`);
    return { exitCode: 0 };
  }
  return parsed;
}

/** Flags longer than this get their description on the next line, so the column stays readable. */
const FLAG_COLUMN_MAX = 40;

/**
 * A command's flag list for its help: descriptions in one column two spaces after the longest flag that fits
 * FLAG_COLUMN_MAX (as pflag aligns kubectl's), so that no flag name runs into its description.
 */
export function flagHelpLines(rows: ReadonlyArray<readonly [flag: string, help: string]>): string[] {
  const width = Math.max(0, ...rows.map(([flag]) => flag.length).filter((n) => n <= FLAG_COLUMN_MAX));
  return rows.flatMap(([flag, help]) => (flag.length <= width ? [`  ${flag.padEnd(width)}  ${help}`] : [`  ${flag}`, `  ${' '.repeat(width)}  ${help}`]));
}
