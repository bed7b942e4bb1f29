set -euo pipefail
chmod 0644 /usr/local/bin/kolla_neutron_extend_start
