#!/bin/sh
# Latency and loss, connect mode: 25 ms each way (50 ms RTT) and 2% loss
# each way on the veth between the two nodes. The device is exported,
# attached, and the whole disk reads back identical; one import. Logs how
# long it took to be usable after the export started, and the read's rate.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
netem_nodes
netem 25 2

must ip netns exec appnode usbipa -D --allow-any -P /run/usbipa-n.pid
trap 'echo "--- agent.log"; cat agent.log' EXIT
t0=$(now_cs)
ip netns exec devnode usbip connect --persist -P /run/agent-n.pid -r 10.99.0.2 -b "$b" >agent.log 2>&1 &
must_wait 10 "the agent's pid file" test -s /run/agent-n.pid
agent=$(cat /run/agent-n.pid)
must_wait 60 "the device usable at 50 ms RTT, 2% loss" vhci_disk_usable
log "plugged to usable at 50 ms RTT, 2% loss: $(since "$t0") s"
t1=$(now_cs)
vhci_disk_intact "at 50 ms RTT, 2% loss"
log "16 MiB read in $(since "$t1") s"
one_import || fail "$(vhci_used_ports | wc -l) imports, want 1"
kill $agent
must_wait 30 "vhci disk gone after SIGTERM" not vhci_disk
kill "$(cat /run/usbipa-n.pid)"
