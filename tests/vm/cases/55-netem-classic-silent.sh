#!/bin/sh
# The silent outage of 52, classic mode: usbipd on the device node,
# `usbip attach --persist` on the application node, both with a dead-peer
# timeout of 5 s; once with a read in flight, once idle. The follower
# notices within the timeout, the device is usable within 10 s of the
# network's return, one import, the disk identical (20 s outages: see 52).
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
T=5
OUTAGE=20
netem_nodes open

must ip netns exec devnode usbipd -D --dead-peer-timeout $T -P /run/usbipd-n.pid
must ip netns exec devnode usbip bind -b "$b"
trap 'echo "--- follower.log"; cat follower.log' EXIT
ip netns exec appnode usbip attach --persist -P /run/agent-n.pid --dead-peer-timeout $T -r 10.99.0.1 -b "$b" \
    >follower.log 2>&1 &
must_wait 10 "the follower's pid file" test -s /run/agent-n.pid
follower=$(cat /run/agent-n.pid)
vhci_disk_intact "attached over the veth"

netem 25 0
read_in_flight read.out
silent_outage "classic, read in flight" follower.log "lost its connection" $T $OUTAGE $follower
read_ended_cleanly read.out
netem_off
vhci_disk_intact "after the outage with a read in flight"

silent_outage "classic, idle" follower.log "lost its connection" $T $OUTAGE $follower
vhci_disk_intact "after the idle outage"

kill $follower
must_wait 30 "vhci disk gone after SIGTERM" not vhci_disk
must_wait 10 "the follower ended" not kill -0 $follower
must_wait 20 "the device available again on the device node" usbip_host_status_is "$b" 1
kill "$(cat /run/usbipd-n.pid)"
