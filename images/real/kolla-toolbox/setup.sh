set -euo pipefail
mkdir -p /var/lib/ansible/.config/openstack
chown -R ansible:ansible /var/lib/ansible
