#!/bin/bash

# This will return 0 when it successfully talks to the ProxySQL daemon via localhost
# Failures return 1

mariadb --no-defaults \
  --protocol socket \
  --socket=/var/lib/kolla/proxysql/admin.sock \
  --user=kolla-admin \
  --password=KLu1d826JhBVJNWHsTH2nQ8RMAsV4T0e2u2MYvin \
  --skip-ssl \
  -e "SELECT 1" 2>/dev/null
