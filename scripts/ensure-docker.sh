#!/usr/bin/env bash
# Makes sure a Docker daemon answers, for CI and for `skiff up`.
#
# usage: scripts/ensure-docker.sh [STATE_DIR]
#   STATE_DIR (default: $SKIFF_DOCKER_STATE_DIR or /tmp/skiff-docker) receives
#   dockerd.log and dockerd.pid when this script starts a dockerd.
#
# If `docker info` already answers, nothing is started ("docker: already
# running") and no pid file is written, so scripts/stop-docker.sh leaves that
# daemon alone. Otherwise docker.io is installed if dockerd is missing, dockerd
# is started in the background, and the script waits up to
# $SKIFF_DOCKER_WAIT_SECONDS (default 60) for it to answer. Stop it later with:
#   scripts/stop-docker.sh STATE_DIR/dockerd.pid
#
# Extra dockerd flags can be passed in $SKIFF_DOCKERD_ARGS (split at spaces),
# e.g. "--host unix:///tmp/d/docker.sock --data-root /tmp/d/data" to run a
# second daemon; set DOCKER_HOST to match so that `docker info` asks it.
set -euo pipefail

state_dir="${1:-${SKIFF_DOCKER_STATE_DIR:-/tmp/skiff-docker}}"
wait_seconds="${SKIFF_DOCKER_WAIT_SECONDS:-60}"
log_file="$state_dir/dockerd.log"
pid_file="$state_dir/dockerd.pid"

docker_answers() {
  # A bounded timeout: a wedged daemon must not hang CI here.
  timeout 10 docker info >/dev/null 2>&1
}

if command -v docker >/dev/null 2>&1 && docker_answers; then
  echo "docker: already running"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "docker: dockerd is not installed and installing docker.io needs root" >&2
    exit 1
  fi
  echo "docker: installing docker.io ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "docker: starting dockerd needs root" >&2
  exit 1
fi

mkdir -p "$state_dir"

# A pid file from an earlier run whose dockerd still lives but does not answer
# means that daemon is wedged; starting a second one on the same socket would fail.
if [ -s "$pid_file" ]; then
  old_pid="$(cat "$pid_file")"
  if [ -r "/proc/$old_pid/comm" ] && [ "$(cat "/proc/$old_pid/comm")" = "dockerd" ]; then
    echo "docker: dockerd $old_pid from $pid_file is running but does not answer; see $log_file" >&2
    exit 1
  fi
  rm -f "$pid_file"
fi

echo "docker: starting dockerd (log: $log_file)"
# setsid detaches dockerd from this script's session so it outlives the script
# and a terminal hangup; without job control `setsid` execs in place, so $! is
# dockerd's own PID.
# shellcheck disable=SC2086 # SKIFF_DOCKERD_ARGS is meant to be split
setsid dockerd ${SKIFF_DOCKERD_ARGS:-} >>"$log_file" 2>&1 </dev/null &
pid=$!
# Should setsid have forked after all, find the dockerd it started.
if [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != "dockerd" ]; then
  sleep 0.2
  child="$(pgrep -P "$pid" -x dockerd || true)"
  [ -n "$child" ] && pid="$child"
fi
echo "$pid" >"$pid_file"

# Wall-clock deadline: a single `docker info` may itself take seconds.
start=$SECONDS
next_note=5
while ((SECONDS - start < wait_seconds)); do
  if docker_answers; then
    echo "docker: ready after $((SECONDS - start))s (pid $pid, pid file $pid_file)"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "docker: dockerd exited during startup; last log lines:" >&2
    tail -n 20 "$log_file" >&2 || true
    rm -f "$pid_file"
    exit 1
  fi
  if ((SECONDS - start >= next_note)); then
    echo "docker: waiting for dockerd ... $((SECONDS - start))s"
    next_note=$((next_note + 5))
  fi
  sleep 1
done

echo "docker: dockerd did not answer within ${wait_seconds}s; last log lines:" >&2
tail -n 20 "$log_file" >&2 || true
echo "docker: it is still running as pid $pid; stop it with scripts/stop-docker.sh $pid_file" >&2
exit 1
