set -euo pipefail
# The datadir is the deploy's volume: the image's is empty, so a new volume starts empty
# and the bootstrap initialises it. Debian's postinst made one; it goes.
find /var/lib/mysql -mindepth 1 -delete
mkdir -p /var/lib/mysql /run/mysqld
chown mysql:mysql /var/lib/mysql /run/mysqld
chmod 0755 /run/mysqld
