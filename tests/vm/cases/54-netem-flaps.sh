#!/bin/sh
# Five 3 s flaps (silent: nftables drops) with a read in flight, connect
# mode, dead-peer timeout 5 s on both ends: the read completes or fails
# cleanly, the device is usable within 10 s of the last flap, one import,
# the agent alive, the disk identical.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
T=5
connect_nodes $T

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
usable_within "five 3 s flaps" "$t_back" 10
after_read read.out "after five flaps"
connect_nodes_stop
