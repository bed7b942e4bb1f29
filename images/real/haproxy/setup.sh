set -euo pipefail
mkdir -p /etc/haproxy/services.d /var/lib/haproxy
