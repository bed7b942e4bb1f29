#!/usr/bin/env bash
# Benchmarks a real deploy (release build, the real images): mariadb, memcached, rabbitmq,
# haproxy, kolla-toolbox and keystone on 1 host, then on 3 hosts (a LAN of network
# namespaces, as tests/real_cluster.rs), from an empty engine to the first token that
# python-openstackclient gets through the VIP — next to the time the services themselves
# spend starting in the same run (MariaDB's first boot and Synced waits, keystone's db_sync,
# fernet_setup and bootstrap, RabbitMQ's boot, keystone answering), read from kollars' own
# `--output json` step events as they arrive.
#
# Usage: scripts/bench-real.sh [HOSTS...]   (default: 1 3; figures on stdout, see
#        docs/benchmarks.md). The images come from KOLLARS_REAL_ENGINE's engine when set,
#        else are built here (minutes when cold).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1 3)
base=/tmp/kollars-bench-real
cargo build --release --quiet
client=${KOLLARS_OPENSTACK_CLIENT:-$(scripts/openstack-client.sh)}
source=${KOLLARS_REAL_ENGINE:-$(KOLLARS_STORAGE_DRIVER=overlay2 scripts/engines.sh up 1 "$base/source")}
images=$(DOCKER_HOST=$source scripts/build-real-images.sh)
for n in "${sizes[@]}"; do
  mapfile -t engines < <(KOLLARS_STORAGE_DRIVER=overlay2 KOLLARS_ENGINE_LAN=198.18.$((20 + n)) \
    scripts/engines.sh up "$n" "$base/hosts$n")
  # shellcheck disable=SC2086
  scripts/copy-images.sh --from "$source" $(printf -- '--to %s ' "${engines[@]}") $images
  python3 - "$base/run$n" "$client" "198.18.$((20 + n))" "${engines[@]}" <<'PY'
import json, os, shutil, subprocess, sys, time
run_dir, client, lan, engines = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
n = len(engines)
kollars = os.path.abspath("target/release/kollars")
vip = f"{lan}.250"

def sh(cmd, env=None, check=True):
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def pid(engine):
    sock = engine.removeprefix("unix://")
    return open(os.path.join(os.path.dirname(sock), "docker.pid")).read().strip()

for e in engines:  # an empty host: no container, no volume
    ids = sh(["docker", "ps", "-aq"], {"DOCKER_HOST": e}).stdout.split()
    if ids:
        sh(["docker", "rm", "-f", *ids], {"DOCKER_HOST": e})
    vols = sh(["docker", "volume", "ls", "-q"], {"DOCKER_HOST": e}).stdout.split()
    if vols:
        sh(["docker", "volume", "rm", "-f", *vols], {"DOCKER_HOST": e})
sh(["nsenter", f"--net=/proc/{pid(engines[0])}/ns/net", "sh", "-c",
    f"ip addr show dev eth0 | grep -q ' {vip}/' || ip addr add {vip}/24 dev eth0"])

shutil.rmtree(run_dir, ignore_errors=True)
conf = os.path.join(run_dir, "config")
os.makedirs(os.path.join(conf, "config"))
shutil.copy("tests/reference/aio/inputs/passwords.yml", conf)
with open(os.path.join(conf, "globals.yml"), "w") as f:
    f.write(f"""kolla_base_distro: debian
docker_registry: ""
docker_namespace: kollars
openstack_tag: 2026.1-debian-trixie
network_interface: eth0
kolla_internal_vip_address: {vip}
enable_keepalived: "no"
enable_proxysql: "no"
database_address: {lan}.1
haproxy_max_connections: 8000
kollars_privileged_containers: false
default_container_dimensions: {{}}
""")
with open(os.path.join(conf, "config", "galera.cnf"), "w") as f:
    f.write("[mysqld]\ninnodb_buffer_pool_size = 128M\ninnodb_log_file_size = 48M\n")
