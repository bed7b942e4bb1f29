set -euo pipefail
chmod 0644 /usr/local/bin/kolla_nova_extend_start
