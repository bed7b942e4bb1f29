#!/usr/bin/env bash
# Runs in a private mount namespace (build-real-images.sh calls it through unshare): mounts
# the overlay (LOWER/UPPER/WORK at ROOT, when LOWER is set), the caches and /proc, /dev, then
# runs images/real/lib/SCRIPT ARGS in a chroot of ROOT. Every mount ends with the namespace.
set -euo pipefail
script=$1; shift
if [ -n "$LOWER" ]; then
  mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK" "$ROOT"
fi
b=$ROOT/.kollars-build
mkdir -p "$b"/{real,stage,wheels,pip,tmp} "$ROOT/var/cache/apt/archives" "$ROOT/var/lib/apt/lists"
bind() { mount --bind "$1" "$2"; }
bind "$REAL" "$b/real"
mount -o remount,bind,ro "$b/real"
[ -z "$STAGEDIR" ] || bind "$STAGEDIR" "$b/stage"
bind "$CACHE/wheels/$SUITE" "$b/wheels"
bind "$CACHE/pip" "$b/pip"
bind "$CACHE/tmp" "$b/tmp"
bind "$CACHE/debs" "$ROOT/var/cache/apt/archives"
bind "$CACHE/lists/$SUITE" "$ROOT/var/lib/apt/lists"
# pip verifies PyPI with this machine's CA bundle (the image keeps Debian's own).
: > "$b/ca.crt"; bind /etc/ssl/certs/ca-certificates.crt "$b/ca.crt"
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
[ -e "$ROOT/etc/resolv.conf" ] || : > "$ROOT/etc/resolv.conf"
bind /etc/resolv.conf "$ROOT/etc/resolv.conf"
chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  PIP_CERT=/.kollars-build/ca.crt PIP_CACHE_DIR=/.kollars-build/pip \
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1 PIP_ROOT_USER_ACTION=ignore \
  UPDATE="$UPDATE" \
  bash "/.kollars-build/real/lib/$script" "$@"
