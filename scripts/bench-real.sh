#!/usr/bin/env bash
# Benchmarks a real deploy (release build, the real images) on 1 host, then on 3 (a LAN of
# network namespaces, as tests/real_cluster.rs), from empty engines until every API answers
# python-openstackclient through the VIP — next to the time the services themselves spend
# starting on the critical path of the project graph, in the same run, read from kollars' own
# `--output json` step events as they arrive.
#
# Two sets:
#   identity (default): mariadb, memcached, rabbitmq, haproxy, kolla-toolbox, keystone;
#                       "every API answers" is a token.
#   --aio:              the real all-in-one as the main job deploys it: the identity set plus
#                       cron, glance, placement, nova (and its cell), openvswitch, neutron and
#                       heat (ovs-vswitchd and neutron's agents on stand-ins, as the tests);
#                       every API answers: a token, image list, resource provider list,
#                       compute service list (scheduler and conductor up), network list,
#                       orchestration service list.
#
# The services' own work of each project is its tasks' spans (registration in keystone,
# databases, bootstrap one-shots, Galera/RabbitMQ readiness, kolla's tasks after a first start):
# spans that kollars runs side by side count once (the longest), the others add up; the
# critical path is the longest chain of projects through their `after:` dependencies
# (services/*.yml), plus the time from the deploy's end until the last API answers.
#
# Usage: scripts/bench-real.sh [--aio] [HOSTS...]   (default: 1 3; figures on stdout, see
#        docs/benchmarks.md). The images come from KOLLARS_REAL_ENGINE's engine when set,
#        else are built here (minutes when cold).
set -euo pipefail
cd "$(dirname "$0")/.."
set_name=identity
if [ "${1:-}" = --aio ]; then set_name=aio; shift; fi
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1 3)
base=/tmp/kollars-bench-real
cargo build --release --quiet
client=${KOLLARS_OPENSTACK_CLIENT:-$(scripts/openstack-client.sh)}
source=${KOLLARS_REAL_ENGINE:-$(KOLLARS_STORAGE_DRIVER=overlay2 scripts/engines.sh up 1 "$base/source")}
standins=(openvswitch-vswitchd neutron-openvswitch-agent neutron-dhcp-agent neutron-l3-agent
  neutron-metadata-agent)
images=$(DOCKER_HOST=$source scripts/build-real-images.sh)
for n in "${sizes[@]}"; do
  mapfile -t engines < <(KOLLARS_STORAGE_DRIVER=overlay2 KOLLARS_ENGINE_LAN=198.18.$((20 + n)) \
    scripts/engines.sh up "$n" "$base/hosts$n")
  # shellcheck disable=SC2086
  scripts/copy-images.sh --from "$source" $(printf -- '--to %s ' "${engines[@]}") $images
  if [ "$set_name" = aio ]; then
    for e in "${engines[@]}"; do
      DOCKER_HOST=$e images/build.sh --namespace kollars --tag standin "${standins[@]}" >/dev/null
    done
  fi
  python3 scripts/bench_real.py "$set_name" "$base/run$n" "$client" "198.18.$((20 + n))" "${engines[@]}"
done
