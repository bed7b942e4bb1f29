set -euo pipefail
# rsync over ssh (fernet key distribution) logs in as keystone.
usermod -s /bin/bash keystone
mkdir -p /etc/keystone/fernet-keys /var/lib/keystone/.ssh
chown keystone:keystone /etc/keystone /var/lib/keystone /var/lib/keystone/.ssh
chown keystone:keystone /etc/keystone/fernet-keys && chmod 0770 /etc/keystone/fernet-keys
chmod 0700 /var/lib/keystone/.ssh
: > /usr/local/bin/kolla_keystone_extend_start && chmod 0644 /usr/local/bin/kolla_keystone_extend_start
