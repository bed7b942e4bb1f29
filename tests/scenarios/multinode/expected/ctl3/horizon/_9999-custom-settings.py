# Operator's Horizon settings (replaces kolla's empty file); rendered as Jinja.
SESSION_TIMEOUT = 7200
OPENSTACK_HOST = "192.0.2.250"
ALLOWED_HOSTS = ["192.0.2.250", "192.0.2.13"]
