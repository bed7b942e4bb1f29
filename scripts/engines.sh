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
#
# KOLLARS_ENGINE_LAN=198.18.0 makes the engines separate hosts on one LAN, as a multi-host
# site needs: each dockerd also gets its own UTS and mount namespaces, with hostname hostI and
# its own /etc/hosts (DIR/hostI/hosts, which host-network containers copy) naming every host;
# each network namespace gets eth0 with 198.18.0.I/24, all joined by a bridge in a namespace
# of their own (kollars-<dir hash>-lan). Nothing leaves those namespaces.
#
# KOLLARS_ENGINE_TLS=PKI makes each engine also listen on tcp://127.0.0.1:2376 inside its
# network namespace with --tlsverify: PKI holds ca.pem (the CA client certificates must come
# from) and server-cert.pem, server-key.pem (tests/tls/pki.sh makes them). A reused engine
# keeps the certificates it was started with.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
cmd=${1:-up}
n=${2:-1}
dir=${3:-${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}}
driver=${KOLLARS_STORAGE_DRIVER:-vfs}
lan=${KOLLARS_ENGINE_LAN:-}
tls=${KOLLARS_ENGINE_TLS:-}
if [ -n "$lan" ] && ! [[ $lan =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; then
  echo "engines.sh: KOLLARS_ENGINE_LAN must be three octets, e.g. 198.18.0" >&2; exit 2
fi
case "$driver" in vfs|overlay2) ;; *) echo "engines.sh: KOLLARS_STORAGE_DRIVER must be vfs or overlay2" >&2; exit 2 ;; esac
# vfs keeps the data root it always had; another driver gets its own.
data=data; [ "$driver" = vfs ] || data=data-$driver
if [ "$cmd" = down ]; then dir=${2:-$dir}; fi

ensure_docker() {
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io
  fi
}

ping() { curl -sf --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }
nsname() { printf 'kollars-%s-%s' "$(printf '%s' "$dir" | md5sum | cut -c1-8)" "$1"; }

# The LAN: a bridge in its own namespace, host I's eth0 at $lan.I, and every host's hosts file.
lan_up() {
  local br; br=$(nsname lan)
  ip netns list | grep -qw "$br" || ip netns add "$br"
  ip -n "$br" link show br0 >/dev/null 2>&1 || ip -n "$br" link add br0 type bridge
  ip -n "$br" link set lo up; ip -n "$br" link set br0 up
  for i in $(seq 1 "$n"); do
    local ns; ns=$(nsname "h$i")
    if ! ip -n "$ns" link show eth0 >/dev/null 2>&1; then
      ip link add "kl$$-$i" type veth peer name "kp$$-$i"
      ip link set "kl$$-$i" netns "$ns"; ip -n "$ns" link set "kl$$-$i" name eth0
      ip link set "kp$$-$i" netns "$br"; ip -n "$br" link set "kp$$-$i" name "p$i" master br0 up
      ip -n "$ns" addr add "$lan.$i/24" dev eth0
      ip -n "$ns" link set eth0 up
    fi
  done
  for i in $(seq 1 "$n"); do
    { printf '127.0.0.1\tlocalhost\n'
      for j in $(seq 1 "$n"); do printf '%s.%s\thost%s\n' "$lan" "$j" "$j"; done
    } > "$dir/host$i/hosts.new"
    # in place: the file is bind-mounted over the engine's /etc/hosts
    cat "$dir/host$i/hosts.new" > "$dir/host$i/hosts"; rm -f "$dir/host$i/hosts.new"
  done
}

# Starts engine I of DIR in the background (its own network namespace; on a LAN, its own
# hostname and /etc/hosts too).
start_engine() {
  local i=$1 h="$dir/host$1" ns netns
  local sock="$h/docker.sock"
  mkdir -p "$h"
  rm -f "$sock" "$h/docker.pid"
  ns=$(nsname "h$i")
  netns=()
  if command -v ip >/dev/null 2>&1 && { ip netns list 2>/dev/null | grep -qw "$ns" || ip netns add "$ns" 2>/dev/null; }; then
    ip -n "$ns" link set lo up 2>/dev/null || true
    netns=(nsenter "--net=/var/run/netns/$ns")
  fi
  if [ -n "$lan" ]; then
    [ ${#netns[@]} -gt 0 ] || { echo "engines.sh: KOLLARS_ENGINE_LAN needs ip netns" >&2; exit 1; }
    [ -f "$h/hosts" ] || cp /etc/hosts "$h/hosts"
    # own hostname and /etc/hosts; mounts made here stay here (slave), yet / is shared
    # inside, as kolla's /run:shared volumes need
    netns+=(unshare --uts --mount --propagation slave sh -c
      "hostname host$i && mount --make-rshared / && mount --bind '$h/hosts' /etc/hosts && exec \"\$0\" \"\$@\"")
  fi
  local listen=(-H "unix://$sock")
  if [ -n "$tls" ]; then
    [ ${#netns[@]} -gt 0 ] || { echo "engines.sh: KOLLARS_ENGINE_TLS needs ip netns" >&2; exit 1; }
    listen+=(-H tcp://127.0.0.1:2376 --tlsverify --tlscacert "$tls/ca.pem"
      --tlscert "$tls/server-cert.pem" --tlskey "$tls/server-key.pem")
  fi
  nohup "${netns[@]}" dockerd --data-root "$h/$data" --exec-root "$h/exec" "${listen[@]}" \
    --pidfile "$h/docker.pid" --containerd-namespace "kollars-host$i" \
    --containerd-plugins-namespace "kollars-host$i-plugins" \
    --bridge none --iptables=false --ip6tables=false --storage-driver "$driver" \
    >>"$h/dockerd.log" 2>&1 &
}

case "$cmd" in
  up)
    ensure_docker
    command -v curl >/dev/null || apt_install curl
    mkdir -p "$dir"
    # kolla mounts /run with shared propagation, which needs / to be a shared mount.
    mount --make-rshared / 2>/dev/null || true
    for i in $(seq 1 "$n"); do
      ping "$dir/host$i/docker.sock" || start_engine "$i"
    done
    # A dockerd that exits before answering (its containerd slow to start on a loaded
    # machine, or a killed daemon's containerd still letting go) is started again, twice.
    for i in $(seq 1 "$n"); do
      h="$dir/host$i"; sock="$h/docker.sock"
      for attempt in 1 2 3; do
        for _ in $(seq 1 120); do
          ping "$sock" && break
          pgrep -f -- "--pidfile $h/docker.pid" >/dev/null || break
          sleep 0.5
        done
        ping "$sock" && break
        [ "$attempt" = 3 ] && break
        pkill -f -- "--pidfile $h/docker.pid" 2>/dev/null || true
        sleep 2
        echo "engines.sh: engine host$i did not start (attempt $attempt), starting it again" >&2
        start_engine "$i"
      done
      ping "$sock" || { echo "engine host$i did not start; see $dir/host$i/dockerd.log" >&2; tail -20 "$dir/host$i/dockerd.log" >&2; exit 1; }
    done
    [ -z "$lan" ] || lan_up
    for i in $(seq 1 "$n"); do echo "unix://$dir/host$i/docker.sock"; done
    ;;
  down)
    for p in "$dir"/host*/docker.pid; do
      [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
    sleep 1
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$(nsname '')(h[0-9]+|lan)$"); do
      ip netns del "$ns" 2>/dev/null || true
    done
    ;;
  *) echo "usage: $0 up N [DIR] | down [DIR]" >&2; exit 2 ;;
esac
