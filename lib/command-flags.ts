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
