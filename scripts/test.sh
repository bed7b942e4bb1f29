#!/usr/bin/env bash
# Runs every test of kollars on this machine, as CI does:
# installs what is missing (Docker engine, busybox-static, a registry, sshd), starts the local engines the
# driver and in-container tests use, builds the FROM-scratch test images and the real images
# (on an overlay2 engine, copied to three more that form a LAN) with the OpenStack client
# and the horizon test's browser (Debian's chromium, Selenium),
# then runs lint
# (fmt, clippy, rustdoc without warnings) and the whole workspace's tests.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
[ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static || need+=(busybox-static)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v file >/dev/null 2>&1 || need+=(file)
# openssl: the TLS engine's test makes its certificates with it, kollars certificates its keys
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# the prechecks test listens on a port inside an engine's network namespace (python3, nsenter)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
# the registry tests: Debian's registry with htpasswd (bcrypt) auth
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
# the run page's test renders it in a real browser (headless)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}"
fi
# the podman test: Debian's podman (its compat API), without the recommended extras
command -v podman >/dev/null 2>&1 || apt_install --no-install-recommends podman
export KOLLARS_TEST_ENGINES
KOLLARS_TEST_ENGINES=$(scripts/engines.sh up 3 | paste -sd, -)
export DOCKER_HOST=${KOLLARS_TEST_ENGINES%%,*}
export KOLLARS_TEST_DOCKER_HOST=$DOCKER_HOST
for ep in ${KOLLARS_TEST_ENGINES//,/ }; do
  DOCKER_HOST=$ep images/build.sh >/dev/null
done
# The ssh test's hosts: Debian's sshd (key authentication, inetd mode: nothing listens) in
# front of the first two engines, each in its engine's network namespace.
[ -x /usr/sbin/sshd ] || apt_install --no-install-recommends openssh-server
export KOLLARS_TEST_SSH_DIR=${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}-sshd
# shellcheck disable=SC2046
scripts/ssh-hosts.sh up "$KOLLARS_TEST_SSH_DIR" $(echo "$KOLLARS_TEST_ENGINES" | tr , '\n' | head -2) >/dev/null
# One podman engine (a host of kolla_container_engine: podman) with the stand-ins its test
# deploys, built there (podman's compat API builds with the classic builder).
export KOLLARS_TEST_PODMAN
KOLLARS_TEST_PODMAN=$(scripts/podman-engines.sh up 1 "${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}-podman")
DOCKER_HOST=$KOLLARS_TEST_PODMAN images/build.sh cron kolla-toolbox openvswitch-db-server \
  openvswitch-vswitchd memcached nova-compute nova-ssh >/dev/null
# The real images (images/real/, minutes cold, seconds warm) on their own overlay2 engine,
# and the client nobody here wrote (python-openstackclient from PyPI) for the tests that use them.
export KOLLARS_REAL_ENGINE KOLLARS_OPENSTACK_CLIENT
KOLLARS_REAL_ENGINE=$(KOLLARS_STORAGE_DRIVER=overlay2 scripts/engines.sh up 1 "${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}-real")
DOCKER_HOST=$KOLLARS_REAL_ENGINE scripts/build-real-images.sh >/dev/null
# the cluster test's images (and their parents; built above, so this only names them)
cluster_images=$(DOCKER_HOST=$KOLLARS_REAL_ENGINE scripts/build-real-images.sh mariadb-server \
  memcached rabbitmq haproxy kolla-toolbox keystone keystone-fernet keystone-ssh glance-api \
  placement-api nova-api nova-scheduler nova-conductor nova-novncproxy neutron-server heat-api \
  heat-api-cfn heat-engine)
# Three more, one LAN of separate hosts (hostnames, /etc/hosts, 198.18.0.0/24), for the cluster test.
export KOLLARS_REAL_CLUSTER
KOLLARS_REAL_CLUSTER=$(KOLLARS_STORAGE_DRIVER=overlay2 KOLLARS_ENGINE_LAN=198.18.0 scripts/engines.sh up 3 "${KOLLARS_ENGINES_DIR:-/tmp/kollars-engines}-cluster" | paste -sd, -)
# shellcheck disable=SC2086
scripts/copy-images.sh --from "$KOLLARS_REAL_ENGINE" $(printf -- '--to %s ' ${KOLLARS_REAL_CLUSTER//,/ }) $cluster_images
# the real nova-libvirt on the podman host (its guest boots there)
scripts/copy-images.sh --from "$KOLLARS_REAL_ENGINE" --to "$KOLLARS_TEST_PODMAN" \
  kollars/nova-libvirt:2026.1-debian-trixie
KOLLARS_OPENSTACK_CLIENT=$(scripts/openstack-client.sh)
# the browser of the horizon test: Debian's chromium and chromedriver, Selenium from PyPI
export KOLLARS_BROWSER
KOLLARS_BROWSER=$(scripts/browser.sh)
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
cargo test --workspace
