#!/usr/bin/env bash
# `npm start`: a working single-node Skiff cluster on this machine. Installs the npm dependencies if missing, builds,
# then runs `skiff up` (which installs and starts Docker when needed, builds the local images, starts the control
# plane, the agent and the proxy, and merges a `skiff` context into your kubeconfig). `npm run stop` undoes it.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '== %s\n' "$*" >&2; }
if [ ! -d node_modules ]; then
  step "installing npm dependencies"
  npm ci --no-audit --no-fund
fi
step "building Skiff"
npx tsc -p tsconfig.json
exec node dist/cli/skiff.js up "$@"
