#!/usr/bin/env bash
# The project's test command (`npm test`): installs what the tests need on a fresh Debian machine, starts a Docker
# daemon when none answers (and stops only that one afterwards), builds, runs every suite, and ends with a plain
# line "N passed, N failed, N skipped". Extra arguments go to vitest (e.g. a test path).
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
state_dir="${SKIFF_TEST_STATE_DIR:-$root/.tmp/test-docker}"
mkdir -p "$root/.tmp"

step() { printf '\n== %s\n' "$*"; }

step "installing system packages (skipped when present)"
bash scripts/install-deps.sh || { echo "installing system packages failed" >&2; echo "0 passed, 1 failed"; exit 1; }

step "making sure a Docker daemon answers"
bash scripts/ensure-docker.sh "$state_dir" || { echo "no Docker daemon" >&2; echo "0 passed, 1 failed"; exit 1; }
stop_docker() {
  if [ -s "$state_dir/dockerd.pid" ]; then
    step "stopping the dockerd this run started"
    bash scripts/stop-docker.sh "$state_dir/dockerd.pid" || true
  fi
}
trap stop_docker EXIT

if [ ! -d node_modules ]; then
  step "installing npm dependencies"
  npm ci --no-audit --no-fund || { echo "0 passed, 1 failed"; exit 1; }
fi

step "building"
npx tsc -p tsconfig.json || { echo "0 passed, 1 failed"; exit 1; }
npx tsc -p tsconfig.test.json || { echo "0 passed, 1 failed"; exit 1; }

step "running tests"
report="$root/.tmp/vitest-report.json"
rm -f "$report"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?

if [ -s "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    // A file that failed without a failing test (a hook or import error) counts as a failure of its own.
    const brokenSuites = (r.testResults || []).filter((f) => f.status === "failed" && !(f.assertionResults || []).some((a) => a.status === "failed")).length;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenSuites} failed, ${skipped} skipped`);
  ' "$report"
else
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
