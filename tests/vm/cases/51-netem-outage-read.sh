#!/bin/sh
# A 10 s total outage (nftables drops on both nodes) during a read, connect
# mode, with the default dead-peer timeout (15 s): the connection rides it
# out. The read completes (or fails cleanly: never other bytes), the
# device is usable within 10 s of the network's return, one import.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
connect_nodes 15

netem 25 0
read_in_flight read.out
link_cut
t_cut=$(now_cs)
while within "$t_cut" 10; do sleep 0.5; done
t_back=$(now_cs)
link_restore
usable_within "a 10 s outage" "$t_back" 10
after_read read.out "after the outage"
connect_nodes_stop
