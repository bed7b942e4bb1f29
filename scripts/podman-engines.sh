#!/usr/bin/env bash
# Start (or reuse) N local podman engines (podman's Docker-compatible API service) that stand
# in for N hosts, as scripts/engines.sh does with dockerd.
#
# Usage: scripts/podman-engines.sh up N [DIR]   -> prints one "unix://DIR/hostI/podman.sock" per line
#        scripts/podman-engines.sh down [DIR]
#
# Why podman: it starts privileged containers on this machine where dockerd cannot (kolla's
# openvswitch, neutron agents, nova-libvirt need them), and kolla-ansible supports it
# (`kolla_container_engine: podman`).
#
# Each engine has its own storage (graphroot/runroot under DIR/hostI), containers.conf, event
# log, tmp dir and socket, and runs in its own network namespace (`nsenter --net=`, not
# `ip netns exec`: that remounts /sys and podman then finds no cgroup mount). The recipe and
# its reasons are in shared/research/remote-engines.md: cgroupfs (no systemd), a file event
# logger, and default ulimits that fit this sandbox (podman asks for 1048576 open files, the
# hard limit here is lower and CAP_SYS_RESOURCE is missing). Debian's podman is installed when
# missing. Engines are reused when their socket already answers.
#
# `down` stops the services, ends the conmon processes of their containers and execs (by the
# PIDs their pid files name, or a conmon whose bundle is in this engine's storage; nothing by
# name), and unmounts what the storage left mounted.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
cmd=${1:-up}
n=${2:-1}
dir=${3:-${KOLLARS_PODMAN_DIR:-/tmp/kollars-podman}}
case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
if [ "$cmd" = down ]; then dir=${2:-$dir}; fi

ensure_podman() {
  command -v podman >/dev/null 2>&1 || apt_install --no-install-recommends podman
  command -v curl >/dev/null 2>&1 || apt_install curl
}

ping() { curl -sf --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }
nsname() { printf 'kollars-%s-%s' "$(printf '%s' "$dir" | md5sum | cut -c1-8)" "$1"; }

write_conf() { # HOSTDIR
  local h=$1 nofile
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1048576
  mkdir -p "$h/root" "$h/run" "$h/tmp" "$h/cni" "$h/volumes"
  cat >"$h/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$h/root"
runroot = "$h/run"
EOF
  cat >"$h/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$h/events.log"
tmp_dir = "$h/tmp"
runtime = "runc"
volume_path = "$h/volumes"
[network]
network_config_dir = "$h/cni"
EOF
}

case "$cmd" in
  up)
    ensure_podman
    mkdir -p "$dir"
    # kolla's /run/...:shared volumes need / to be a shared mount.
    mount --make-rshared / 2>/dev/null || true
    for i in $(seq 1 "$n"); do
      h="$dir/host$i"; sock="$h/podman.sock"
      mkdir -p "$h"
      if ! ping "$sock"; then
        rm -f "$sock" "$h/podman.pid"
        write_conf "$h"
        ns=$(nsname "h$i")
        ip netns list 2>/dev/null | grep -qw "$ns" || ip netns add "$ns"
        ip -n "$ns" link set lo up
        # from /: its conmons inherit the service's working directory, and a checkout this
        # script ran from may be gone while the service lives on ("conmon: Failed to get
        # working directory", every start refused)
        (cd / && CONTAINERS_CONF=$h/containers.conf CONTAINERS_STORAGE_CONF=$h/storage.conf \
          exec nohup nsenter "--net=/var/run/netns/$ns" \
          podman system service --time=0 "unix://$sock" >"$h/podman.log" 2>&1) &
        echo $! >"$h/podman.pid"
      fi
    done
    for i in $(seq 1 "$n"); do
      sock="$dir/host$i/podman.sock"
      for _ in $(seq 1 120); do ping "$sock" && break; sleep 0.5; done
      ping "$sock" || { echo "podman engine host$i did not start; see $dir/host$i/podman.log" >&2; tail -20 "$dir/host$i/podman.log" >&2; exit 1; }
    done
    for i in $(seq 1 "$n"); do echo "unix://$dir/host$i/podman.sock"; done
    ;;
  down)
    for h in "$dir"/host*; do
      [ -d "$h" ] || continue
      if [ -f "$h/podman.pid" ]; then kill "$(cat "$h/podman.pid")" 2>/dev/null || true; fi
      # conmon and the containers it watches: their pid files are in this engine's storage
      for p in $(find "$h/run" "$h/root" \( -name 'conmon.pid' -o -name 'pidfile' \) 2>/dev/null); do
        pid=$(cat "$p" 2>/dev/null || true)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
      done
      # the conmon of each exec (they stay 300 s, with no pid file): a conmon process whose
      # bundle (-b) is in this engine's storage
      for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/conmon ] || continue
        tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qF "$h/root/" && kill "${p#/proc/}" 2>/dev/null || true
      done
    done
    sleep 1
    for h in "$dir"/host*; do
      [ -d "$h/root" ] || continue
      grep -o " $h/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    done
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$(nsname '')h[0-9]+$"); do
      ip netns del "$ns" 2>/dev/null || true
    done
    ;;
  *) echo "usage: $0 up N [DIR] | down [DIR]" >&2; exit 2 ;;
esac
