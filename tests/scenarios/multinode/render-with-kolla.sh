#!/bin/bash
# Re-renders expected/ and expected.modes with kolla-ansible (see README.md).
# usage: render-with-kolla.sh [WORKDIR]   (VENV: kolla-ansible 22.2.0 + ansible 12.*, default /root/ka-venv)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${VENV:-/root/ka-venv}
W=${1:-$(mktemp -d)}
W=$(mkdir -p "$W" && cd "$W" && pwd)
rm -rf "$W/conf" "$W/factcache" "$W/out" "$W/ansible"
mkdir -p "$W/conf" "$W/factcache" "$W/out"
cp -r "$HERE/inputs/globals.yml" "$HERE/inputs/passwords.yml" "$HERE/inputs/config" "$W/conf/"

# kolla-ansible's playbooks, with one module replaced: nova-cell's config asks the cloud for
# its hypervisors (kolla_toolbox -> openstack.cloud.resources) to write nova-compute/compute_id.
# The stub answers as a new cloud does (no hypervisors), so kolla takes its "never registered"
# path: compute_id = nodename | to_uuid. Nothing else in a genconfig run uses that module.
cp -r "$VENV/share/kolla-ansible/ansible" "$W/ansible"
cat > "$W/ansible/library/kolla_toolbox.py" <<'PY'
#!/usr/bin/python
# WANT_JSON
import json
print(json.dumps({"changed": False, "resources": []}))
PY

# Ansible's jsonfile fact cache, pre-filled so that each fake host keeps its own hostname and
# interfaces instead of this machine's gathered facts (kolla skips gathering for cached hosts).
# ansible-core 2.19 names the files s1_<host> and wraps the facts as {"__payload__": "<json>"}.
for f in "$HERE"/inputs/facts/*.json; do
  python3 -c 'import json,sys; print(json.dumps({"__payload__": json.dumps(json.load(open(sys.argv[1])))}))' \
    "$f" > "$W/factcache/s1_$(basename "$f" .json)"
done

# A second inventory adds, per host: local connection, the venv's python, its own output dir.
for f in "$HERE"/inputs/facts/*.json; do
  h=$(basename "$f" .json)
  echo "$h ansible_connection=local ansible_python_interpreter=$VENV/bin/python3 node_config_directory=$W/out/$h"
done > "$W/run-hosts.ini"

export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$(echo "$VENV"/lib/python3*/site-packages/ansible_collections)
export ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION=$W/factcache ANSIBLE_GATHERING=smart
time kolla-ansible genconfig -i "$HERE/inputs/inventory" -i "$W/run-hosts.ini" --configdir "$W/conf" \
  --passwords "$W/conf/passwords.yml" --playbook "$W/ansible/site.yml" 2>&1 | tee "$W/log.txt" | tail -8
grep -q 'failed=0' "$W/log.txt" && ! grep -q 'failed=[1-9]' "$W/log.txt"
rm -rf "$HERE/expected" && cp -a "$W/out" "$HERE/expected"
(cd "$HERE/expected" && find . -mindepth 2 -printf '%P|%m|%y\n' | LC_ALL=C sort) > "$HERE/expected.modes"
