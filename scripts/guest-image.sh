#!/usr/bin/env bash
# Build a tiny bootable guest for the compute tests from Debian's packages: Debian's kernel
# (linux-image-amd64, unpacked with dpkg-deb, never installed) and an initramfs of
# busybox-static whose /init prints one line to the serial console and then stays up.
#
# Usage: scripts/guest-image.sh OUTDIR [LINE]
#   -> OUTDIR/vmlinuz, OUTDIR/initrd.img (gzip cpio), OUTDIR/disk.raw (1 MiB, empty: the
#      AMI-style image whose kernel_id/ramdisk_id are the other two)
#   LINE defaults to "kollars guest booted"; /init prints "KOLLARS-GUEST: LINE".
# Boot it with the kernel command line "console=ttyS0" (nova: the image property
# os_command_line). Needs no network but Debian's archive (apt-get download).
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
out=${1:?usage: guest-image.sh OUTDIR [LINE]}
line=${2:-kollars guest booted}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export DEBIAN_FRONTEND=noninteractive
need=()
command -v file >/dev/null 2>&1 || need+=(file)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the kernel: the package linux-image-amd64 depends on, downloaded and unpacked
if [ ! -s "$out/vmlinuz" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  if [ -z "$pkg" ]; then apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
    pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
  fi
  [ -n "$pkg" ] || { echo "guest-image.sh: no linux-image package found" >&2; exit 1; }
  (cd "$work" && apt-get download -qq "$pkg" >/dev/null)
  dpkg-deb -x "$work"/"$pkg"_*.deb "$work/kernel"
  cp "$(ls "$work"/kernel/boot/vmlinuz-* | head -1)" "$out/vmlinuz"
fi

# the initramfs: busybox and an /init that says it booted, on the serial console
r=$work/initramfs
mkdir -p "$r"/{bin,dev,proc,sys}
cp /bin/busybox "$r/bin/busybox"
for a in sh echo mount sleep cat uname; do ln -s busybox "$r/bin/$a"; done
cat > "$r/init" <<EOF
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
echo "KOLLARS-GUEST: $line" > /dev/console
echo "KOLLARS-GUEST: kernel \$(uname -r)" > /dev/console
while :; do sleep 3600; done
EOF
chmod 0755 "$r/init"
(cd "$r" && find . | cpio -o -H newc --quiet | gzip -9) > "$out/initrd.img"
# the AMI-style disk: empty, the kernel and initrd boot the guest
[ -s "$out/disk.raw" ] || truncate -s 1M "$out/disk.raw"
ls -l "$out"/vmlinuz "$out"/initrd.img "$out"/disk.raw >&2
