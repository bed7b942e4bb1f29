# base, before its packages: nothing starts at build time, apt keeps no binary caches, dpkg
# installs no documentation, manual pages or translations (in this layer or any later one).
set -euo pipefail
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' > /etc/apt/apt.conf.d/01kollars-nocache
cat > /etc/dpkg/dpkg.cfg.d/01kollars-nodoc <<'CFG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
CFG
find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
find /usr/share/man /usr/share/info -mindepth 1 -delete
find /usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
rm -f /var/cache/apt/*.bin /var/log/bootstrap.log
