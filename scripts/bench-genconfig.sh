#!/usr/bin/env bash
# Benchmarks `kollars genconfig` (release build):
#   1. the reference all-in-one (tests/reference/aio): median of N runs;
#   2. a generated 100-host inventory (3 controllers, 97 computes): wall time and peak RSS;
#   3. the same 100 hosts written again over their own output (nothing changes).
# Each run writes into a directory the previous run's tree was just deleted from, as an
# operator regenerating a tree would; the kernel's inode allocation is part of the figure.
# Usage: scripts/bench-genconfig.sh [RUNS]   (figures go to stdout; see docs/benchmarks.md)
#        KOLLARS_BIN=/path/to/kollars scripts/bench-genconfig.sh [RUNS]   (a prebuilt binary,
#        e.g. an older build for a before/after comparison)
#        KOLLARS_DATA_DIR=DIR …   (--data-dir DIR: services/ and templates/ from DIR, e.g. a
#        `git archive` of the commit an older binary understands; default: this tree's)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
if [ -n "${KOLLARS_BIN:-}" ]; then
  bin=$KOLLARS_BIN
else
  cargo build --release --quiet
  bin=$PWD/target/release/kollars
fi
ref=tests/reference/aio
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$bin" "$ref" "$work" "$runs" <<'PY'
import json, os, resource, shutil, statistics, subprocess, sys, time
bin, ref, work, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

data = ["--data-dir", os.environ["KOLLARS_DATA_DIR"]] if os.environ.get("KOLLARS_DATA_DIR") else []

def run(args):
    t = time.perf_counter()
    subprocess.run([bin] + args + data, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t

times = []
for i in range(runs):
    out = os.path.join(work, "aio")
    shutil.rmtree(out, ignore_errors=True)
    times.append(run(["genconfig", "-i", f"{ref}/inputs/inventory", "--configdir", f"{ref}/inputs",
                      "--facts", f"{ref}/inputs/facts", "--output", out]))
print(f"reference aio: median {statistics.median(times)*1000:.1f} ms, min {min(times)*1000:.1f} ms over {runs} runs")

# 100 hosts: 3 controllers (control, network, storage, monitoring) + 97 computes
inv = os.path.join(work, "inv100")
facts_dir = os.path.join(work, "facts100")
os.makedirs(facts_dir)
base = json.load(open(f"{ref}/inputs/facts/localhost.json"))
ctl = [f"ctl{i:02d}" for i in range(1, 4)]
cmp_ = [f"cmp{i:03d}" for i in range(1, 98)]
lines = open(f"{ref}/inputs/inventory").read().splitlines()
out_lines, section = [], None
for l in lines:
    s = l.strip()
    if s.startswith("["):
        section = s
        out_lines.append(l)
        if s in ("[control]", "[network]", "[storage]", "[monitoring]", "[deployment]"):
            out_lines.extend(ctl)
        elif s == "[compute]":
            out_lines.extend(cmp_)
        continue
    if section in ("[control]", "[network]", "[storage]", "[monitoring]", "[deployment]", "[compute]") and s and not s.startswith("#"):
        continue
    out_lines.append(l)
open(inv, "w").write("\n".join(out_lines) + "\n")
for n, h in enumerate(ctl + cmp_):
    f = dict(base)
    ip = f"192.0.2.{10 + n}" if n < 240 else f"198.51.100.{n - 230}"
    f["ansible_eth0"] = json.loads(json.dumps(base["ansible_eth0"]))
    f["ansible_eth0"]["ipv4"]["address"] = ip
    f["ansible_hostname"] = h
    json.dump(f, open(os.path.join(facts_dir, f"{h}.json"), "w"))
times = []
for i in range(3):
    out = os.path.join(work, "out100")
    shutil.rmtree(out, ignore_errors=True)
    times.append(run(["genconfig", "-i", inv, "--configdir", f"{ref}/inputs", "--facts", facts_dir, "--output", out]))
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
nfiles = sum(len(fs) for _, _, fs in os.walk(os.path.join(work, "out100")))
print(f"100 hosts: median {statistics.median(times):.2f} s over 3 runs, peak RSS {rss:.0f} MB, {nfiles} files")
times = [run(["genconfig", "-i", inv, "--configdir", f"{ref}/inputs", "--facts", facts_dir,
              "--output", os.path.join(work, "out100")]) for _ in range(3)]
print(f"100 hosts, unchanged rewrite: median {statistics.median(times):.2f} s over 3 runs")
PY
