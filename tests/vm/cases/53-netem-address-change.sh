#!/bin/sh
# The device node's address changes mid-session (a NAT rebinding, a node
# that moved): nothing reaches usbipa, whose own timeout is long (60 s), so
# its import of the device stays until the node comes back. The node's
# agent (timeout 5 s) notices, exports from the new address, and usbipa
# takes it for the same device (busid, IDs and serial) and replaces the
# stale import: re-exported within 10 s + the timeout of the change, one
# import, the disk reads back identical.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
T=5
connect_nodes $T 60
from_new() { grep -q '^10\.99\.0\.3 ' /var/run/vhci_hcd/port* 2>/dev/null; }

t0=$(now_cs)
must ip netns exec devnode ip addr del 10.99.0.1/24 dev vdev
must ip netns exec devnode ip addr add 10.99.0.3/24 dev vdev
must_wait $((T + 20)) "exported from the new address" from_new
log "re-exported from 10.99.0.3 $(since "$t0") s after the address changed (timeout $T s)"
within "$t0" $((T + 10)) || fail "re-exported only $(since "$t0") s after the change"
must_wait 10 "the stale import replaced" one_import
cat /var/run/vhci_hcd/port*
must_wait 30 "the device usable" vhci_disk_usable
vhci_disk_intact "from the new address"
one_import || fail "$(vhci_used_ports | wc -l) imports, want 1"
connect_nodes_stop
