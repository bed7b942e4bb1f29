#!/usr/bin/env bash
# The main job, end to end on this machine: a real cloud's first services deployed by kollars
# alone and used by a client nobody here wrote.
#
#   1. an overlay2 Docker engine in its own network namespace (scripts/engines.sh), the
#      simulated control host, and a podman engine in another (scripts/podman-engines.sh),
#      the compute host (podman starts the privileged containers dockerd cannot here),
#      joined to the control host's LAN (198.18.8.0/24; the VIP on the control host); when podman
#      cannot start a privileged container, the control host alone (said so);
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
#      then horizon's login page through the VIP (curl; the browser test is real_horizon's);
#   5. on the compute host (nova-compute, nova-libvirt, nova-ssh on the real images; its
#      toolbox, cron and Open vSwitch on stand-ins: the guest has no network yet), discovered
#      into cell1 by kollars: `hypervisor list`, a guest of Debian's kernel and a busybox
#      initramfs (scripts/guest-image.sh) uploaded to glance, `server create --nic none`
#      reaching ACTIVE under QEMU, and its console log's line.
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
tag=2026.1-debian-trixie
echo "== an overlay2 engine in its own network namespace (the control host)"
# on a LAN of its own (198.18.8.0/24): its own hostname (host1) and /etc/hosts, as RabbitMQ's
# node rabbit@host1 must resolve to the host's address
DOCKER_HOST=$(KOLLARS_STORAGE_DRIVER=overlay2 KOLLARS_ENGINE_LAN=198.18.8 scripts/engines.sh up 1 "$demo/engine")
export DOCKER_HOST
ctl=$DOCKER_HOST
echo "== engine: $ctl"
echo "== a podman engine in its own network namespace (the compute host)"
compute=$(scripts/podman-engines.sh up 1 "$demo/podman")
echo "== engine: $compute"
echo "== building kollars, the real images and the OpenStack client"
cargo build --release --quiet
time scripts/build-real-images.sh >/dev/null
# the stand-ins of what needs privileges here (demo/real/globals.yml names them)
images/build.sh --namespace kollars --tag standin openvswitch-vswitchd neutron-openvswitch-agent \
  neutron-dhcp-agent neutron-l3-agent neutron-metadata-agent >/dev/null
client=$(scripts/openstack-client.sh)
# the compute host's images: the real nova ones, stand-ins of what its guest without a network
# does not use, and whether it starts a privileged container (else no compute host)
scripts/copy-images.sh --from "$ctl" --to "$compute" kollars/nova-compute:$tag \
  kollars/nova-libvirt:$tag kollars/nova-ssh:$tag
DOCKER_HOST=$compute images/build.sh --namespace kollars --tag standin kolla-toolbox cron \
  openvswitch-db-server openvswitch-vswitchd neutron-openvswitch-agent >/dev/null
if DOCKER_HOST=$compute docker run --rm --privileged --network host --entrypoint true \
  kollars/nova-libvirt:$tag >/dev/null 2>&1; then
  with_compute=1
else
  with_compute=0
  echo "== SKIPPED: the compute host (its engine cannot start a privileged container here):"
  echo "   no nova-compute, no server booted; the control plane is deployed alone"
fi
# the link: the compute host joined to the control host's LAN (a veth pair to its bridge, in
# the namespace scripts/engines.sh names after its directory); the VIP on the control host
ctl_pid=$(cat "$demo/engine/host1/docker.pid")
compute_pid=$(cat "$demo/podman/host1/podman.pid")
net=/proc/$ctl_pid/ns/net
lan=kollars-$(printf '%s' "$demo/engine" | md5sum | cut -c1-8)-lan
if [ "$with_compute" = 1 ]; then
  ip -n "$lan" link del kvdp 2>/dev/null || true
  nsenter --net="/proc/$compute_pid/ns/net" ip link del kvd1 2>/dev/null || true
  ip link add kvd1 netns "$compute_pid" type veth peer name kvdp netns "$lan"
  ip -n "$lan" link set kvdp master br0 up
  nsenter --net="/proc/$compute_pid/ns/net" ip addr add 198.18.8.9/24 dev kvd1
  nsenter --net="/proc/$compute_pid/ns/net" ip link set kvd1 up
fi
nsenter --net="$net" sh -c 'ip addr show dev eth0 | grep -q " 198.18.8.254/" || ip addr add 198.18.8.254/24 dev eth0'
vip=198.18.8.254

conf=$demo/config
mkdir -p "$conf/config"
cp demo/real/globals.yml "$conf/globals.yml"
nofile=$(ulimit -Hn); memlock=$(ulimit -Hl)
[ "$nofile" = unlimited ] && nofile=1048576
[ "$memlock" = unlimited ] && memlock=65536
cat >> "$conf/globals.yml" <<YAML
nova_libvirt_default_dimensions:
  ulimits:
    memlock: {soft: $((memlock * 1024)), hard: $((memlock * 1024))}
    nofile: {soft: $nofile, hard: $nofile}
    nproc: {soft: 32768, hard: 32768}
