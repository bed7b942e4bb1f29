set -euo pipefail
mkdir -p /etc/neutron/plugins/ml2 /var/lib/neutron/.ssh
chown -R neutron:neutron /etc/neutron /var/lib/neutron
chmod 0700 /var/lib/neutron/.ssh
# The wheel puts neutron's own files in the venv's etc: the API's paste pipeline
# (api-paste.ini, which neutron-server loads from /etc/neutron) and rootwrap's.
src=/var/lib/kolla/venv/etc/neutron
cp -a "$src/api-paste.ini" "$src/rootwrap.conf" "$src/rootwrap.d" /etc/neutron/
chown -R root:root /etc/neutron/rootwrap.conf /etc/neutron/rootwrap.d
chmod 0440 /etc/sudoers.d/kolla_neutron_sudoers
ls /etc/neutron/api-paste.ini >/dev/null
: > /usr/local/bin/kolla_neutron_extend_start && chmod 0644 /usr/local/bin/kolla_neutron_extend_start
