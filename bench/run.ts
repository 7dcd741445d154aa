import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { agentBench, type SectionOutput } from './agent.js';
import { apiserverBench } from './apiserver.js';
import { clusterBench } from './cluster.js';
import { deploymentBench } from './deployment.js';
import { proxyBench } from './proxy.js';
import { schedulerBench } from './scheduler.js';
import { storeBench } from './store.js';
import { ABORT_EXIT_CODE, Aborted, aborted, installSignalHandlers, progress, runCleanups } from './util.js';

/**
 * `npm run bench [-- SECTION...]`: Skiff's benchmarks. Each section measures a component against a floor taken in
 * the same run and prints ratios; nothing here fails on a threshold (performance is measured, not asserted).
 * Figures go to stdout, progress to stderr, and each section's details to .tmp/bench-<section>.json.
 *
 * Environment knobs of the agent section: SKIFF_BENCH_PROBE_PERIOD (readiness probe period of the bench pods, s;
 * default 10; a startup probe every 1 s gates it), SKIFF_BENCH_SKIFF (the skiff.js to run as the agent, and the cluster section's skiff; default dist/cli/skiff.js).
 * Apiserver section: SKIFF_BENCH_CONTROL_NODE_ARGS (extra node flags for the control process, e.g. --cpu-prof --cpu-prof-dir=DIR), SKIFF_BENCH_API_WARM_PODS (warm-up pods per client; default 60), SKIFF_BENCH_API_IDLE_S.
 * Of the cluster section: SKIFF_BENCH_CLUSTER_PROBE_PERIOD (readiness probe period of its pods, s; default 1),
 * SKIFF_BENCH_CLUSTER_CPU_PROF=DIR (CPU profiles of the daemons, written when skiff down stops them).
 *
 * Adding a section (store, apiserver, proxy): write bench/<name>.ts exporting an async function returning
 * { lines, json }, and add it to SECTIONS.
 */

interface Section {
  describe: string;
  run: () => Promise<SectionOutput>;
}

const SECTIONS: Record<string, Section> = {
  agent: {
    describe: 'node agent: static pod start and Ready latency (1 and 30 pods) vs direct Docker calls, RSS, idle CPU',
    run: () => agentBench(),
  },
  apiserver: {
    describe: 'API server: create/get/update/list p50/p99 under 50 clients, LIST of 5,000 pods, watch delivery to 200 watchers, RSS with 5,000 pods',
    run: () => apiserverBench(),
  },
  store: {
    describe: 'store: skiff store vs etcd 3.4 on 1 and 3 members: put/range throughput and p50/p99, watch delivery, RSS with 100k keys',
    run: () => storeBench(),
  },
  proxy: {
    describe: 'proxy: iptables full sync (100/1,000/5,000 services) and one-service change vs raw iptables-restore, in a netns; userspace req/s and p99 vs direct',
    run: () => proxyBench(),
  },
  scheduler: {
    describe: 'scheduler: 5,000 pods on 100 simulated nodes, without and with required anti-affinity (pure loop and via the API server)',
    run: () => schedulerBench(),
  },
  deployment: {
    describe: 'controllers: a 1,000-replica Deployment to all pods bound on 100 simulated nodes vs the same pods created directly',
    run: () => deploymentBench(),
  },
  cluster: {
    describe: 'skiff up on this machine: pod create through the API to Running/Ready (1 pod, 100-replica Deployment) vs Docker, skiff up/down times, daemons\' RSS (needs root; run under flock /tmp/skiff-host.lock)',
    run: () => clusterBench(),
  },
};

const ROOT = resolve(import.meta.dirname, '../..');

function usage(): string {
  const names = Object.entries(SECTIONS).map(([n, s]) => `  ${n.padEnd(10)} ${s.describe}`);
  return ['Usage: node dist/bench/run.js [SECTION...]   (no section: all of them)', '', 'Sections:', ...names].join('\n');
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => !(a in SECTIONS));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown section(s): ${unknown.join(', ')}\n${usage()}\n`);
    return 2;
  }
  const chosen = argv.length > 0 ? argv : Object.keys(SECTIONS);
  installSignalHandlers();
  const outDir = join(ROOT, '.tmp');
  mkdirSync(outDir, { recursive: true });
  let failed = 0;
  for (const name of chosen) {
    const section = SECTIONS[name] as Section;
    progress(`section ${name}: ${section.describe}`);
    try {
      const out = await section.run();
      const file = join(outDir, `bench-${name}.json`);
      writeFileSync(file, `${JSON.stringify(out.json, null, 2)}\n`);
      process.stdout.write(`\n== ${name} ==\n${out.lines.join('\n')}\n(details: ${file})\n`);
    } catch (err) {
      if (err instanceof Aborted) break;
      failed++;
      progress(`section ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    } finally {
      await runCleanups();
    }
  }
  await runCleanups();
  if (aborted) return ABORT_EXIT_CODE;
  // Failing to run is an error; a slow figure is not.
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    progress(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await runCleanups();
    process.exit(1);
  },
);
