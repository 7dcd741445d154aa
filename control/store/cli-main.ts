#!/usr/bin/env node
/** Stand-alone entry for `skiff store` (node dist/control/store/cli-main.js [flags]) until cli/skiff.ts routes it. */
import { runStore } from './cli.js';

runStore(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`skiff store: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
