#!/bin/sh
# The silent outage of 52, classic mode: usbipd on the device node,
# `usbip attach --persist` on the application node, both with a dead-peer
# timeout of 5 s; once with a read in flight, once idle. The follower
# notices within the timeout, the device is usable within 10 s of the
# network's return, one import, the disk identical (20 s outages: see 52).
# Then the agent's [attach] rule: detached when the agent stops.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
T=5
OUTAGE=20
netem_nodes open

must ip netns exec devnode usbipd -D --dead-peer-timeout $T -P /run/usbipd-n.pid
must ip netns exec devnode usbip bind -b "$b"
persist_start appnode follower.log usbip attach --persist --dead-peer-timeout $T \
    -r 10.99.0.1 -b "$b"
vhci_disk_intact "attached over the veth"

netem 25 0
read_in_flight read.out
silent_outage "classic, read in flight" follower.log "lost its connection" $T $OUTAGE $agent
after_read read.out "after the outage with a read in flight"

silent_outage "classic, idle" follower.log "lost its connection" $T $OUTAGE $agent
vhci_disk_intact "after the idle outage"

persist_stop
must_wait 20 "the device available again on the device node" usbip_host_status_is "$b" 1

# The same follower as the agent's [attach] rule: SIGTERM (systemd's stop)
# detaches its device, so that nothing stays in use on the device node.
cat >agent.conf <<CONF
[agent]
dead-peer-timeout = $T
[attach disk]
remote = 10.99.0.1
busid = $b
max-attempts = 100
CONF
persist_start appnode agent.log usbip agent --config agent.conf
vhci_disk_intact "attached by the agent's [attach] rule"
persist_stop
must_wait 20 "available again on the device node after the agent stopped" \
    usbip_host_status_is "$b" 1
kill "$(cat /run/usbipd-n.pid)"
