#!/bin/sh
# The main job, shown step by step: a QEMU USB disk in the guest is exported
# by usbipd, imported by usbip through the kernel's vhci-hcd over the guest's
# loopback, and read back intact.
. /tests/lib.sh

say() { printf '\n== %s\n' "$*"; }

b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
say "Device side: the USB devices this machine could export"
must usbip list -l

say "Device side: start the daemon, bind the disk ($b) to usbip-host"
must usbipd -D -P /run/usbipd.pid
must_wait 10 "usbipd listening" tcp_listening 3240
must usbip bind -b "$b"

say "Application side: what does 127.0.0.1 export?"
must usbip list -r 127.0.0.1

say "Application side: import it; it appears as a new local disk"
must usbip attach -r 127.0.0.1 -b "$b"
must_wait 30 "a disk on vhci_hcd" vhci_disk
d=$(vhci_disk)
must_wait 30 "/dev/$d ready" disk_ready "$d"
must usbip port
echo "the imported disk is /dev/$d ($(cat "/sys/block/$d/size") sectors)"

say "Read the whole disk through USB/IP and compare with what QEMU was given"
sum=$(disk_sha256 "$d")
echo "sha256 read through vhci-hcd: $sum"
echo "sha256 of the image file:     $VMTEST_DISK_SHA256"
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "the data differs"
echo "identical"

say "Detach, and give the disk back to its own driver"
must usbip detach --all
must_wait 20 "vhci disk gone" not vhci_disk
must usbip unbind -b "$b"
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
echo "done: $b is a local usb-storage disk again"
