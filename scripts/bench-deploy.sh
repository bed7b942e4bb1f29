#!/usr/bin/env bash
# Benchmarks the container lifecycle on real local engines (release build):
#   1. Docker itself: create + start the all-in-one's containers, 8 at a time (docker CLI);
#   2. `kollars deploy` of the same all-in-one (first deploy, incl. bootstrap one-shots);
#   3. no-op `kollars reconfigure` on that host: median of N runs;
#   4. the same on 3 simulated hosts (3 engines, each in its own network namespace).
# Usage: scripts/bench-deploy.sh [RUNS]   (figures on stdout; see docs/benchmarks.md)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
base=/tmp/kollars-bench
mapfile -t engines < <(scripts/engines.sh up 3 "$base/engines")
cargo build --release --quiet
for e in "${engines[@]}"; do DOCKER_HOST=$e images/build.sh --namespace kollars --tag demo >/dev/null; done
conf=$base/config
rm -rf "$conf" "$base"/etc-*
mkdir -p "$conf"
# every host writes its own node_config_directory (the inventory's): not the demo's shared one
grep -v "^node_config_directory:" demo/globals.yml >"$conf/globals.yml"
cp demo/passwords.yml "$conf/passwords.yml"
./target/release/kollars genpwd -p "$conf/passwords.yml" >/dev/null 2>&1

python3 - "$base" "$conf" "$runs" "${engines[@]}" <<'PY'
import json, os, re, resource, statistics, subprocess, sys, time
base, conf, runs, engines = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
kollars = os.path.abspath("target/release/kollars")

def sh(cmd, env=None, check=True):
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def clean(engine):
    ids = sh(["docker", "ps", "-aq"], {"DOCKER_HOST": engine}).stdout.split()
    if ids:
        sh(["docker", "rm", "-f", *ids], {"DOCKER_HOST": engine})

def inventory(hosts):
    """inventory.example with every localhost line replaced by the given hosts."""
    lines = []
    for l in open("inventory.example"):
        if l.startswith("localhost"):
            lines.extend(f"{h} node_config_directory={base}/etc-{h} kollars_engine={e}\n" for h, e in hosts)
        else:
            lines.append(l)
    path = f"{base}/inventory-{len(hosts)}"
    open(path, "w").writelines(lines)
    return path

def facts(hosts):
    d = f"{base}/facts"
    os.makedirs(d, exist_ok=True)
    ref = json.load(open("tests/reference/aio/inputs/facts/localhost.json"))
    for n, (h, _) in enumerate(hosts):
        f = json.loads(json.dumps(ref))
        f["ansible_hostname"] = h
        f["ansible_lo"]["ipv4"]["address"] = "127.0.0.1"
        json.dump(f, open(f"{d}/{h}.json", "w"))
    return d

def dockerd_cpu():
    """CPU seconds the engines' dockerd processes have used so far."""
    total = 0
    for e in engines:
        pid = open(os.path.join(os.path.dirname(e.removeprefix("unix://")), "docker.pid")).read().strip()
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")

cpu = {"kollars": 0.0, "dockerd": 0.0}

def k(cmd, inv, fdir):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    d0 = dockerd_cpu()
    t = time.perf_counter()
    r = sh([kollars, cmd, "-i", inv, "--configdir", conf, "--facts", fdir], check=False)
    dt = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu["kollars"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    cpu["dockerd"] = dockerd_cpu() - d0
    if r.returncode != 0:
        sys.exit(f"kollars {cmd} failed:\n{r.stderr[-3000:]}")
    return dt, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""

def noop(inv, fdir):
    """RUNS no-op reconfigures: (median wall, median kollars CPU, median dockerd CPU, summary)."""
    walls, ours, theirs, last = [], [], [], ""
    for _ in range(runs):
        dt, last = k("reconfigure", inv, fdir)
        walls.append(dt)
        ours.append(cpu["kollars"])
        theirs.append(cpu["dockerd"])
    m = statistics.median
    return m(walls), m(ours), m(theirs), last

one = [("host1", engines[0])]
three = [(f"host{i+1}", e) for i, e in enumerate(engines)]
for e in engines:
    clean(e)

# 1. Docker's own create+start of the same containers, 8-way
inv1, f1 = inventory(one), facts(three)
k("deploy", inv1, f1)   # learn the containers (names, images) from a real deploy
ps = sh(["docker", "ps", "-a", "--format", "{{.Names}} {{.Image}}"], {"DOCKER_HOST": engines[0]}).stdout.split("\n")
pairs = [p.split() for p in ps if p.strip() and not p.startswith("bootstrap_")]
clean(engines[0])
cmds = "\n".join(f"docker run -d --name {n} --network host -v {base}/etc-host1/{n.replace('_', '-')}/:/var/lib/kolla/config_files/:ro {i} >/dev/null" for n, i in pairs)
t = time.perf_counter()
p = subprocess.run(["xargs", "-P", "8", "-d", "\n", "-I{}", "bash", "-c", "{}"], input=cmds, text=True,
                   env={**os.environ, "DOCKER_HOST": engines[0]}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
docker_t = time.perf_counter() - t
clean(engines[0])
print(f"docker create+start of {len(pairs)} containers, 8-way: {docker_t:.2f} s")

# 2. kollars first deploy, 3. no-op reconfigure
dt, summary = k("deploy", inv1, f1)
print(f"kollars deploy, 1 host: {dt:.2f} s ({summary}); ratio to docker {dt / docker_t:.2f}")
m1, c1, d1, last = noop(inv1, f1)
print(f"kollars reconfigure (no-op), 1 host: median {m1:.3f} s over {runs} runs ({last}); "
      f"CPU: kollars {c1 * 1000:.0f} ms, dockerd {d1 * 1000:.0f} ms")

# 4. three hosts
for e in engines:
    clean(e)
inv3 = inventory(three)
dt, summary = k("deploy", inv3, f1)
print(f"kollars deploy, 3 hosts: {dt:.2f} s ({summary})")
m3, c3, d3, last = noop(inv3, f1)
print(f"kollars reconfigure (no-op), 3 hosts: median {m3:.3f} s over {runs} runs ({last}); "
      f"ratio to 1 host {m3 / m1:.2f}; CPU: kollars {c3 * 1000:.0f} ms, dockerd {d3 * 1000:.0f} ms "
      f"(all of it on this machine's {os.cpu_count()} cores)")
PY
