#!/var/lib/kolla/venv/bin/python
"""Django's command line for the dashboard: collectstatic and compress at start (the wheel
ships no manage.py of its own)."""
import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openstack_dashboard.settings")
    execute_from_command_line(sys.argv)
