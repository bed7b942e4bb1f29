#!/usr/bin/env bash
# The main job, end to end on this machine: a real cloud's first services deployed by kollars
# alone and used by a client nobody here wrote.
#
#   1. an overlay2 Docker engine in its own network namespace (scripts/engines.sh), the
#      simulated host;
#   2. the real images (scripts/build-real-images.sh: Debian trixie, OpenStack 2026.1 from
#      PyPI; ~10 minutes the first time, seconds after) and python-openstackclient from PyPI;
#   3. `kollars deploy` of cron, MariaDB, memcached, RabbitMQ, HAProxy, kolla-toolbox,
#      keystone, glance, placement, nova's and neutron's control planes, ovsdb-server, heat and
#      horizon (inventory.example, demo/real/globals.yml; ovs-vswitchd and neutron's agents on
#      stand-ins: this engine cannot start the privileged containers they need), a no-op
#      `reconfigure`, `post-deploy`;
#   4. through the VIP, inside the host's network, python-openstackclient: `token issue`, an
#      image of random bytes uploaded to glance and saved back identical, placement's
#      `resource provider list`, nova's `compute service list` and a flavor, a network and
#      a subnet, a heat stack (one OS::Heat::RandomString) created and its output shown;
#      then horizon's login page through the VIP (curl; the browser test is real_horizon's).
#
# `scripts/demo.sh --stand-in` runs the older demo instead: every service of the all-in-one on
# the FROM-scratch stand-in images, in seconds.
set -euo pipefail
# shellcheck source=scripts/lib/apt.sh
. "$(dirname "$0")/lib/apt.sh"
cd "$(dirname "$0")/.."
if [ "${1:-}" = --stand-in ]; then exec scripts/demo-standin.sh; fi
export DEBIAN_FRONTEND=noninteractive
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

demo=/tmp/kollars-demo/real
echo "== an overlay2 engine in its own network namespace"
DOCKER_HOST=$(KOLLARS_STORAGE_DRIVER=overlay2 scripts/engines.sh up 1 "$demo/engine")
export DOCKER_HOST
echo "== engine: $DOCKER_HOST"
echo "== building kollars, the real images and the OpenStack client"
cargo build --release --quiet
time scripts/build-real-images.sh >/dev/null
# the stand-ins of what needs privileges here (demo/real/globals.yml names them)
images/build.sh --namespace kollars --tag standin openvswitch-vswitchd neutron-openvswitch-agent \
  neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent >/dev/null
client=$(scripts/openstack-client.sh)

conf=$demo/config
mkdir -p "$conf/config"
cp demo/real/globals.yml "$conf/globals.yml"
cp demo/real/galera.cnf "$conf/config/galera.cnf"
[ -s "$conf/passwords.yml" ] || cp demo/passwords.yml "$conf/passwords.yml"
./target/release/kollars genpwd -p "$conf/passwords.yml"

tags=cron,mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone,glance,placement,nova,nova-cell,openvswitch,neutron,heat,horizon
k() { ./target/release/kollars "$@" -i inventory.example --configdir "$conf"; }
echo "== kollars plan"
k plan -t "$tags" --no-diff | tail -3
echo "== kollars deploy"
time k deploy -t "$tags"
echo "== kollars reconfigure (nothing changed: nothing to do)"
time k reconfigure -t "$tags"
echo "== kollars post-deploy"
k post-deploy

echo "== openstack --os-cloud kolla-admin token issue (python-openstackclient, through the VIP)"
net=/proc/$(cat "$demo/engine/host1/docker.pid")/ns/net
os() { OS_CLIENT_CONFIG_FILE=$conf/clouds.yaml PYTHONWARNINGS=ignore nsenter --net="$net" "$client" --os-cloud kolla-admin "$@"; }
for _ in $(seq 1 45); do os token issue -f value -c expires >/dev/null 2>&1 && break; sleep 2; done
os token issue -c expires -c project_id -c user_id
os endpoint list -c 'Service Name' -c Interface -c URL
echo "== openstack image create --file (1 MB of random bytes), image save: the same bytes"
head -c 1048576 /dev/urandom > "$demo/random.img"
os image delete demo-random >/dev/null 2>&1 || true
os image create --disk-format raw --container-format bare --file "$demo/random.img" demo-random -c id -c status -c size
os image save --file "$demo/random.saved" demo-random
cmp "$demo/random.img" "$demo/random.saved" && echo "saved image identical to the upload"
os image list
echo "== openstack resource provider list (placement; empty until a compute host registers)"
os resource provider list
echo "== openstack compute service list (nova-scheduler and nova-conductor report up)"
for _ in $(seq 1 40); do
  os compute service list -f value -c Binary -c State 2>/dev/null | grep -q 'nova-conductor up' && break; sleep 3
done
os compute service list -c Binary -c Host -c State
echo "== openstack flavor create / list"
os flavor show demo.tiny >/dev/null 2>&1 || os flavor create --vcpus 1 --ram 64 --disk 1 demo.tiny -c name -c ram
os flavor list
echo "== openstack network create / subnet create (neutron-server, ML2/OVS)"
os network show demo-net >/dev/null 2>&1 || os network create demo-net -c name -c status
os subnet show demo-subnet >/dev/null 2>&1 ||
  os subnet create --network demo-net --subnet-range 10.99.0.0/24 demo-subnet -c name -c cidr
os network list
echo "== openstack stack create (heat: one OS::Heat::RandomString), its output"
cat > "$demo/stack.yaml" <<'HOT'
heat_template_version: 2021-04-16
resources:
  word:
    type: OS::Heat::RandomString
    properties: {length: 24}
outputs:
  word:
    value: {get_attr: [word, value]}
HOT
for _ in $(seq 1 40); do
  os orchestration service list -f value -c Binary -c Status 2>/dev/null | grep -q 'heat-engine up' && break; sleep 3
done
os stack show demo-stack >/dev/null 2>&1 ||
  os stack create --wait -t "$demo/stack.yaml" demo-stack -c stack_name -c stack_status
os stack output show demo-stack word -c output_value
echo "== horizon: the login page through the VIP (haproxy's horizon frontend, port 80)"
# the first start collects and compresses the static files before uWSGI answers
for _ in $(seq 1 100); do
  [ "$(nsenter --net="$net" curl -s -o /dev/null -w '%{http_code}' -m 10 http://127.0.0.2/auth/login/)" = 200 ] && break; sleep 3
done
nsenter --net="$net" curl -sS -m 10 http://127.0.0.2/auth/login/ | grep -o '<title>[^<]*</title>'
