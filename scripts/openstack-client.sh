#!/usr/bin/env bash
# The client the real-image tests use, nobody here wrote it: python-openstackclient from
# PyPI (2026.1's 9.0.1) in a venv, with the plugins of the commands the tests run
# (osc-placement: `resource provider`; python-heatclient: `stack`). Prints the path of its
# `openstack`.
#
# Usage: scripts/openstack-client.sh [VENV]   (default /var/cache/kollars-images/openstack-client)
# Reuses the venv when it holds exactly these pins (its kollars-client.txt) and answers --version.
set -euo pipefail
venv=${1:-/var/cache/kollars-images/openstack-client}
pins="python-openstackclient==9.0.1 osc-placement==4.8.0 python-heatclient==5.1.0"
if [ "$(cat "$venv/kollars-client.txt" 2>/dev/null)" != "$pins" ] ||
  ! "$venv/bin/openstack" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --disable-pip-version-check $pins >&2
  echo "$pins" > "$venv/kollars-client.txt"
fi
echo "$venv/bin/openstack"
