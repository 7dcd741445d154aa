#!/usr/bin/env bash
# `npm start`: everything a newcomer needs to see Skiff run on this machine. Installs the Debian packages, starts
# Docker when none answers, builds Skiff and its local images, then runs the agent in the foreground with the example
# static pods in examples/manifests. Ctrl-C stops the agent; the pods keep running (as with a real kubelet) until
# `skiff agent` runs again or `scripts/stop.sh` removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '== %s\n' "$*" >&2; }

step "installing system packages (skipped when present)"
bash scripts/install-deps.sh
step "making sure a Docker daemon answers"
bash scripts/ensure-docker.sh "${SKIFF_DOCKER_STATE_DIR:-/tmp/skiff-docker}"
if [ ! -d node_modules ]; then
  step "installing npm dependencies"
  npm ci --no-audit --no-fund
fi
step "building Skiff"
npx tsc -p tsconfig.json
step "building local images"
node dist/cli/skiff.js images build
manifests="${SKIFF_MANIFESTS:-$PWD/examples/manifests}"
step "starting the agent: static pods from $manifests, API on http://127.0.0.1:10255 (try: curl -s localhost:10255/pods)"
exec node dist/cli/skiff.js agent --pod-manifest-path "$manifests" --root-dir "${SKIFF_ROOT_DIR:-/var/lib/skiff/agent}" --address 127.0.0.1 "$@"
