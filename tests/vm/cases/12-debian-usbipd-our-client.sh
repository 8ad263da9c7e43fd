#!/bin/sh
# Debian's usbipd (the kernel's own daemon) serves our usbip: list -r,
# attach, port, detach, with the disk read back through vhci-hcd.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
debian_usbipd_start
must "$DEBIAN_USBIP" bind -b "$b"
must_wait 10 "local disk gone" not disk_of_busid "$b"

must usbip list -r 127.0.0.1 >list.out
cat list.out
grep -q "$b: .*(46f4:0001)" list.out || fail "our list -r does not show $b"
must usbip list -r ::1 -p >list-p.out
grep -q "busid=$b#usbid=46f4:0001#" list-p.out || fail "our list -r -p over IPv6 does not show $b"

must usbip attach -r 127.0.0.1 -b "$b" >attach.out
port=$(sed -n 's/.* to port \([0-9]*\)$/\1/p' attach.out)
vhci_disk_intact "our attach"
must usbip port >port.out
cat port.out
grep -q "Port $(printf %02d "$port"): <Port in Use>" port.out || fail "port does not list $port"
must usbip detach -p "$port"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 10 "usbip_status back to 1" usbip_host_status_is "$b" 1

# And again: the device can be imported a second time.
must usbip attach -r 127.0.0.1 -b "$b"
must_wait 30 "a disk on vhci_hcd again" vhci_disk
must usbip detach --all
must_wait 20 "vhci disk gone" not vhci_disk
debian_usbipd_stop
