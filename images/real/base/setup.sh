# base: kolla's users and groups, kolla-start, sudoers, /var/log/kolla.
set -euo pipefail
S=/.kollars-build/stage
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen && locale-gen >/dev/null
# Debian's own system accounts stay below kolla's 424xx.
sed -i 's/^#\?LAST_SYSTEM_UID=.*/LAST_SYSTEM_UID=59999/; s/^#\?LAST_SYSTEM_GID=.*/LAST_SYSTEM_GID=59999/' /etc/adduser.conf
# kolla's accounts (images/base/passwd and group: kolla's uids, uid = gid, homes
# /var/lib/<name>, no login), before any package's postinst would make its own.
while IFS=: read -r name _ gid _; do
  [ "$name" = root ] && continue
  getent group "$name" >/dev/null || groupadd -g "$gid" "$name"
done < "$S/group"
while IFS=: read -r name _ uid gid _ home _; do
  [ "$name" = root ] && continue
  getent passwd "$name" >/dev/null || useradd -l -M -u "$uid" -g "$gid" -d "$home" -s /usr/sbin/nologin "$name"
done < "$S/passwd"
while IFS=: read -r name _ _ members; do
  [ "$name" = root ] || [ -z "$members" ] || gpasswd -M "$members" "$name" >/dev/null
done < "$S/group"
install -m 0755 "$S/usr/local/bin/kolla-start" /usr/local/bin/kolla-start
for n in kolla_start kolla_set_configs healthcheck_curl healthcheck_port healthcheck_listen; do
  ln -sfn kolla-start "/usr/local/bin/$n"
done
: > /usr/local/bin/kolla_extend_start && chmod 0644 /usr/local/bin/kolla_extend_start
chmod 0440 /etc/sudoers
mkdir -p /var/log/kolla /var/lib/kolla/config_files /etc/sudoers.d
chown root:kolla /var/log/kolla && chmod 2775 /var/log/kolla
