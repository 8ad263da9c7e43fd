#!/bin/sh
# A silent outage (nftables drops on both nodes: no FIN, no RST), connect
# mode: once with a read in flight, once idle. The device node's agent
# notices within its dead-peer timeout, the device is usable within 10 s
# of the network's return, one import remains, and the disk reads back
# identical. The outage is 150 s; here it is 20 s with a 5 s
# timeout: past the timeout both ends have dropped the connection, so a
# longer outage only makes the agent try more often (a pause of at most
# 5 s), which is what 20 s already shows.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
T=5
OUTAGE=20
connect_nodes $T

# With a read in flight (stretched by 25 ms each way, so that it is).
netem 25 0
read_in_flight read1.out
silent_outage "read in flight" agent.log dropped $T $OUTAGE $agent
after_read read1.out "after the outage with a read in flight"

silent_outage "idle" agent.log dropped $T $OUTAGE $agent
vhci_disk_intact "after the idle outage"
one_import || fail "more than one import"

connect_nodes_stop
