#!/bin/sh
# Connect mode over vsock (the kernel's vsock_loopback, CID 1): usbipa
# --listen vsock:3240 only, `usbip connect -r vsock:1:3240` exports the
# disk, read back through vhci-hcd by sha256, then disconnect gives it back.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
modprobe vsock_loopback 2>modprobe.err || skip "no vsock_loopback: $(cat modprobe.err)"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"

usbipa --allow-any --listen vsock:3240 >usbipa.log 2>&1 &
pid=$!
must_wait 10 "usbipa ready" grep -q " ready on vsock:" usbipa.log
cat usbipa.log
tcp_not_listening 3240 || fail "usbipa listens on TCP too"
must usbip connect -r vsock:1:3240 -b "$b"
vhci_disk_intact "exported over vsock"
must usbip disconnect -r vsock:1:3240 -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
kill "$pid"
wait "$pid" || fail "usbipa did not exit 0: $(cat usbipa.log)"
