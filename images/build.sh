#!/usr/bin/env bash
# Build kolla-start as a static binary and the local image chain:
#   NS/base:TAG -> NS/service-standin:TAG -> NS/<service>:TAG (one per line of services.list)
#
# Usage: images/build.sh [--namespace NS] [--tag TAG] [--bin-dir DIR] [--no-services] [SERVICE...]
#   --namespace NS  image namespace (default: kollars), as kolla-build's --namespace
#   --tag TAG       image tag (default: latest)
#   --bin-dir DIR   take kolla-start and kolla-standin from DIR instead of building them
#   --no-services   build base and service-standin only
#   SERVICE...      build only these service images (default: all of services.list)
# Docker is reached through DOCKER_HOST as usual. Cargo builds into $CARGO_TARGET_DIR
# (default: <repo>/target). Prints the image names built, one per line, on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
ns=kollars tag=latest bindir="" services=1 only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) ns=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --bin-dir) bindir=$2; shift 2 ;;
    --no-services) services=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done
log() { echo "build.sh: $*" >&2; }
is_static() { # ldd fails on static binaries, saying so
  local out; out=$(ldd "$1" 2>&1 || true)
  grep -Eq 'not a dynamic executable|statically linked' <<<"$out"
}

if [ -z "$bindir" ]; then
  # musl is not installable here: a static glibc binary. The explicit --target keeps
  # RUSTFLAGS away from build scripts and proc macros.
  log "building static kolla-start"
  RUSTFLAGS='-C target-feature=+crt-static' cargo build --quiet --release -p kolla-start \
    --target x86_64-unknown-linux-gnu --manifest-path "$repo/Cargo.toml" >&2
  bindir=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/release
fi
for b in kolla-start kolla-standin; do
  [ -x "$bindir/$b" ] || { log "missing $bindir/$b"; exit 1; }
  is_static "$bindir/$b" || { log "$bindir/$b is not static"; exit 1; }
done
if ! { [ -x /bin/busybox ] && is_static /bin/busybox; }; then
  log "installing busybox-static"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq busybox-static >/dev/null
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
rootfs=$ctx/base/rootfs
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc/kolla,root,tmp,run,var/log/kolla,var/lib/kolla/config_files}
cp /bin/busybox "$rootfs/bin/busybox"
# Every applet as a link, except daemons whose names a kolla command could mean (httpd,
# crond, ...): the stand-in takes their place instead.
skip=' httpd crond syslogd klogd ntpd udhcpd dnsd ftpd telnetd inetd tftpd '
/bin/busybox --list-full | while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  case "$skip" in *" ${applet##*/} "*) continue ;; esac
  ln -sf /bin/busybox "$rootfs/$applet"
done
cp "$bindir/kolla-start" "$rootfs/usr/local/bin/kolla-start"
for n in kolla_start kolla_set_configs healthcheck_curl healthcheck_port healthcheck_listen; do
  ln -s kolla-start "$rootfs/usr/local/bin/$n"
done
: > "$rootfs/usr/local/bin/kolla_extend_start"
install -m 0755 "$here/base/shims/sudo" "$rootfs/usr/bin/sudo"
install -m 0755 "$here/base/shims/bash" "$rootfs/bin/bash"
cp "$here/base/passwd" "$here/base/group" "$rootfs/etc/"
cp "$here/base/Dockerfile" "$ctx/base/"
mkdir -p "$ctx/service-standin"
cp "$bindir/kolla-standin" "$here/service-standin/Dockerfile" "$here/service-standin/kolla_extend_start" "$ctx/service-standin/"

export DOCKER_BUILDKIT=0
build() { # NAME then docker build arguments
  local name=$1; shift
  log "building $ns/$name:$tag"
  local err
  # The classic builder's deprecation notice is noise here; real errors are kept.
  if ! err=$(docker build -q -t "$ns/$name:$tag" "$@" 2>&1 >/dev/null); then
    echo "$err" >&2; log "building $ns/$name:$tag failed"; return 1
  fi
  echo "$ns/$name:$tag"
}
build base "$ctx/base"
build service-standin --build-arg "BASE=$ns/base:$tag" "$ctx/service-standin"
[ "$services" = 1 ] || exit 0
found=0 pids=()
while read -r name spec; do
  case "$name" in ''|'#'*) continue ;; esac
  if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$name"; then continue; fi
  found=$((found + 1))
  [ "$spec" = - ] && spec=""
  # Four at a time: each uncached build is a couple of seconds of engine work.
  if [ ${#pids[@]} -ge 4 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
  build "$name" --build-arg "BASE=$ns/service-standin:$tag" --build-arg "SERVICE=$name" \
    --build-arg "STANDIN=$spec" - < "$here/service/Dockerfile" &
  pids+=($!)
done < "$here/services.list"
for p in "${pids[@]}"; do wait "$p"; done
if [ ${#only[@]} -gt 0 ] && [ "$found" -ne ${#only[@]} ]; then
  log "some of ${only[*]} are not in services.list"; exit 1
fi
