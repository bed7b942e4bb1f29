#!/usr/bin/env bash
# In a throw-away chroot on base: every image's Python requirements, with the pinned
# constraints, as wheels for base's Python (sdists such as uWSGI are compiled here, with the
# compilers that never reach an image). The images install from these wheels, offline.
set -euo pipefail
B=/.kollars-build
if [ -n "$UPDATE" ]; then
  apt-get -q -o Dpkg::Use-Pty=0 update >/dev/null
  touch /var/lib/apt/lists/.updated
fi
apt-get -q -y -o APT::Keep-Downloaded-Packages=true -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0 \
  install build-essential python3-dev python3-venv libssl-dev libpcre2-dev pkg-config >/dev/null
python3 -m venv /tmp/wv
/tmp/wv/bin/pip install -q wheel
/tmp/wv/bin/pip wheel -q --find-links $B/wheels -w $B/wheels -c $B/real/constraints.txt -r $B/tmp/requirements.txt
