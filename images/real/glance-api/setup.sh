set -euo pipefail
# The file store ([file] filesystem_store_datadir) and the tasks' work and staging stores.
mkdir -p /etc/glance /var/lib/glance/images /var/lib/glance/tasks_work_dir /var/lib/glance/staging
chown -R glance:glance /etc/glance /var/lib/glance
# The wheel puts glance's own files in the venv's etc: the paste pipeline (glance-api-paste.ini,
# which uWSGI's app loads from /etc/glance), rootwrap, and the metadefs that
# `glance-manage db_load_metadefs` reads. The sample .conf files stay behind: config.json
# copies the rendered glance-api.conf.
src=/var/lib/kolla/venv/etc/glance
cp -a "$src/glance-api-paste.ini" "$src/rootwrap.conf" "$src/rootwrap.d" "$src/metadefs" /etc/glance/
chown -R root:root /etc/glance/rootwrap.conf /etc/glance/rootwrap.d
ls /etc/glance/metadefs/*.json /etc/glance/glance-api-paste.ini >/dev/null