reference = open("tests/reference/aio/inputs/inventory").read()
rest = reference[reference.index("[common:children]"):]
hosts = "".join(f"host{i + 1} kollars_engine={e} node_config_directory={run_dir}/etc-host{i + 1}\n"
                for i, e in enumerate(engines))
with open(os.path.join(run_dir, "inventory"), "w") as f:
    f.write(f"[control]\n{hosts}\n[network]\nhost1\n\n[compute]\n\n[storage]\nhost1\n\n"
            f"[monitoring]\nhost1\n\n[deployment]\nhost1\n\n{rest}")
args = ["-i", os.path.join(run_dir, "inventory"), "--configdir", conf]
tags = ["-t", "mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone"]

# the deploy, its step events timestamped as they arrive
t0 = time.monotonic()
proc = subprocess.Popen([kollars, "deploy", *args, *tags, "--output", "json"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
started, spans = {}, []
for line in proc.stdout:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    key = (e["host"], e["subject"], e["step"])
    if e["phase"] == "started":
        started[key] = time.monotonic() - t0
    elif e["phase"] == "finished" and key in started:
        spans.append((key, started.pop(key), time.monotonic() - t0))
err = proc.stderr.read()
if proc.wait() != 0:
    sys.exit(f"kollars deploy failed:\n{err}")
t_deploy = time.monotonic() - t0
sh([kollars, "post-deploy", *args])
while True:
    o = sh(["nsenter", f"--net=/proc/{pid(engines[0])}/ns/net", client, "--os-cloud", "kolla-admin",
            "token", "issue", "-f", "value", "-c", "id"],
           {"OS_CLIENT_CONFIG_FILE": os.path.join(conf, "clouds.yaml"), "PYTHONWARNINGS": "ignore"},
           check=False)
    if o.returncode == 0:
        break
    if time.monotonic() - t0 > 600:
        sys.exit(f"no token after 600 s: {o.stderr}")
    time.sleep(0.5)
t_token = time.monotonic() - t0

def span(subject, step, host="host1"):
    """Duration of a step (the longest of its runs); 0 when it did not run."""
    return max([b - a for (h, s, st), a, b in spans if h == host and s == subject and st == step],
               default=0.0)

def serial(subject, step):
    """Sum over hosts of a step that runs one host at a time."""
    return sum(b - a for (h, s, st), a, b in spans if s == subject and st == step)

own = {
    "MariaDB first boot (bootstrap_mariadb: install-db, root)": span("bootstrap_mariadb", "oneshot"),
    "MariaDB members Synced, one at a time (incl. the first's restart)": serial("mariadb: Synced", "task"),
    "MariaDB accounts (server answering, monitor user)": span("mariadb: accounts", "task"),
    "keystone database and user": span("keystone database", "task"),
    "keystone db_sync (bootstrap_keystone)": span("bootstrap_keystone", "oneshot"),
    "fernet_setup (bootstrap_keystone_fernet)": span("bootstrap_keystone_fernet", "oneshot"),
    "keystone-manage bootstrap": span("keystone: identity bootstrap", "task"),
    "fernet key push to the other hosts": span("keystone_fernet: /usr/bin/fernet-push.sh", "task"),
    "keystone answering through the VIP after the deploy": t_token - t_deploy,
}
rabbit = max([b - a for (h, s, st), a, b in spans if s == "rabbitmq: ready"], default=0.0)
critical = sum(own.values())
print(f"\n== {n} host(s) ==")
print(f"deploy (kollars deploy, empty engines -> done): {t_deploy:6.1f} s")
print(f"deploy -> first token through the VIP:           {t_token:6.1f} s")
print("services' own start work on the critical path (mariadb -> keystone -> token):")
for k, v in own.items():
    print(f"  {v:6.1f} s  {k}")
print(f"  {critical:6.1f} s  total ({critical / t_token:.0%} of deploy-to-token)")
print(f"  ({rabbit:.1f} s RabbitMQ boot to ready, beside it)")
print(f"kollars and the engines around them: {t_token - critical:6.1f} s "
      f"(ratio deploy-to-token / services' own: {t_token / critical:.2f})")
PY
done
