#!/bin/sh
# Latency and loss, connect mode: 25 ms each way (50 ms RTT) and 1% loss
# each way (2% of round trips) on the veth between the two nodes. The device is exported,
# attached, and the whole disk reads back identical; one import. Logs how
# long it took to be usable after the export started, and the read's rate.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
netem_nodes
netem 25 1

must ip netns exec appnode usbipa -D --allow-any -P /run/usbipa-n.pid
t0=$(now_cs)
persist_start devnode agent.log usbip connect --persist -r 10.99.0.2 -b "$b"
must_wait 60 "the device usable at 50 ms RTT, 1% loss each way" vhci_disk_usable
log "plugged to usable at 50 ms RTT, 1% loss each way: $(since "$t0") s"
t1=$(now_cs)
vhci_disk_intact "at 50 ms RTT, 1% loss each way"
log "16 MiB read in $(since "$t1") s"
one_import || fail "$(vhci_used_ports | wc -l) imports, want 1"
persist_stop
kill "$(cat /run/usbipa-n.pid)"
