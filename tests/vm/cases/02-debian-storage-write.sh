#!/bin/sh
# Writes through USB/IP with Debian's tools: a block written to the imported
# disk must be on the emulated disk once it is back on its local driver.
# The disk's original contents are restored at the end.
# shellcheck source=lib.sh
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk (VMTEST_DISK_SHA256 unset)"
BS=65536 SEEK=16 # one 64 KiB block at 1 MiB

b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
d0=$(disk_of_busid "$b") || fail "no disk for $b"
must dd if="/dev/$d0" of=orig.bin bs=$BS skip=$SEEK count=1
must dd if=/dev/urandom of=new.bin bs=$BS count=1
cmp -s orig.bin new.bin && fail "random block equals the disk's block"

debian_usbipd_start
must "$DEBIAN_USBIP" bind -b "$b"
must "$DEBIAN_USBIP" attach -r 127.0.0.1 -b "$b"
must_wait 30 "a disk on vhci_hcd" vhci_disk
d1=$(vhci_disk)
must_wait 30 "/dev/$d1 ready" disk_ready "$d1"
log "imported disk: $d1"

must dd if=new.bin of="/dev/$d1" bs=$BS seek=$SEEK count=1 conv=fsync
must blockdev --flushbufs "/dev/$d1"
echo 3 >/proc/sys/vm/drop_caches
must dd if="/dev/$d1" of=back.bin bs=$BS skip=$SEEK count=1
cmp -s new.bin back.bin || fail "block read back through USB/IP differs from the one written"

port=$(vhci_port_of "$(usb_busid_vhci "$QEMU_STORAGE_ID")") || fail "no vhci port"
must "$DEBIAN_USBIP" detach -p "$port"
must_wait 20 "the vhci disk to go away" not vhci_disk
must_wait 10 "usbip_status of $b back to 1" usbip_host_status_is "$b" 1
must "$DEBIAN_USBIP" unbind -b "$b"
must_wait 30 "local disk of $b back" disk_of_busid "$b"
d2=$(disk_of_busid "$b")
must_wait 10 "/dev/$d2 ready" disk_ready "$d2"

must dd if="/dev/$d2" of=local.bin bs=$BS skip=$SEEK count=1
cmp -s new.bin local.bin || fail "the block written through USB/IP is not on the emulated disk"
log "block written through USB/IP found on the local disk $d2"

# restore
must dd if=orig.bin of="/dev/$d2" bs=$BS seek=$SEEK count=1 conv=fsync
must blockdev --flushbufs "/dev/$d2"
echo 3 >/proc/sys/vm/drop_caches
sum=$(disk_sha256 "$d2")
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "disk not restored: sha256 $sum"
debian_usbipd_stop
