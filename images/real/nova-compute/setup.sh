set -euo pipefail
mkdir -p /var/lib/nova/instances && chown -R nova:nova /var/lib/nova
# the venv's interpreter finds the binding, and nova's libvirt driver imports
/var/lib/kolla/venv/bin/python -c 'import libvirt, nova.virt.libvirt.driver'
command -v qemu-img >/dev/null