YAML
cp demo/real/galera.cnf "$conf/config/galera.cnf"
[ -s "$conf/passwords.yml" ] || cp demo/passwords.yml "$conf/passwords.yml"
./target/release/kollars genpwd -p "$conf/passwords.yml"

# inventory.example with its host named ctl (its facts gathered through its engine, which
# is host1) and, in [compute], compute1 on podman; what differs per host is a host
# variable here (globals.yml is Ansible's extra vars: it would win over every host's)
inv=$demo/inventory
sed -e "s|^localhost .*|ctl kollars_engine=$ctl network_interface=eth0 kollars_privileged_containers=false node_config_directory=$demo/etc-ctl|" \
  inventory.example > "$inv"
if [ "$with_compute" = 1 ]; then
  sed -i "s|^\[compute\]\$|[compute]\ncompute1 kollars_engine=$compute kolla_container_engine=podman \
network_interface=kvd1 node_config_directory=$demo/etc-compute1 \
kolla_toolbox_image_full=kollars/kolla-toolbox:standin cron_image_full=kollars/cron:standin \
openvswitch_db_image_full=kollars/openvswitch-db-server:standin|" "$inv"
fi
tags=cron,mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone,glance,placement,nova,nova-cell,openvswitch,neutron,heat,horizon
k() { ./target/release/kollars "$@" -i "$inv" --configdir "$conf"; }
echo "== kollars plan"
k plan -t "$tags" --no-diff | tail -3
echo "== kollars deploy"
t_deploy=$(date +%s)
time k deploy -t "$tags"
echo "== kollars reconfigure (nothing changed: nothing to do)"
time k reconfigure -t "$tags"
echo "== kollars post-deploy"
k post-deploy

echo "== openstack --os-cloud kolla-admin token issue (python-openstackclient, through the VIP)"
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
os flavor show demo.tiny >/dev/null 2>&1 || os flavor create --vcpus 1 --ram 256 --disk 1 demo.tiny -c name -c ram
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
  [ "$(nsenter --net="$net" curl -s -o /dev/null -w '%{http_code}' -m 10 http://$vip/auth/login/)" = 200 ] && break; sleep 3
done
nsenter --net="$net" curl -sS -m 10 http://$vip/auth/login/ | grep -o '<title>[^<]*</title>'

if [ "$with_compute" = 0 ]; then
  echo "== SKIPPED: no compute host, no server (see above)"
  exit 0
fi
echo "== the compute host: discovered by kollars (nova-manage cell_v2 discover_hosts in nova_conductor)"
for _ in $(seq 1 40); do
  os compute service list --service nova-compute -f value -c State 2>/dev/null | grep -q up && break; sleep 3
done
os compute service list --service nova-compute -c Binary -c Host -c State
os hypervisor list
echo "== a guest (Debian's kernel, a busybox initramfs) in glance, booted by nova"
line="booted through nova on the demo's compute host"
scripts/guest-image.sh "$demo/guest" "$line" 2>/dev/null
up() { os image show "$1" -f value -c id 2>/dev/null || os image create "$@" -f value -c id; }
kernel=$(up demo-kernel --disk-format aki --container-format aki --file "$demo/guest/vmlinuz")
ramdisk=$(up demo-ramdisk --disk-format ari --container-format ari --file "$demo/guest/initrd.img")
up demo-guest --disk-format raw --container-format bare --file "$demo/guest/disk.raw" \
  --property kernel_id="$kernel" --property ramdisk_id="$ramdisk" \
  --property os_command_line=console=ttyS0 >/dev/null
os server delete --wait demo-vm >/dev/null 2>&1 || true
os server create --nic none --flavor demo.tiny --image demo-guest demo-vm -c name -c status
for _ in $(seq 1 200); do
  s=$(os server show demo-vm -f value -c status)
  { [ "$s" = ACTIVE ] || [ "$s" = ERROR ]; } && break; sleep 3
done
os server show demo-vm -c name -c status -c OS-EXT-SRV-ATTR:hypervisor_hostname
[ "$s" = ACTIVE ] || { os server show demo-vm -c fault; exit 1; }
echo "== openstack console log show demo-vm (the guest's serial console)"
for _ in $(seq 1 200); do
  os console log show demo-vm 2>/dev/null | grep -q "KOLLARS-GUEST: $line" && break; sleep 3
done
os console log show demo-vm | grep "KOLLARS-GUEST"
echo "== from kollars deploy to a booted guest: $(( $(date +%s) - t_deploy )) s"
