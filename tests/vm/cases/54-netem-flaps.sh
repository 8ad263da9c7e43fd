#!/bin/sh
# Five 3 s flaps (silent: nftables drops) with a read in flight, connect
# mode, dead-peer timeout 5 s on both ends: the read completes or fails
# cleanly, the device is usable within 10 s of the last flap, one import,
# the agent alive, the disk identical.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
T=5
netem_nodes

must ip netns exec appnode usbipa -D --allow-any --dead-peer-timeout $T -P /run/usbipa-n.pid
persist_start devnode agent.log usbip connect --persist --dead-peer-timeout $T \
    -r 10.99.0.2 -b "$b"
vhci_disk_intact "exported over the veth"

netem 25 0
read_in_flight read.out
for flap in 1 2 3 4 5; do
    link_cut
    t=$(now_cs)
    while within "$t" 3; do sleep 0.2; done
    link_restore
    t=$(now_cs)
    while within "$t" 3; do sleep 0.2; done
done
t_back=$(now_cs)
must_wait 30 "the device usable after the flaps" vhci_disk_usable
log "usable $(since "$t_back") s after the last flap"
within "$t_back" 10 || fail "usable only $(since "$t_back") s after the last flap"
read_ended_cleanly read.out
one_import || fail "$(vhci_used_ports | wc -l) imports, want 1"
kill -0 $agent || fail "the agent died"
netem_off
vhci_disk_intact "after five flaps"
persist_stop
kill "$(cat /run/usbipa-n.pid)"
