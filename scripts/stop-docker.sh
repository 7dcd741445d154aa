#!/usr/bin/env bash
# Stops the dockerd that scripts/ensure-docker.sh started, and only that one.
#
# usage: scripts/stop-docker.sh PIDFILE
#
# The PID is checked to still be a dockerd before it is signalled, so a stale
# pid file (the daemon died and the PID was reused) never kills another process.
# A missing pid file means ensure-docker.sh found docker already running and
# started nothing: then there is nothing to stop. dockerd gets SIGTERM and up to
# $SKIFF_DOCKER_STOP_SECONDS (default 30) to stop its containers cleanly before SIGKILL.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 PIDFILE" >&2
  exit 2
fi
pid_file="$1"
stop_seconds="${SKIFF_DOCKER_STOP_SECONDS:-30}"

if [ ! -e "$pid_file" ]; then
  echo "docker: no pid file $pid_file, nothing to stop"
  exit 0
fi
pid="$(tr -d '[:space:]' <"$pid_file")"
case "$pid" in
  '' | *[!0-9]*)
    echo "docker: $pid_file does not hold a PID" >&2
    exit 1
    ;;
esac

# Alive and not a zombie: an exited dockerd whose parent has not reaped it
# still answers kill -0.
alive() {
  local state
  state="$(sed -n 's/^[0-9]* ([^)]*) \([A-Za-z]\).*/\1/p' "/proc/$pid/stat" 2>/dev/null || true)"
  [ -n "$state" ] && [ "$state" != "Z" ] && [ "$state" != "X" ]
}

if [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != "dockerd" ] || ! alive; then
  echo "docker: pid $pid is no longer a dockerd, nothing to stop"
  rm -f "$pid_file"
  exit 0
fi

echo "docker: stopping dockerd $pid ..."
kill -TERM "$pid"
start=$SECONDS
while alive; do
  if ((SECONDS - start >= stop_seconds)); then
    echo "docker: dockerd $pid still running after ${stop_seconds}s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    break
  fi
  sleep 0.5
done
rm -f "$pid_file"
echo "docker: stopped dockerd $pid"
