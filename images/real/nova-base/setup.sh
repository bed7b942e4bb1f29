set -euo pipefail
# nova's state (instances, the ssh keys of migrations), its config directory.
mkdir -p /etc/nova /var/lib/nova/instances
chown -R nova:nova /etc/nova /var/lib/nova
# The wheel puts nova's own files in the venv's etc: the API's paste pipeline
# (api-paste.ini, which nova-api and nova-metadata load from /etc/nova) and rootwrap's. The
# rendered nova.conf arrives through config.json.
src=/var/lib/kolla/venv/etc/nova
cp -a "$src/api-paste.ini" "$src/rootwrap.conf" "$src/rootwrap.d" /etc/nova/
chown -R root:root /etc/nova/rootwrap.conf /etc/nova/rootwrap.d
# rootwrap finds the commands it runs as root in exec_dirs: the venv's first (privsep-helper,
# which nova-compute's privsep daemons start through it, is only there), as in kolla's images
sed -i 's|^exec_dirs=|exec_dirs=/var/lib/kolla/venv/bin,|' /etc/nova/rootwrap.conf
grep -q '^exec_dirs=/var/lib/kolla/venv/bin,' /etc/nova/rootwrap.conf
chmod 0440 /etc/sudoers.d/kolla_nova_sudoers
ls /etc/nova/api-paste.ini /etc/nova/rootwrap.d >/dev/null
# The service images' own hook (nova-api's and nova-conductor's replace it).
: > /usr/local/bin/kolla_nova_extend_start && chmod 0644 /usr/local/bin/kolla_nova_extend_start
