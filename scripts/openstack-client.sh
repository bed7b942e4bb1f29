#!/usr/bin/env bash
# The client the real-image tests use, nobody here wrote it: python-openstackclient from
# PyPI (2026.1's 9.0.1) in a venv. Prints the path of its `openstack`.
#
# Usage: scripts/openstack-client.sh [VENV]   (default /var/cache/kollars-images/openstack-client)
# Reuses the venv when its openstack answers --version.
set -euo pipefail
venv=${1:-/var/cache/kollars-images/openstack-client}
if ! "$venv/bin/openstack" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "python-openstackclient==9.0.1" >&2
fi
echo "$venv/bin/openstack"
