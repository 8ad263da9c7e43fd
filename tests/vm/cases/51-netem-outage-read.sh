#!/bin/sh
# A 10 s total outage (nftables drops on both nodes) during a read, connect
# mode, with the default dead-peer timeout (15 s): the connection rides it
# out. The read completes (or fails cleanly: never other bytes), the
# device is usable within 10 s of the network's return, one import.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
netem_nodes

must ip netns exec appnode usbipa -D --allow-any -P /run/usbipa-n.pid
persist_start devnode agent.log usbip connect --persist -r 10.99.0.2 -b "$b"
vhci_disk_intact "exported over the veth"

netem 25 0
read_in_flight read.out
link_cut
t_cut=$(now_cs)
while within "$t_cut" 10; do sleep 0.5; done
t_back=$(now_cs)
link_restore
must_wait 30 "the device usable again" vhci_disk_usable
log "usable $(since "$t_back") s after a 10 s outage"
within "$t_back" 10 || fail "usable only $(since "$t_back") s after the network returned"
read_ended_cleanly read.out
one_import || fail "$(vhci_used_ports | wc -l) imports, want 1"
kill -0 $agent || fail "the agent died"
netem_off
vhci_disk_intact "after the outage"
persist_stop
kill "$(cat /run/usbipa-n.pid)"
