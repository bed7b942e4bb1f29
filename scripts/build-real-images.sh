#!/usr/bin/env bash
# Build the real image chain (images/real/): Debian root filesystems assembled on this host
# (debootstrap, then apt and pip in a chroot, where the network is), each image one layer
# on its parent's, loaded into the engine DOCKER_HOST names. The engine needs no network.
#
# Usage: scripts/build-real-images.sh [--namespace NS] [--tag TAG] [--bin-dir DIR] [IMAGE...]
#   --namespace NS  image namespace (default: kollars)
#   --tag TAG       image tag (default: 2026.1-debian-trixie)
#   --bin-dir DIR   take a static kolla-start from DIR instead of building it with cargo
#   --hashes        print each image's layer and image input hashes, build nothing
#   IMAGE...        build these (and their parents); default: every image of images/real/
# Environment: KOLLARS_IMAGE_CACHE (default /var/cache/kollars-images: Debian packages, apt
# lists, pip's cache and wheels, finished layers), KOLLARS_DEBIAN_SUITE (trixie),
# KOLLARS_DEBIAN_MIRROR (http://deb.debian.org/debian), CARGO_TARGET_DIR.
# Prints the names of the images asked for (and their parents), one per line, on stdout.
#
# Each image has an input hash (its directory under images/real/, its parent's hash, the
# pinned constraints when it installs Python packages, kolla-start's sources for base). A layer whose
# hash is in the cache is not assembled again; an image whose label kollars.input already has
# the hash is not loaded again: a rebuild with nothing changed takes seconds.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
real=$repo/images/real
ns=kollars tag=2026.1-debian-trixie bindir="" only=() hashes=0
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) ns=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --bin-dir) bindir=$2; shift 2 ;;
    --hashes) hashes=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "build-real-images.sh: unknown option $1" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done
