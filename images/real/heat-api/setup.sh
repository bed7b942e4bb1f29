set -euo pipefail
chmod 0644 /usr/local/bin/kolla_heat_extend_start
