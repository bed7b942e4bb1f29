# Operator's Horizon settings (replaces kolla's empty file); rendered as Jinja.
SESSION_TIMEOUT = 7200
OPENSTACK_HOST = "{{ kolla_internal_fqdn }}"
ALLOWED_HOSTS = ["{{ kolla_external_fqdn }}", "{{ api_interface_address }}"]