cache=${KOLLARS_IMAGE_CACHE:-/var/cache/kollars-images}
suite=${KOLLARS_DEBIAN_SUITE:-trixie}
mirror=${KOLLARS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
constraints=$real/constraints.txt
log() { echo "build-real-images: $*" >&2; }
t0=$(date +%s)

need() { # program package
  command -v "$1" >/dev/null 2>&1 && return 0
  log "installing $2"
  apt_install "$2"
}
need debootstrap debootstrap
need unshare util-linux

# --- kolla-start, static ------------------------------------------------------------------
if [ -z "$bindir" ]; then
  log "building static kolla-start"
  RUSTFLAGS='-C target-feature=+crt-static' cargo build --quiet --release -p kolla-start \
    --target x86_64-unknown-linux-gnu --manifest-path "$repo/Cargo.toml" >&2
  bindir=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/release
fi
kstart=$bindir/kolla-start
[ -x "$kstart" ] || { log "missing $kstart"; exit 1; }
ldd "$kstart" 2>&1 | grep -Eq 'not a dynamic executable|statically linked' || { log "$kstart is not static"; exit 1; }

# --- the images and their parents ------------------------------------------------------------
all=()
for d in "$real"/*/; do [ -f "$d/config" ] && all+=("$(basename "$d")"); done
parent_of() { if [ -f "$real/$1/parent" ]; then tr -d ' \n' < "$real/$1/parent"; fi; }
[ ${#only[@]} -gt 0 ] || only=("${all[@]}")
order=()
add() { # parents first
  local img=$1 p
  [ -f "$real/$img/config" ] || { log "no such image: $img (images/real/$img/config)"; exit 1; }
  case " ${order[*]:-} " in *" $img "*) return ;; esac
  p=$(parent_of "$img"); [ -z "$p" ] || add "$p"
  order+=("$img")
}
for i in "${only[@]}"; do add "$i"; done

sha() { sha256sum | cut -c1-16; }
# kolla-start's sources (its crate, the glob crate it uses, their manifests), relative paths.
kstart_sources() {
  (cd "$repo" && find crates/kolla-start crates/kollars-glob -type f \( -name '*.rs' -o -name Cargo.toml \) \
    -not -path '*/tests/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
dir_digest() { # the files of a directory but its config: relative path, mode, content
  (cd "$1" && find . \( -type f -o -type l \) -not -path ./config -print0 | LC_ALL=C sort -z |
    xargs -0r stat -c '%n %a' && find . -type f -not -path ./config -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) | sha
}
# hash: the layer's inputs (what lib/layer.sh reads); ihash: the image's, which adds the
# image configs (config: ENV, USER, ...) of the image and its parents.
declare -A hash ihash
for img in "${order[@]}"; do
  p=$(parent_of "$img")
  ihash[$img]=$( { echo "${p:+${ihash[$p]}}"; cat "$real/$img/config"; } | sha)
  h=$( {
    echo "kollars-real v1 $suite"
    echo "parent ${p:+${hash[$p]}}"
    dir_digest "$real/$img"
    dir_digest "$real/lib"
    if [ -s "$real/$img/python" ]; then sha256sum < "$constraints"; fi
    # kolla-start by its sources, not its bytes: cargo's symbol hashes include the checkout's
    # path, so each fresh clone builds a different binary that behaves the same
    if [ "$img" = base ]; then kstart_sources; cat "$repo/images/base/passwd" "$repo/images/base/group"; fi
  } | sha)
  hash[$img]=$h
  ihash[$img]=$(echo "${ihash[$img]} $h" | sha)
  [ "$hashes" = 0 ] || echo "$img ${hash[$img]} ${ihash[$img]}"
done
[ "$hashes" = 0 ] || exit 0

# --- assembling layers -----------------------------------------------------------------------
mkdir -p "$cache"/{debs,lists/"$suite",pip,wheels/"$suite",layers,tmp}
lowers_of() { # colon-separated upper dirs of IMAGE and its ancestors, topmost first
  local img=$1 out=""
  while [ -n "$img" ]; do
    out=${out:+$out:}$cache/layers/$img-${hash[$img]}/upper
    img=$(parent_of "$img")
  done
  echo "$out"
}
lists_fresh() { [ -n "$(find "$cache/lists/$suite/.updated" -mmin -360 2>/dev/null)" ]; }

# chroot_run ROOT SCRIPT: runs SCRIPT (bash) in ROOT with the caches mounted; ROOT is a
# rootfs dir or, with LOWER set, an overlay of UPPER on LOWER mounted at ROOT. All mounts
# live in a private mount namespace and vanish with it.
chroot_run() {
  local root=$1 script=$2
  local rc=0
  unshare --mount --propagation private env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    ROOT="$root" LOWER="${LOWER:-}" UPPER="${UPPER:-}" WORK="${WORK:-}" CACHE="$cache" \
    SUITE="$suite" REAL="$real" STAGEDIR="${STAGEDIR:-}" UPDATE="${UPDATE:-}" \
    bash "$real/lib/in-namespace.sh" $script >&2 \
    2> >(grep --line-buffered -v -e '^update-alternatives: warning: skip creation' -e '^invoke-rc.d:' >&2) || rc=$?
  # The mount points made for the build (the namespace and its mounts are gone now).
  local top=${UPPER:-$root}/.kollars-build
  if [ -d "$top" ]; then
    rm -f "$top/ca.crt"
    for m in real stage wheels pip tmp; do [ -d "$top/$m" ] && rmdir "$top/$m"; done
    rmdir "$top"
  fi
  return $rc
}

# finish_layer DIR: the upper dir becomes layer.tar; overlay whiteouts (deleted files of a
# lower layer) are listed in `whiteouts` and removed from the tar (ADD cannot delete).
finish_layer() {
  local d=$1 u=$1/upper
  (cd "$u" && find . -type c -print0 | xargs -0r stat -c '%t:%T %n' | awk '$1=="0:0"{print substr($0, index($0,$2)+1)}') > "$d/whiteouts"
  while read -r w; do rm -f "$u$w"; done < "$d/whiteouts"
  if command -v getfattr >/dev/null && getfattr -R -n trusted.overlay.opaque --absolute-names "$u" 2>/dev/null | grep -q '^# file'; then
    log "warning: $d has opaque directories; lower files there remain visible"
  fi
  tar --numeric-owner --xattrs --xattrs-include='security.capability' -C "$u" -cf "$d/layer.tar.new" .
  mv "$d/layer.tar.new" "$d/layer.tar"
  touch "$d/done"
}

build_wheels() { # all Python requirements, as wheels for the images' Python
  local wh
  wh=$( { cat "$constraints" "$real"/*/python; echo "${hash[base]}"; cat "$real/lib/wheels.sh"; } | sha)
  wheels=$cache/wheels/$suite
  [ -f "$wheels/.done-$wh" ] && return 0
  log "building wheels (pip, in a throw-away overlay on base)"
  cat "$real"/*/python | sed 's/#.*//; /^\s*$/d' | sort -u > "$cache/tmp/requirements.txt"
  local t; t=$(mktemp -d "$cache/tmp/wheels.XXXX")
  mkdir -p "$t/upper" "$t/work" "$t/merged"
  local upd=""; lists_fresh || upd=1
  LOWER=$(lowers_of base) UPPER=$t/upper WORK=$t/work UPDATE=$upd chroot_run "$t/merged" wheels.sh
  rm -rf "$t"
  touch "$wheels/.done-$wh"
}

assemble() { # IMAGE
  local img=$1 d=$cache/layers/$1-${hash[$1]} p
  [ -f "$d/done" ] && return 0
  p=$(parent_of "$img")
  local x # this image's older layers (not keystone-base's when this is keystone)
  for x in "$cache/layers/$img-"*; do
    if [[ ${x##*/} =~ ^$img-[0-9a-f]{16}$ ]]; then rm -rf "$x"; fi
  done
  mkdir -p "$d/upper"
  local upd=""; lists_fresh || upd=1
  if [ -z "$p" ]; then
    log "$img: debootstrap --variant=minbase $suite"
    debootstrap --variant=minbase --cache-dir="$cache/debs" "$suite" "$d/upper" "$mirror" >"$d/debootstrap.log" 2>&1 ||
      { tail -20 "$d/debootstrap.log" >&2; log "debootstrap failed"; exit 1; }
    rm -rf "$d/upper/var/lib/apt/lists/"* "$d/upper/var/cache/apt/archives/"*.deb
    printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s-security %s-security main\n' \
      "$mirror" "$suite" "$mirror" "$suite" "${mirror%/debian}/debian" "$suite" > "$d/upper/etc/apt/sources.list"
    mkdir -p "$d/stage/usr/local/bin"
    cp "$kstart" "$d/stage/usr/local/bin/kolla-start"
    cp "$repo/images/base/passwd" "$repo/images/base/group" "$d/stage/"
    log "$img: packages and set-up in the chroot"
    UPDATE=$upd STAGEDIR=$d/stage chroot_run "$d/upper" "layer.sh $img"
  else
    if [ -s "$real/$img/python" ]; then build_wheels; upd=""; lists_fresh || upd=1; fi
    log "$img: packages and set-up in the chroot (on $p)"
    mkdir -p "$d/work" "$d/merged"
    LOWER=$(lowers_of "$p") UPPER=$d/upper WORK=$d/work UPDATE=$upd chroot_run "$d/merged" "layer.sh $img"
    rm -rf "$d/work" "$d/merged"
  fi
  rm -rf "$d/stage"
  finish_layer "$d"
}

# --- loading into the engine -----------------------------------------------------------------
label_of() { docker image inspect -f '{{index .Config.Labels "kollars.input"}}' "$1" 2>/dev/null || true; }
export DOCKER_BUILDKIT=0
load() { # IMAGE
  local img=$1 name=$ns/$1:$tag d=$cache/layers/$1-${hash[$1]} p
  if [ "$(label_of "$name")" = "${ihash[$img]}" ]; then echo "$name"; return 0; fi
  local old; old=$(docker image inspect -f '{{.Id}}' "$name" 2>/dev/null || true)
  p=$(parent_of "$img")
  local changes=()
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    changes+=("$line")
  done < "$real/$img/config"
  changes+=("LABEL kollars.input=${ihash[$img]} kollars.layer=${hash[$img]} kollars.image=$img org.opencontainers.image.title=$img org.opencontainers.image.version=$tag")
  log "loading $name"
  if [ -z "$p" ]; then
    local args=()
    for c in "${changes[@]}"; do args+=(-c "$c"); done
    docker import "${args[@]}" "$d/layer.tar" "$name" >/dev/null
  else
    local ctx; ctx=$(mktemp -d "$cache/tmp/ctx.XXXX")
    ln "$d/layer.tar" "$ctx/layer.tar"
    {
      echo "FROM $ns/$p:$tag"
      echo "ADD layer.tar /"
      if [ -s "$d/whiteouts" ]; then
        printf 'RUN ["rm", "-rf", "--"'; while read -r w; do printf ', "%s"' "$w"; done < "$d/whiteouts"; echo ']'
      fi
      printf '%s\n' "${changes[@]}"
    } > "$ctx/Dockerfile"
    local err
    if ! err=$(docker build -q --network none -t "$name" "$ctx" 2>&1 >/dev/null); then
      echo "$err" >&2; rm -rf "$ctx"; log "loading $name failed"; exit 1
    fi
    rm -rf "$ctx"
  fi
  # The image this name had, if nothing else uses it now.
  [ -z "$old" ] || docker rmi "$old" >/dev/null 2>&1 || true
  echo "$name"
}

docker version >/dev/null 2>&1 || { log "no Docker engine at ${DOCKER_HOST:-the default socket}"; exit 1; }
# Builds sharing the cache take turns (apt's archive lock, half-made layers): two at once
# wait for each other instead of failing.
exec 9>"$cache/.lock"
flock 9 || { log "cannot lock $cache/.lock"; exit 1; }
for img in "${order[@]}"; do
  assemble "$img"
  load "$img"
done
log "done in $(( $(date +%s) - t0 ))s"
