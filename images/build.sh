#!/usr/bin/env bash
# Build kolla-start and kolla-standin as static binaries and the local image chain:
#   NS/base:TAG -> NS/service-standin:TAG -> NS/<image>:TAG (one per image of services.list)
#
# Usage: images/build.sh [--namespace NS] [--tag TAG] [--bin-dir DIR] [--no-services] [IMAGE...]
#   --namespace NS  image namespace (default: kollars), as kolla-build's --namespace
#   --tag TAG       image tag (default: latest)
#   --bin-dir DIR   take kolla-start and kolla-standin from DIR instead of building them
#   --no-services   build base and service-standin only
#   IMAGE...        build only these per-service images (default: all of services.list)
# Docker is reached through DOCKER_HOST as usual. Cargo builds into $CARGO_TARGET_DIR
# (default: <repo>/target). Prints the image names built, one per line, on stdout.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/../scripts/lib/apt.sh"
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
  # kolla-start (crates/kolla-start) and the stand-in (crates/kolla-standin, test support).
  log "building static kolla-start and kolla-standin"
  RUSTFLAGS='-C target-feature=+crt-static' cargo build --quiet --release -p kolla-start \
    -p kolla-standin --target x86_64-unknown-linux-gnu --manifest-path "$repo/Cargo.toml" >&2
  bindir=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/release
fi
for b in kolla-start kolla-standin; do
  [ -x "$bindir/$b" ] || { log "missing $bindir/$b"; exit 1; }
  is_static "$bindir/$b" || { log "$bindir/$b is not static"; exit 1; }
done
if ! { [ -x /bin/busybox ] && is_static /bin/busybox; }; then
  log "installing busybox-static"
  apt_install busybox-static
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
# service-standin: the stand-in, a link to it for every program of programs.list (scripts are
# copied), the list itself for the stand-in to read, and the extend_start hook.
sroot=$ctx/service-standin/rootfs
mkdir -p "$sroot/usr/local/bin" "$sroot/etc/kolla-standin"
cp "$bindir/kolla-standin" "$sroot/usr/local/bin/kolla-standin"
install -m 0644 "$here/service-standin/kolla_extend_start" "$sroot/usr/local/bin/kolla_extend_start"
install -m 0644 "$here/programs.list" "$sroot/etc/kolla-standin/programs"
while read -r path kind _; do
  case "$path" in ''|'#'*) continue ;; esac
  mkdir -p "$sroot${path%/*}"
  case "$kind" in
    daemon|uwsgi|tool|probe|init) ln -sfn /usr/local/bin/kolla-standin "$sroot$path" ;;
    script) install -m 0755 "$here/service-standin/scripts/${path##*/}" "$sroot$path" ;;
    *) log "programs.list: $path: unknown kind ${kind:-(none)}"; exit 1 ;;
  esac
done < "$here/programs.list"
cp "$here/service-standin/Dockerfile" "$ctx/service-standin/"

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
# One context per image: its lines of services.list (service and specs) become the stand-in's
# map, /etc/kolla-standin/services; its first service is the default KOLLA_SERVICE_NAME.
images=()
while read -r image service specs; do
  case "$image" in ''|'#'*) continue ;; esac
  [ -n "$service" ] || { log "services.list: $image: no service"; exit 1; }
  if [ ! -d "$ctx/svc/$image" ]; then
    mkdir -p "$ctx/svc/$image"
    cp "$here/service/Dockerfile" "$ctx/svc/$image/"
    echo "$service" > "$ctx/svc/$image.service"
    images+=("$image")
  fi
  printf '%-30s %s\n' "$service" "${specs%%#*}" >> "$ctx/svc/$image/services"
done < "$here/services.list"
found=0 pids=() failed=0
for image in "${images[@]}"; do
  if [ ${#only[@]} -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$image"; then continue; fi
  found=$((found + 1))
  set -- "$image" --build-arg "BASE=$ns/service-standin:$tag" --build-arg "IMAGE=$image" \
    --build-arg "SERVICE=$(cat "$ctx/svc/$image.service")" "$ctx/svc/$image"
  # The first one alone: its first steps (the ARGs) are every image's, and builds that
  # create them at the same time each make their own, which the next build's cache then
  # misses, giving those images new ids (and their containers a recreate) for nothing.
  if [ "$found" = 1 ]; then build "$@" || failed=1; continue; fi
  # Then four at a time: each uncached build is a couple of seconds of engine work.
  if [ ${#pids[@]} -ge 4 ]; then wait "${pids[0]}" || failed=1; pids=("${pids[@]:1}"); fi
  build "$@" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || { log "some images failed to build"; exit 1; }
if [ ${#only[@]} -gt 0 ] && [ "$found" -ne ${#only[@]} ]; then
  log "some of ${only[*]} are not images of services.list"; exit 1
fi
