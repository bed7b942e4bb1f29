#!/usr/bin/env python3
# usage: containers-from-log.py LOG... > expected.containers.json  (see tests/containers.rs)
import ast, json, re, sys
# kolla-ansible's evaluated service dicts, as its genconfig log prints them (the items of
# the "Ensuring config directories exist" loops): {host: {service: {field: value}}}.
FIELDS = ['container_name','group','enabled','image','volumes','environment','privileged',
          'cap_add','pid_mode','ipc_mode','dimensions','healthcheck']
out = {}
task = None
for path in sys.argv[1:]:
    for line in open(path):
        if line.startswith('TASK ['):
            task = line
            continue
        m = re.match(r'^(?:ok|changed): \[([^\]]+)\] => \(item=(\{.*\})\)$', line.rstrip('\n'))
        if not m or task is None or 'config directories exist' not in task:
            continue
        item = ast.literal_eval(m.group(2))
        v = item.get('value')
        if not isinstance(v, dict) or 'container_name' not in v:
            continue
        d = {k: v[k] for k in FIELDS if k in v}
        if 'volumes' in d:
            # the render's per-host node_config_directory (<work>/out/<host>) is kolla's
            # default, /etc/kolla, for kollars
            d['volumes'] = [re.sub(r'^/\S*?/out/' + re.escape(m.group(1)) + '/', '/etc/kolla/', x)
                            for x in d['volumes'] if x]
        out.setdefault(m.group(1), {})[item['key']] = d
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
