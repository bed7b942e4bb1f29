set -euo pipefail
# No default NAT network (it would start a bridge and dnsmasq on the host): nova's guests use
# neutron's ports, or none.
rm -f /etc/libvirt/qemu/networks/autostart/default.xml
# The guests run as nova (qemu.conf's user/group), whose instances directory is shared with
# nova-compute through the nova_compute volume.
mkdir -p /var/lib/nova/instances && chown nova:nova /var/lib/nova /var/lib/nova/instances
test -x /usr/sbin/libvirtd && test -x /usr/sbin/virtlogd && test -x /usr/bin/qemu-system-x86_64
ls /usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so >/dev/null
