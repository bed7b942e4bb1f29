#!/usr/bin/env bash
# By-hand check of the real images on one engine (DOCKER_HOST), with configs rendered by
# kollars, each container created as kollars would (config dir at
# /var/lib/kolla/config_files, KOLLA_CONFIG_STRATEGY=COPY_ALWAYS, host network, kolla's named
# volumes). It runs the bootstrap steps kollars' bootstrap tasks will have to do, by hand:
# mariadb's first boot, the keystone database and user, fernet_setup, keystone's db_sync,
# kolla_keystone_bootstrap, then gets a token from the toolbox.
#
# Usage: scripts/check-real-images.sh OUT CONF   (OUT: genconfig --output; CONF: its configdir)
set -euo pipefail
out=$1/localhost conf=$2
ns=${NS:-kollars} tag=${TAG:-2026.1-debian-trixie}
pw() { sed -n "s/^$1: *//p" "$conf/passwords.yml" | tr -d '"'; }
root_pw=$(pw database_password) ks_db_pw=$(pw keystone_database_password) admin_pw=$(pw keystone_admin_password)
step() { echo; echo "== $*"; }
run() { # NAME IMAGE [docker run options...] -- service config dir is /tmp/.../NAME-dir
  local name=$1 svc=$2 image=$3; shift 3
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --network host -e KOLLA_CONFIG_STRATEGY=COPY_ALWAYS \
    -e "KOLLA_SERVICE_NAME=${name//_/-}" -v "$out/$svc:/var/lib/kolla/config_files:ro" \
    -v /etc/localtime:/etc/localtime:ro -v kolla_logs:/var/log/kolla/ "$@" "$ns/$image:$tag" >/dev/null
}
oneshot() { # NAME SVC IMAGE [options...] [-- command]
  local name=$1 svc=$2 image=$3; shift 3
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run --rm --name "$name" --network host -e KOLLA_CONFIG_STRATEGY=COPY_ALWAYS \
    -e "KOLLA_SERVICE_NAME=${name//_/-}" -v "$out/$svc:/var/lib/kolla/config_files:ro" \
    -v /etc/localtime:/etc/localtime:ro -v kolla_logs:/var/log/kolla/ "$@"
}
wait_for() { # TRIES COMMAND...
  local n=$1; shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 2; done
  "$@"
}
tb() { docker exec kolla_toolbox "$@"; }

step "volumes"
for v in mariadb kolla_logs rabbitmq keystone_fernet_tokens; do docker volume rm -f "$v" >/dev/null 2>&1 || true; done
docker rm -f mariadb memcached rabbitmq kolla_toolbox keystone keystone_fernet keystone_ssh >/dev/null 2>&1 || true
for v in mariadb kolla_logs rabbitmq keystone_fernet_tokens; do docker volume rm -f "$v" >/dev/null 2>&1 || true; docker volume create "$v" >/dev/null; done

step "mariadb: bootstrap one-shot (KOLLA_BOOTSTRAP, DB_ROOT_PASSWORD)"
oneshot bootstrap_mariadb mariadb mariadb-server -e KOLLA_BOOTSTRAP= -e "DB_ROOT_PASSWORD=$root_pw" \
  -v mariadb:/var/lib/mysql "$ns/mariadb-server:$tag" 2>&1 | tail -3
step "mariadb: first start with BOOTSTRAP_ARGS=--wsrep-new-cluster"
run mariadb mariadb mariadb-server -e BOOTSTRAP_ARGS=--wsrep-new-cluster -v mariadb:/var/lib/mysql

step "kolla-toolbox"
run kolla_toolbox kolla-toolbox kolla-toolbox
step "mysql -uroot from the toolbox"
wait_for 60 tb mysql -h 127.0.0.1 -uroot "-p$root_pw" -e 'SELECT 1'
tb mysql -h 127.0.0.1 -uroot "-p$root_pw" -e "SELECT VERSION(); SHOW STATUS LIKE 'wsrep_local_state_comment'; SHOW STATUS LIKE 'wsrep_cluster_size'"

step "memcached"
run memcached memcached memcached
wait_for 10 docker exec memcached healthcheck_listen memcached 11211
tb bash -c 'exec 3<>/dev/tcp/127.0.0.1/11211; printf "version\r\n" >&3; head -1 <&3'

