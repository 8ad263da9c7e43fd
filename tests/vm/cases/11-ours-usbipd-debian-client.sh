#!/bin/sh
# Our usbipd serves Debian's usbip (the kernel's own tools): list -r and
# attach, disk read back through vhci-hcd, Debian's detach.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
must usbipd -D -P /run/usbipd.pid
must_wait 10 "usbipd listening" tcp_listening 3240
must usbip bind -b "$b"
must_wait 10 "local disk gone" not disk_of_busid "$b"

must "$DEBIAN_USBIP" list -r 127.0.0.1 >list.out
cat list.out
grep -q "$b: .*(46f4:0001)" list.out || fail "Debian's list -r does not show $b"
grep -q "0 - Mass Storage / SCSI / Bulk-Only" list.out || fail "Debian's list -r shows no interface"
must "$DEBIAN_USBIP" attach -r 127.0.0.1 -b "$b"
vhci_disk_intact "Debian attach"
vb=$(usb_busid_vhci "$QEMU_STORAGE_ID") || fail "no imported device"
port=$(vhci_port_of "$vb")
must usbip port >port.out
cat port.out
grep -q "usbip://127.0.0.1:3240/$b" port.out || fail "our port does not read Debian's record"
must "$DEBIAN_USBIP" detach -p "$port"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 10 "usbip_status back to 1" usbip_host_status_is "$b" 1
