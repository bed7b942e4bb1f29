set -euo pipefail
mkdir -p /etc/placement /var/lib/placement
chown placement:placement /etc/placement /var/lib/placement
