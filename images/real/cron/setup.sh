set -euo pipefail
# The daily job that runs logrotate with /etc/logrotate.conf, which config.json replaces with
# the rendered one (every kolla log directory named there).
command -v cron logrotate >/dev/null
test -x /etc/cron.daily/logrotate
