#!/bin/bash
# Re-renders a scenario's expected/, expected.modes and expected.dicts.json with kolla-ansible
# (see the scenario's README.md); the scenarios whose render is plain call it from their own
# render-with-kolla.sh.
# usage: render-with-kolla.sh SCENARIO_DIR [WORKDIR]   (VENV: kolla-ansible 22.2.0 + ansible 12.*, default /root/ka-venv)
set -euo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)
HERE=$(cd "${1:?usage: render-with-kolla.sh SCENARIO_DIR [WORKDIR]}" && pwd); shift
VENV=${VENV:-/root/ka-venv}
W=${1:-$(mktemp -d)}
rm -rf "$W" && mkdir -p "$W/conf" "$W/factcache" "$W/out"
cp -r "$HERE/inputs/globals.yml" "$HERE/inputs/passwords.yml" "$HERE/inputs/config" "$W/conf/"
# a scenario's certificates (kolla_certificates_dir is the configdir's certificates/)
if [ -d "$HERE/inputs/certificates" ]; then cp -r "$HERE/inputs/certificates" "$W/conf/"; fi
# Ansible's jsonfile fact cache, pre-filled so that each fake host keeps its own hostname and
# address instead of this machine's gathered facts (kolla skips gathering for cached hosts).
# ansible-core 2.19 names the files s1_<host> and wraps the facts as {"__payload__": "<json>"}.
for f in "$HERE"/inputs/facts/*.json; do
  python3 -c 'import json,sys; print(json.dumps({"__payload__": json.dumps(json.load(open(sys.argv[1])))}))' \
    "$f" > "$W/factcache/s1_$(basename "$f" .json)"
done
# Every host line: local connection, the venv's python, and its own output directory.
sed -E "s#^([a-z0-9]+) ansible_connection=local\$#\1 ansible_connection=local ansible_python_interpreter=$VENV/bin/python3 node_config_directory=$W/out/\1#" \
  "$HERE/inputs/inventory" > "$W/inventory"
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$(echo "$VENV"/lib/python3*/site-packages/ansible_collections)
export ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION=$W/factcache ANSIBLE_GATHERING=smart
time kolla-ansible genconfig -i "$W/inventory" --configdir "$W/conf" --passwords "$W/conf/passwords.yml" \
  --tags "$(grep -v "^#" "$HERE/args" | sed "s/^--tags=//")" 2>&1 | tee "$W/log.txt" | tail -8
rm -rf "$HERE/expected" && cp -a "$W/out" "$HERE/expected"
(cd "$HERE/expected" && find . -mindepth 2 -printf '%P|%m|%y\n' | LC_ALL=C sort) > "$HERE/expected.modes"
# the container dicts kolla evaluated, for the dict test (tests/kolla_dicts.rs)
python3 "$SELF/kolla-dicts.py" "$W/log.txt" "$W/out" > "$HERE/expected.dicts.json"
