#!/bin/bash


# External Certificates
/usr/bin/letsencrypt-certificates \
  --external \
  --fqdns cloud.example.org \
  --days 30 \
  --port 8081 \
  --mail ops@example.org \
  --acme https://acme-v02.api.letsencrypt.org/directory \
  --vips 192.0.2.251,192.0.2.250 \
  --haproxies-ssh 192.0.2.11:2985 \
        2>&1 | tee -a /var/log/kolla/letsencrypt/letsencrypt-lego.log


cron -f