step "rabbitmq"
cookie=$(pw rabbitmq_cluster_cookie)
run rabbitmq rabbitmq rabbitmq -e "RABBITMQ_CLUSTER_COOKIE=$cookie" -e RABBITMQ_LOG_DIR=/var/log/kolla/rabbitmq -v rabbitmq:/var/lib/rabbitmq/
wait_for 60 docker exec rabbitmq rabbitmqctl status
docker exec rabbitmq rabbitmqctl status | sed -n '1,12p'
docker exec rabbitmq rabbitmqctl list_users

step "keystone database (what kolla-ansible's keystone bootstrap does with mysql_db/mysql_user)"
tb mysql -h 127.0.0.1 -uroot "-p$root_pw" -e "CREATE DATABASE IF NOT EXISTS keystone; CREATE USER IF NOT EXISTS 'keystone'@'%' IDENTIFIED BY '$ks_db_pw'; GRANT ALL PRIVILEGES ON keystone.* TO 'keystone'@'%'; FLUSH PRIVILEGES;"

step "bootstrap_keystone one-shot (KOLLA_BOOTSTRAP: db_sync)"
oneshot bootstrap_keystone keystone keystone -e KOLLA_BOOTSTRAP= -v keystone_fernet_tokens:/etc/keystone/fernet-keys \
  "$ns/keystone:$tag" 2>&1 | tail -3
step "bootstrap_keystone_fernet one-shot (fernet_setup; after bootstrap_keystone, whose hook made /var/log/kolla/keystone that keystone.conf logs to)"
oneshot bootstrap_keystone_fernet keystone-fernet keystone-fernet -v keystone_fernet_tokens:/etc/keystone/fernet-keys \
  "$ns/keystone-fernet:$tag" bash -c 'sudo -E kolla_set_configs && keystone-manage --config-file /etc/keystone/keystone.conf fernet_setup --keystone-user keystone --keystone-group keystone' 2>&1 | tail -2
tb mysql -h 127.0.0.1 -ukeystone "-p$ks_db_pw" keystone -e 'SELECT COUNT(*) AS keystone_tables FROM information_schema.tables WHERE table_schema="keystone"'

step "keystone, keystone-fernet, keystone-ssh"
run keystone keystone keystone -v keystone_fernet_tokens:/etc/keystone/fernet-keys
run keystone_fernet keystone-fernet keystone-fernet -v keystone_fernet_tokens:/etc/keystone/fernet-keys
run keystone_ssh keystone-ssh keystone-ssh -v keystone_fernet_tokens:/etc/keystone/fernet-keys
wait_for 60 tb curl -sf http://127.0.0.1:5000/v3
tb curl -s http://127.0.0.1:5000/v3; echo
docker exec keystone healthcheck_curl http://127.0.0.1:5000/healthcheck

step "kolla_keystone_bootstrap (docker exec keystone ...)"
docker exec keystone kolla_keystone_bootstrap admin "$admin_pw" admin admin \
  http://127.0.0.1:5000 http://127.0.0.1:5000 RegionOne

step "openstack token issue (toolbox)"
tb openstack --os-auth-url http://127.0.0.1:5000/v3 --os-username admin --os-password "$admin_pw" \
  --os-project-name admin --os-user-domain-name Default --os-project-domain-name Default \
  --os-identity-api-version 3 token issue -f value -c expires -c project_id
tb openstack --os-auth-url http://127.0.0.1:5000/v3 --os-username admin --os-password "$admin_pw" \
  --os-project-name admin --os-user-domain-name Default --os-project-domain-name Default \
  endpoint list -c 'Service Name' -c Interface -c URL

step "mariadb monitor user (kolla-ansible's mariadb role makes it; healthcheck.cnf names it)"
mon_pw=$(pw mariadb_monitor_password)
tb mysql -h 127.0.0.1 -uroot "-p$root_pw" -e "CREATE USER IF NOT EXISTS 'monitor'@'%' IDENTIFIED BY '$mon_pw'; GRANT USAGE, REPLICATION CLIENT ON *.* TO 'monitor'@'%';"

step "healthchecks (the commands kolla-ansible configures)"
hc() { local c=$1; shift; if docker exec "$c" "$@" >/dev/null 2>&1; then echo "$c: healthy ($*)"; else echo "$c: UNHEALTHY ($*)"; fi; }
hc memcached healthcheck_listen memcached 11211
hc rabbitmq healthcheck_rabbitmq
hc keystone healthcheck_curl http://127.0.0.1:5000
hc keystone_fernet /usr/bin/fernet-healthcheck.sh
hc keystone_ssh healthcheck_listen sshd 8023
hc mariadb /usr/bin/healthcheck.sh --defaults-file /etc/mysql/healthcheck.cnf --connect --galera_online
