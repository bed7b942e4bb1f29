#!/usr/bin/env bash
# In the chroot: make one image's layer. images/real/IMAGE/ has
#   pre.sh     run first, as root
#   packages   Debian packages (apt-get install --no-install-recommends)
#   files/     a tree copied onto / (modes as in git, owner root)
#   python     Python requirements, installed with the pinned constraints into the venv
#              /var/lib/kolla/venv (made here when the parent has none), from the wheels
#   setup.sh   run last, as root
#   config     Dockerfile instructions of the image (ENV, USER, ENTRYPOINT, CMD)
#   parent     the image this one is built on (none for base)
set -euo pipefail
img=$1
B=/.kollars-build R=$B/real I=$B/real/$1
apt_opts=(-q -y -o APT::Keep-Downloaded-Packages=true -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0)
list() { [ -f "$1" ] && sed 's/#.*//' "$1" | xargs || true; }
if [ -n "$UPDATE" ]; then
  apt-get -q -o Dpkg::Use-Pty=0 update >/dev/null
  touch /var/lib/apt/lists/.updated
fi
if [ -f "$I/pre.sh" ]; then bash "$I/pre.sh"; fi
pkgs=$(list "$I/packages")
if [ -n "$pkgs" ]; then
  # shellcheck disable=SC2086
  apt-get "${apt_opts[@]}" install $pkgs >/dev/null
fi
if [ -d "$I/files" ]; then cp -a "$I/files/." /; fi
if [ -s "$I/python" ]; then
  venv=/var/lib/kolla/venv
  if [ ! -x $venv/bin/python ]; then
    python3 -m venv --system-site-packages $venv
    ln -s "$(basename "$(ls -d $venv/lib/python3.*)")" $venv/lib/python3
  fi
  list "$I/python" | tr ' ' '\n' > /tmp/requirements.txt
  $venv/bin/pip install -q --no-index --find-links $B/wheels -c $R/constraints.txt -r /tmp/requirements.txt
fi
if [ -f "$I/setup.sh" ]; then bash "$I/setup.sh"; fi
# What no image needs. Every layer removes the same set, so no layer has them and removing
# them never hides a lower layer's file (which would need a whiteout).
rm -rf /tmp/* /var/tmp/* /root/.cache
rm -f /var/log/apt/*.log /var/log/dpkg.log /var/log/alternatives.log \
  /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/cache/ldconfig/aux-cache
