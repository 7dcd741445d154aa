#!/usr/bin/env bash
# Installs the Debian 12 packages Skiff needs on a fresh machine (dev, CI, node).
# Idempotent: when every package is already installed, apt is not run at all,
# so this is cheap to call at the start of every CI run.
#
# usage: scripts/install-deps.sh        (as root)
#   SKIFF_EXTRA_PACKAGES="pkg1 pkg2" adds packages to the list.
set -euo pipefail

packages=(
  docker.io       # container runtime the agent drives
  iptables        # service proxy rules, docker networking
  busybox-static  # static busybox for the skiff/busybox and skiff/web images
  gcc             # compiles the pause binary for skiff/pause
  libc6-dev       # static libc for `gcc -static`
  docker-registry # local registry for image pull tests
  etcd-server     # control plane store
  etcd-client     # etcdctl, for debugging and tests
  conntrack       # flushes stale NAT entries when service endpoints change
  iproute2        # ip, for network namespaces and addresses
  systemd         # systemd-analyze, to verify the shipped units
  openssl         # throwaway certificates for the HTTPS probe test
  apache2-utils   # htpasswd -B: bcrypt users for the authenticated registry in the pull secret test
)
# shellcheck disable=SC2206 # word splitting is the point here
packages+=(${SKIFF_EXTRA_PACKAGES:-})

missing=()
for pkg in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
  if [ "$status" != "installed" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]} ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
echo "install-deps: done"
