#!/bin/bash
# healthcheck.sh [--defaults-file FILE] [--connect] [--innodb_initialized] [--galera_online] [--galera_ready]
# kolla-ansible's mariadb healthcheck (--defaults-file /etc/mysql/healthcheck.cnf --connect
# --galera_online): every check asked for must pass. The client reads the file's
# [mariadb-client] account (kolla-ansible's monitor user).
set -o nounset -o pipefail
opts=() checks=()
while [ $# -gt 0 ]; do
  case "$1" in
    --defaults-file) opts+=("--defaults-file=$2"); shift 2 ;;
    --defaults-file=*|--defaults-extra-file=*) opts+=("$1"); shift ;;
    --connect|--innodb_initialized|--galera_online|--galera_ready) checks+=("${1#--}"); shift ;;
    *) echo "healthcheck.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ ${#checks[@]} -gt 0 ] || checks=(connect)
status() { mariadb "${opts[@]}" --batch --skip-column-names -e "SHOW GLOBAL STATUS LIKE '$1'" 2>/dev/null | cut -f2; }
for c in "${checks[@]}"; do
  case "$c" in
    connect) mariadb "${opts[@]}" -e 'SELECT 1' >/dev/null 2>&1 || { echo "healthcheck: cannot connect"; exit 1; } ;;
    innodb_initialized) [ "$(status innodb_buffer_pool_load_status | cut -c1-23)" = "Buffer pool(s) load com" ] || { echo "healthcheck: InnoDB not initialised"; exit 1; } ;;
    galera_online) s=$(status wsrep_local_state); [ "$s" = 4 ] || { echo "healthcheck: wsrep_local_state ${s:-unknown}, not 4 (Synced)"; exit 1; } ;;
    galera_ready) [ "$(status wsrep_ready)" = ON ] || { echo "healthcheck: wsrep not ready"; exit 1; } ;;
  esac
done
exit 0
