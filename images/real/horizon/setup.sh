set -euo pipefail
# The dashboard's configuration directory, as kolla's config.json fills it: local_settings.d
# (the settings snippets) and the services' policy files (POLICY_FILES_PATH), with the
# wheel's defaults. openstack_dashboard/local/ points there for both.
site=/var/lib/kolla/venv/lib/python3/site-packages
dash=$site/openstack_dashboard
mkdir -p /etc/openstack-dashboard/local_settings.d /var/lib/horizon
cp -a "$dash/conf/." /etc/openstack-dashboard/
rm -rf "$dash/local/local_settings.d"
ln -s /etc/openstack-dashboard/local_settings.d "$dash/local/local_settings.d"
ln -s /etc/openstack-dashboard/local_settings "$dash/local/local_settings.py"
chown -R horizon:horizon /etc/openstack-dashboard /var/lib/horizon
chmod 0644 /usr/local/bin/kolla_horizon_extend_start

# The default settings' static files, collected now (STATIC_ROOT, which uWSGI's static-map
# serves) so that the start only adds to them; owned by horizon, which compresses into it.
# A secret key for this one run only (the settings require one).
mkdir -p "$site/static"
echo "SECRET_KEY = 'build-only'" > /etc/openstack-dashboard/local_settings.d/_0000-build.py
/var/lib/kolla/venv/bin/python /usr/local/bin/manage.py collectstatic --noinput --verbosity 0
rm /etc/openstack-dashboard/local_settings.d/_0000-build.py
chown -R horizon:horizon "$site/static"
# What the settings snippets of a run may write (LOCAL_PATH's secret key store).
chown horizon:horizon "$dash/local"
test -d "$site/static/horizon"
