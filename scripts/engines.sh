#!/usr/bin/env bash
# Start (or reuse) N local Docker engines that stand in for N hosts.
#
# Usage: scripts/engines.sh up N [DIR]   -> prints one "unix://DIR/hostI/docker.sock" per line
#        scripts/engines.sh down [DIR]
#
# Each engine has its own data root, exec root, socket, pidfile and containerd namespace,
# no bridge and no iptables, and runs in its own network namespace (where `ip netns` works), so
# several run side by side on one machine and their host-network containers do not share
# ports, as on separate hosts. Debian's docker.io is
# installed when dockerd is missing. Engines are reused when their socket already answers.
#
# KOLLARS_STORAGE_DRIVER picks the storage driver (default vfs: a full copy per layer, fine
# for the small stand-in images). The real images (scripts/build-real-images.sh) are
# hundreds of megabytes: give their engines overlay2. An engine keeps the driver it was
# started with; a data root made with another driver is kept in its own directory.
set -euo pipefail
cmd=${1:-up}
n=${2:-1}
dir=${3:-${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}}
driver=${KOLLARS_STORAGE_DRIVER:-vfs}
case "$driver" in vfs|overlay2) ;; *) echo "engines.sh: KOLLARS_STORAGE_DRIVER must be vfs or overlay2" >&2; exit 2 ;; esac
# vfs keeps the data root it always had; another driver gets its own.
data=data; [ "$driver" = vfs ] || data=data-$driver
if [ "$cmd" = down ]; then dir=${2:-$dir}; fi

ensure_docker() {
  if ! command -v dockerd >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq docker.io >/dev/null
  fi
}

ping() { curl -sf --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }

case "$cmd" in
  up)
    ensure_docker
    command -v curl >/dev/null || { apt-get install -y -qq curl >/dev/null; }
    mkdir -p "$dir"
    # kolla mounts /run with shared propagation, which needs / to be a shared mount.
    mount --make-rshared / 2>/dev/null || true
    for i in $(seq 1 "$n"); do
      h="$dir/host$i"; sock="$h/docker.sock"
      mkdir -p "$h"
      if ! ping "$sock"; then
        rm -f "$sock" "$h/docker.pid"
        ns=kollars-$(printf '%s' "$dir" | md5sum | cut -c1-8)-h$i
        netns=()
        if command -v ip >/dev/null 2>&1 && { ip netns list 2>/dev/null | grep -qw "$ns" || ip netns add "$ns" 2>/dev/null; }; then
          ip -n "$ns" link set lo up 2>/dev/null || true
          netns=(nsenter "--net=/var/run/netns/$ns")
        fi
        nohup "${netns[@]}" dockerd --data-root "$h/$data" --exec-root "$h/exec" -H "unix://$sock" \
          --pidfile "$h/docker.pid" --containerd-namespace "kollars-host$i" \
          --containerd-plugins-namespace "kollars-host$i-plugins" \
          --bridge none --iptables=false --ip6tables=false --storage-driver "$driver" \
          >"$h/dockerd.log" 2>&1 &
      fi
    done
    for i in $(seq 1 "$n"); do
      sock="$dir/host$i/docker.sock"
      for _ in $(seq 1 120); do ping "$sock" && break; sleep 0.5; done
      ping "$sock" || { echo "engine host$i did not start; see $dir/host$i/dockerd.log" >&2; tail -20 "$dir/host$i/dockerd.log" >&2; exit 1; }
      echo "unix://$sock"
    done
    ;;
  down)
    for p in "$dir"/host*/docker.pid; do
      [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
    sleep 1
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^kollars-$(printf '%s' "$dir" | md5sum | cut -c1-8)-h"); do
      ip netns del "$ns" 2>/dev/null || true
    done
    ;;
  *) echo "usage: $0 up N [DIR] | down [DIR]" >&2; exit 2 ;;
esac
