set -euo pipefail
chmod 0644 /usr/local/bin/kolla_nova_extend_start
# migrations log in as nova, whose shell must run commands
usermod -s /bin/bash nova
mkdir -p /var/lib/nova/.ssh && chown nova:nova /var/lib/nova/.ssh && chmod 0700 /var/lib/nova/.ssh
rm -f /etc/ssh/ssh_host_*
test -x /usr/sbin/sshd
