"""One run of scripts/bench-real.sh (see there): deploys SET on ENGINES from empty, times the
deploy and every API's first answer, and sets them beside the services' own start work on the
critical path of the project graph.

Usage: bench_real.py SET RUN_DIR CLIENT LAN ENGINE...
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

set_name, run_dir, client, lan, engines = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
n = len(engines)
kollars = os.path.abspath("target/release/kollars")
vip = f"{lan}.250"

IDENTITY = "mariadb,memcached,rabbitmq,loadbalancer,kolla-toolbox,keystone"
AIO = IDENTITY + ",cron,glance,placement,nova,nova-cell,openvswitch,neutron,heat"
STAND_INS = {
    "openvswitch_vswitchd": "openvswitch-vswitchd",
    "neutron_openvswitch_agent": "neutron-openvswitch-agent",
    "neutron_dhcp_agent": "neutron-dhcp-agent",
    "neutron_l3_agent": "neutron-l3-agent",
    "neutron_metadata_agent": "neutron-metadata-agent",
}
# every API answers (the client's arguments after --os-cloud kolla-admin), and what the
# answer must hold
APIS = {
    "identity": [(["token", "issue", "-f", "value", "-c", "id"], None)],
    "aio": [
        (["token", "issue", "-f", "value", "-c", "id"], None),
        (["image", "list", "-f", "value"], None),
        (["resource", "provider", "list", "-f", "value"], None),
        (["compute", "service", "list", "-f", "value", "-c", "Binary", "-c", "State"],
         lambda out: all(any(b in l and l.endswith(" up") for l in out.splitlines())
                         for b in ("nova-scheduler", "nova-conductor"))),
        (["network", "list", "-f", "value"], None),
        (["orchestration", "service", "list", "-f", "value"], None),
    ],
}[set_name]


def sh(cmd, env=None, check=True):
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pid(engine):
    sock = engine.removeprefix("unix://")
    return open(os.path.join(os.path.dirname(sock), "docker.pid")).read().strip()


def projects():
    """Each project of services/*.yml with the projects it waits for (`after:`)."""
    deps = {}
    for f in sorted(os.listdir("services")):
        if f.endswith(".yml"):
            m = re.search(r"^after: \[(.*)\]", open(os.path.join("services", f)).read(), re.M)
            deps[f[:-4]] = [d.strip() for d in m.group(1).split(",") if d.strip()] if m else []
    return deps


# which project a step's subject belongs to: (project, pattern of the subject, group). Spans
# of one group of a project run side by side (the longest counts); groups add up.
OWN = [
    ("mariadb", r"^bootstrap_mariadb$", "bootstrap"),
    ("mariadb", r"^mariadb: Synced$", "roll"),
    ("mariadb", r"^mariadb: accounts$", "after"),
    ("rabbitmq", r"^rabbitmq: ready$", "roll"),
    ("keystone", r"^keystone database$", "database"),
    ("keystone", r"^bootstrap_keystone(_fernet)?$", "bootstrap"),
    ("keystone", r"^keystone: identity bootstrap$", "after"),
    ("keystone", r"^keystone_fernet: ", "after"),
    ("glance", r"^glance-api: register$", "register"),
    ("glance", r"^glance database$", "database"),
    ("glance", r"^bootstrap_glance_api$", "bootstrap"),
    ("placement", r"^placement-api: register$", "register"),
    ("placement", r"^placement database$", "database"),
    ("placement", r"^bootstrap_placement_api$", "bootstrap"),
    ("nova", r"^nova-api: register$", "register"),
    ("nova", r"^nova_(api|cell0) database$", "database"),
    ("nova", r"^bootstrap_nova_api$", "bootstrap"),
    ("nova-cell", r"^nova database$", "database"),
    ("nova-cell", r"^(bootstrap_nova_conductor|nova_cell_map_cell0|nova_cell_create_cell)$", "bootstrap"),
    ("nova-cell", r"^nova_scheduler: signal ", "after"),
    ("neutron", r"^neutron-server: register$", "register"),
    ("neutron", r"^neutron database$", "database"),
    ("neutron", r"^bootstrap_neutron_server$", "bootstrap"),
    ("openvswitch", r"^bootstrap_openvswitch", "bootstrap"),
    ("heat", r"^heat-api(-cfn)?: register$", "register"),
    ("heat", r"^heat database$", "database"),
    ("heat", r"^bootstrap_heat_api$", "bootstrap"),
]
PARALLEL = {"register", "database"}
# the steps that are the services' own work: one-shots and kollars' tasks around them
OWN_STEPS = {"oneshot", "task"}

# an empty host: no container, no volume; the VIP on host1
for e in engines:
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
globals_yml = f"""kolla_base_distro: debian
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
"""
if set_name == "aio":
    globals_yml += "".join(f"{var}_image_full: kollars/{image}:standin\n"
                           for var, image in STAND_INS.items())
    # each host's /run/openvswitch its own (this machine's /run is every engine's)
    for c in ("db", "vswitchd"):
        service = "openvswitch-db-server" if c == "db" else "openvswitch-vswitchd"
        globals_yml += (f"openvswitch_{c}_default_volumes:\n"
                        f"  - \"{{{{ node_config_directory }}}}/{service}/:{{{{ container_config_directory }}}}/:ro\"\n"
                        "  - \"/etc/localtime:/etc/localtime:ro\"\n"
                        "  - \"/lib/modules:/lib/modules:ro\"\n"
                        "  - \"{{ node_config_directory }}-run-openvswitch:/run/openvswitch:shared\"\n"
                        "  - \"kolla_logs:/var/log/kolla/\"\n"
                        + ("  - \"openvswitch_db:/var/lib/openvswitch/\"\n" if c == "db" else ""))
with open(os.path.join(conf, "globals.yml"), "w") as f:
    f.write(globals_yml)
with open(os.path.join(conf, "config", "galera.cnf"), "w") as f:
    f.write("[mysqld]\ninnodb_buffer_pool_size = 128M\ninnodb_log_file_size = 48M\n")
reference = open("tests/reference/aio/inputs/inventory").read()
rest = reference[reference.index("[common:children]"):]
hosts = "".join(f"host{i + 1} kollars_engine={e} node_config_directory={run_dir}/etc-host{i + 1}\n"
                for i, e in enumerate(engines))
for i in range(n):
    os.makedirs(f"{run_dir}/etc-host{i + 1}-run-openvswitch", exist_ok=True)
with open(os.path.join(run_dir, "inventory"), "w") as f:
    f.write(f"[control]\n{hosts}\n[network]\nhost1\n\n[compute]\n\n[storage]\nhost1\n\n"
            f"[monitoring]\nhost1\n\n[deployment]\nhost1\n\n{rest}")
args = ["-i", os.path.join(run_dir, "inventory"), "--configdir", conf]
tags = ["-t", AIO if set_name == "aio" else IDENTITY]

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
    if "phase" not in e:
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
answered = {}
env = {"OS_CLIENT_CONFIG_FILE": os.path.join(conf, "clouds.yaml"), "PYTHONWARNINGS": "ignore"}
for api, ok in APIS:
    while True:
        o = sh(["nsenter", f"--net=/proc/{pid(engines[0])}/ns/net", client, "--os-cloud",
                "kolla-admin", *api], env, check=False)
        if o.returncode == 0 and (ok is None or ok(o.stdout)):
            break
        if time.monotonic() - t0 > 900:
            sys.exit(f"{' '.join(api)}: no answer after 900 s: {o.stderr}{o.stdout}")
        time.sleep(0.5)
    answered[" ".join(api[:2])] = time.monotonic() - t0
t_answer = time.monotonic() - t0

# the services' own work per project, then the critical path through the project graph
deps = projects()
own, unknown = {}, set()
for (host, subject, step), a, b in spans:
    if step not in OWN_STEPS:
        continue
    for project, pattern, group in OWN:
        if re.search(pattern, subject):
            groups = own.setdefault(project, {})
            # registrations and databases of a project run side by side (the longest
            # counts); one-shots, rolling members and tasks after a start one after another
            if group in PARALLEL:
                groups[group] = max(groups.get(group, 0.0), b - a)
            else:
                groups[group] = groups.get(group, 0.0) + (b - a)
            break
    else:
        unknown.add(subject)
work = {p: sum(g.values()) for p, g in own.items()}
deployed = [p for p in deps if p in (AIO if set_name == "aio" else IDENTITY).split(",")]
finish, via = {}, {}


def finish_of(p):
    if p not in finish:
        before = [(finish_of(d), d) for d in deps.get(p, []) if d in deployed]
        start, prev = max(before, default=(0.0, None))
        finish[p], via[p] = start + work.get(p, 0.0), prev
    return finish[p]


last = max(deployed, key=finish_of)
path = []
p = last
while p:
    path.append(p)
    p = via[p]
path.reverse()
critical = finish[last] + (t_answer - t_deploy)

print(f"\n== {set_name} on {n} host(s) ==")
print(f"deploy (kollars deploy, empty engines -> done): {t_deploy:6.1f} s")
print(f"deploy -> every API answering through the VIP:  {t_answer:6.1f} s")
for api, t in answered.items():
    print(f"    {t:6.1f} s  first answer of '{api}'")
print("services' own start work per project (its tasks' spans):")
for p in deployed:
    if p in own:
        detail = ", ".join(f"{g} {v:.1f}" for g, v in own[p].items())
        print(f"  {work[p]:6.1f} s  {p} ({detail})")
print(f"critical path: {' -> '.join(path)} -> every API answering")
print(f"  {finish[last]:6.1f} s  own work along it")
print(f"  {t_answer - t_deploy:6.1f} s  APIs answering after the deploy ended")
print(f"  {critical:6.1f} s  total ({critical / t_answer:.0%} of deploy-to-answer)")
print(f"kollars and the engines around them: {t_answer - critical:6.1f} s "
      f"(ratio deploy-to-answer / services' own: {t_answer / critical:.2f})")
if unknown:
    print(f"(steps not counted as own work: {', '.join(sorted(unknown))})")
