#!/bin/sh
# The reference: the same client scenario against QEMU's own usb-mtp device
# (46f4:0004), used directly on the guest's xhci. It is only there when the
# guest is booted with one (bench/mtp-bench.sh --reference adds
# -device usb-mtp,rootdir=TREE,readonly=off with a tree like mtp_make_tree's
# and its SHA256SUMS); otherwise this case skips.
. /tests/lib.sh
mtp_need_tools
QEMU_MTP_ID=46f4:0004
b=$(usb_busid_local "$QEMU_MTP_ID") || skip "no QEMU usb-mtp device in this guest (bench/mtp-bench.sh --reference)"
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT
log "QEMU usb-mtp at $b ($(cat "/sys/bus/usb/devices/$b/product" 2>/dev/null))"
must_wait 10 "its usbfs node" mtp_usbfs_ready "$b"
mtp_scenario "" || fail "scenario"
log "QEMU's usb-mtp passes the same scenario (without rename and changes under DIR)"
