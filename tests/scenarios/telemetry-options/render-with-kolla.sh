#!/bin/bash
# Re-renders this scenario's expected/, expected.modes and expected.dicts.json with
# kolla-ansible (see README.md), through the scenarios' shared render script.
# usage: render-with-kolla.sh [WORKDIR]   (VENV: kolla-ansible 22.2.0 + ansible 12.*, default /root/ka-venv)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/../render-with-kolla.sh" "$HERE" "$@"
