#!/usr/bin/env bash
# The stand-in demo (`scripts/demo.sh --stand-in`): a local Docker engine (started if none runs),
# the locally built images, then `kollars deploy` of inventory.example with demo/globals.yml,
# a second (no-op) `kollars reconfigure`, and `kollars check`.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

if [ -z "${DOCKER_HOST:-}" ] && curl -sf --unix-socket /var/run/docker.sock http://localhost/_ping >/dev/null 2>&1; then
  export DOCKER_HOST=unix:///var/run/docker.sock
elif [ -z "${DOCKER_HOST:-}" ]; then
  echo "== starting a local Docker engine"
  DOCKER_HOST=$(scripts/engines.sh up 1 /tmp/kollars-demo/engine)
  export DOCKER_HOST
fi
echo "== engine: $DOCKER_HOST"

echo "== building kollars and the demo images (FROM scratch: busybox-static + kolla-start)"
cargo build --release --quiet
images/build.sh --namespace kollars --tag demo >/dev/null

conf=/tmp/kollars-demo/config
mkdir -p "$conf"
cp demo/globals.yml "$conf/globals.yml"
[ -s "$conf/passwords.yml" ] || cp demo/passwords.yml "$conf/passwords.yml"
./target/release/kollars genpwd -p "$conf/passwords.yml"

k() { ./target/release/kollars "$@" -i inventory.example --configdir "$conf"; }
echo "== kollars plan"
k plan --no-diff | tail -5
echo "== kollars deploy"
time k deploy
echo "== kollars reconfigure (nothing changed: nothing to do)"
time k reconfigure
# kollars check (as kolla-ansible's) counts a container whose first healthcheck has not run
# yet ("starting") as ok: wait for them (interval 30 s) so the check below means healthy.
echo "== waiting for the first healthchecks"
for _ in $(seq 1 60); do
  [ -z "$(docker ps -q --filter health=starting)" ] && break
  sleep 2
done
echo "== kollars check"
k check
