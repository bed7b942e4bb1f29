set -euo pipefail
# heat's state (lock_path /var/lib/heat/tmp) and its config directory.
mkdir -p /etc/heat /var/lib/heat/tmp
chown -R heat:heat /etc/heat /var/lib/heat
# The wheel puts heat's own files in the venv's etc: the APIs' paste pipeline
# (api-paste.ini, which heat-api and heat-api-cfn load from /etc/heat), the engine's global
# environment (environment.d, its default environment_dir) and the templates of its
# template_dir. The rendered heat.conf arrives through config.json.
src=/var/lib/kolla/venv/etc/heat
cp -a "$src/." /etc/heat/
chown -R heat:heat /etc/heat
ls /etc/heat/api-paste.ini /etc/heat/environment.d >/dev/null
# The service images' own hook (heat-api's replaces it).
: > /usr/local/bin/kolla_heat_extend_start && chmod 0644 /usr/local/bin/kolla_heat_extend_start
