#!/usr/bin/env bash
# What reaching hosts over ssh:// costs: connect latency, per-request latency and a no-op
# `kollars reconfigure` of 3 hosts, over ssh (scripts/ssh-hosts.sh: a real sshd per host, in
# the engine's network namespace) against the same three engines over their unix sockets.
#
# Usage: scripts/bench-ssh.sh [ROUNDS]    (default 5; medians over the rounds)
#
# Starts its own 3 engines (KOLLARS_ENGINES_DIR-bench-ssh), builds the stand-ins cron and
# kolla-toolbox there, a release build of kollars and of the engine_latency example.
# The reconfigure rows: `unix` writes config files locally (a unix socket shares this
# filesystem), `unix, files through the engine` (kollars_config_transfer=engine) does what a
# remote host needs but over the socket, `ssh` is a remote host; all with --facts given.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
base=${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}-bench-ssh
mapfile -t unix < <(scripts/engines.sh up 3 "$base")
for e in "${unix[@]}"; do DOCKER_HOST=$e images/build.sh cron kolla-toolbox >/dev/null; done
mapfile -t ssh < <(scripts/ssh-hosts.sh up "$base/ssh" "${unix[@]}")
export PATH=$base/ssh/bin:$PATH
# KOLLARS_BENCH_PROFILE=dev measures the debug build (when a release build is too slow to make)
if [ "${KOLLARS_BENCH_PROFILE:-release}" = dev ]; then
  cargo build -q -p kollars --bin kollars
  cargo build -q -p kollars-docker --example engine_latency
  out=$PWD/target/debug
else
  cargo build --release -q -p kollars --bin kollars
  cargo build --release -q -p kollars-docker --example engine_latency
  out=$PWD/target/release
fi
bin=$out/kollars

echo "## connect and request latency (median of $rounds connects, 20 requests each)"
"$out/examples/engine_latency" "$rounds" "${unix[0]}" "${ssh[0]}"

site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
ref=tests/reference/aio/inputs
mkdir -p "$site/config" "$site/facts"
cp "$ref/passwords.yml" "$site/config/"
cp -r "$ref/facts/." "$site/facts/"
cat >"$site/config/globals.yml" <<EOF
kolla_base_distro: debian
docker_registry: ""
docker_namespace: kollars
openstack_tag: latest
network_interface: lo
kolla_internal_vip_address: 127.0.0.1
kollars_privileged_containers: false
default_container_dimensions: {}
docker_graceful_timeout: 2
EOF
# inventory NAME EXTRA ENDPOINT...
inventory() {
  local name=$1 extra=$2 i=0; shift 2
  { echo "[common]"
    for e in "$@"; do
      i=$((i + 1))
      cp "$ref/facts/localhost.json" "$site/facts/node$i.json"
      echo "node$i kollars_engine=$e node_config_directory=$site/etc-node$i $extra"
    done
    printf '[cron:children]\ncommon\n[kolla-toolbox:children]\ncommon\n[kolla_toolbox:children]\ncommon\n'
  } >"$site/$name"
}
inventory inv-unix "" "${unix[@]}"
inventory inv-unix-engine kollars_config_transfer=engine "${unix[@]}"
inventory inv-ssh "" "${ssh[@]}"
run() { "$bin" "$1" -i "$site/$2" --configdir "$site/config" --facts "$site/facts" -t cron,kolla-toolbox >/dev/null 2>&1; }
run deploy inv-unix
echo "## no-op reconfigure of 3 hosts (median of $rounds)"
for inv in inv-unix inv-unix-engine inv-ssh; do
  run reconfigure "$inv" # warm: the first run through a new writer may write
  times=()
  for _ in $(seq 1 "$rounds"); do
    t0=$(date +%s%N); run reconfigure "$inv"; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\t%s ms\t(all: %s)\n' "$inv" "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (rounds + 1) / 2 ))p")" "${times[*]}"
done
"$bin" destroy -i "$site/inv-unix" --configdir "$site/config" --facts "$site/facts" -t cron,kolla-toolbox --yes-i-really-really-mean-it >/dev/null 2>&1 || true
