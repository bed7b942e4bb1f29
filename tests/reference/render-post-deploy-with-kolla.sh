#!/bin/bash
# Re-renders kolla-ansible's own `post-deploy` output, the expected files of tests/post_deploy.rs:
#   tests/reference/aio/post-deploy/                  (tests/reference/aio/inputs)
#   tests/scenarios/multinode/post-deploy/            (tests/scenarios/multinode/inputs)
#   tests/reference/aio/post-deploy-options/expected/ (aio inputs + -e @post-deploy-options/extra.yml)
# usage: render-post-deploy-with-kolla.sh [WORKDIR]
#   (VENV: kolla-ansible 22.2.0 + ansible 12.*, default /root/ka-venv; see ../../README.md)
# post-deploy runs on localhost only and reads no facts but the user's uid/gid, so no host,
# engine or fact cache is needed: it templates into its --configdir (node_config).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TESTS=$(dirname "$HERE")
VENV=${VENV:-/root/ka-venv}
W=${1:-$(mktemp -d)}
W=$(mkdir -p "$W" && cd "$W" && pwd)
export PATH=$VENV/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$(echo "$VENV"/lib/python3*/site-packages/ansible_collections)

# render NAME INPUTS OUT [EXTRA_VARS_FILE]
render() {
  local name=$1 inputs=$2 out=$3 extra=${4:-}
  local conf=$W/$name/conf
  rm -rf "$W/$name" && mkdir -p "$conf"
  cp "$inputs/globals.yml" "$inputs/passwords.yml" "$conf/"
  local args=(-i "$inputs/inventory" --configdir "$conf" --passwords "$conf/passwords.yml"
    # the venv's python for localhost (kolla's group_vars/baremetal would pick this machine's)
    -e "ansible_python_interpreter=$VENV/bin/python3")
  [ -n "$extra" ] && args+=(-e "@$extra")
  kolla-ansible post-deploy "${args[@]}" > "$W/$name/log.txt" 2>&1 || true
  tail -3 "$W/$name/log.txt"
  grep -q 'failed=0' "$W/$name/log.txt" && ! grep -q 'failed=[1-9]' "$W/$name/log.txt"
  rm -rf "$out" && mkdir -p "$out"
  # everything post-deploy wrote: all but the inputs copied in
  (cd "$conf" && for f in *; do
    case $f in globals.yml|passwords.yml) ;; *) cp -p "$f" "$out/$f" ;; esac
  done)
  (cd "$out" && stat -c '%n|%a' * | LC_ALL=C sort) > "$W/$name/modes"
  cat "$W/$name/modes"
}

render aio "$TESTS/reference/aio/inputs" "$TESTS/reference/aio/post-deploy"
render multinode "$TESTS/scenarios/multinode/inputs" "$TESTS/scenarios/multinode/post-deploy"
render options "$TESTS/reference/aio/inputs" "$TESTS/reference/aio/post-deploy-options/expected" \
  "$TESTS/reference/aio/post-deploy-options/extra.yml"
