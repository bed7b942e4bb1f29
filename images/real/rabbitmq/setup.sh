set -euo pipefail
mkdir -p /var/lib/rabbitmq /etc/rabbitmq /var/log/rabbitmq
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq /var/log/rabbitmq
