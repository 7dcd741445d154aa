#!/usr/bin/env node
import { readFileSync } from 'node:fs';

const HELP = `Usage: skiff <command> [flags]

Skiff: a lightweight, Kubernetes-compatible container orchestrator.

Commands:
  up         Start a single-node cluster on this machine (control plane, agent, proxy) and merge its kubeconfig
  down       Stop what skiff up started and remove what Skiff created (--purge: the data dir too)
  control    Run the control plane: API server, scheduler, controller manager (--only to split them)
  store      Run a member of Skiff's replicated store (etcd's flags; serves the etcd v3 API)
  proxy      Run the service proxy (kube-proxy): iptables or userspace mode
  agent      Run the node agent (kubelet): static pods from a directory, a URL and its HTTP API
  token      Create a bootstrap token for joining nodes: skiff token create [--print-join-command]
  join       Join this machine to a cluster as a node (the command skiff token create prints)
  images     Build Skiff's local images (pause and test images): skiff images build [--force] | list
  version    Print the version

Run "skiff <command> --help" for a command's flags.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'agent': {
      const { runAgent } = await import('../agent/main.js');
      return runAgent(rest);
    }
    case 'control': {
      const { runControl } = await import('../control/main.js');
      return runControl(rest);
    }
    case 'proxy': {
      const { runProxy } = await import('../proxy/index.js');
      return runProxy(rest);
    }
    case 'store': {
      const { runStore } = await import('../control/store/cli.js');
      return runStore(rest);
    }
    case 'token': return (await import('./token.js')).runToken(rest);
    case 'join': return (await import('./join.js')).runJoin(rest);
    case 'up': return (await import('./up.js')).runUp(rest);
    case 'down': return (await import('./down.js')).runDown(rest);
    case 'images': {
      const { imagesCommand } = await import('../images/cli.js');
      return imagesCommand(rest);
    }
    case 'version':
    case '--version':
      process.stdout.write(`skiff ${version()}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${HELP}\n`);
      return 0;
    default:
      process.stderr.write(`skiff: unknown command "${command}"\n\n${HELP}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`skiff: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    // Servers started before the error would keep the process alive; a daemon that failed must exit.
    process.exit(1);
  },
);
