#!/usr/bin/env python3
"""The container dicts kolla-ansible evaluated, from its genconfig log, as expected.dicts.json.

usage: kolla-dicts.py LOG OUTDIR > expected.dicts.json

kolla's config tasks loop over each role's service dicts and log every item evaluated
(`ok: [host] => (item={'key': ..., 'value': {...}})`). Kept per host and service: the fields
kolla's container module compares. Host paths under OUTDIR/<host> (the render's
node_config_directory) become /etc/kolla, empty volumes are dropped (kolla drops them when it
creates the container), and values kolla's log hides (no_log: None) are left out.
"""
import ast
import json
import re
import sys

FIELDS = ["container_name", "image", "volumes", "environment", "dimensions", "healthcheck",
          "privileged", "pid_mode", "ipc_mode", "cgroupns_mode"]
log, outdir = sys.argv[1], sys.argv[2].rstrip("/")
dicts = {}
for line in open(log, encoding="utf-8"):
    m = re.match(r"^(?:ok|changed|skipping): \[([\w.-]+)\] => \(item=(\{'key'.*\})\)\s*$", line)
    if not m:
        continue
    try:
        item = ast.literal_eval(m.group(2))
    except (ValueError, SyntaxError):
        continue
    value = item.get("value")
    if not isinstance(value, dict) or "container_name" not in value or not value.get("enabled", True):
        continue
    host = m.group(1)
    d = {}
    for k in FIELDS:
        v = value.get(k)
        if k == "volumes":
            v = [x.replace(f"{outdir}/{host}/", "/etc/kolla/") for x in (v or []) if x]
        if k == "environment" and isinstance(v, dict):
            v = {a: b for a, b in v.items() if b is not None}
        if v in (None, "", False, {}, []):
            continue
        d[k] = v
    dicts.setdefault(host, {})[item["key"]] = d
json.dump(dicts, sys.stdout, indent=1, sort_keys=True)
print()
