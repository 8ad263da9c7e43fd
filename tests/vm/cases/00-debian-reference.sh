#!/bin/sh
# Debian's own usbip/usbipd (the kernel's tools, in /opt/debian) export QEMU's
# usb-storage disk over loopback and import it again through vhci_hcd; the
# disk read through USB/IP must have the expected contents.  Proves the
# harness, the kernel modules and the reference tools.
# shellcheck source=lib.sh
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk (VMTEST_DISK_SHA256 unset)"

b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device $QEMU_STORAGE_ID"
log "usb-storage busid: $b ($(usb_path "$b"))"
[ "$(usb_if_driver "$b")" = usb-storage ] || fail "$b:1.0 not bound to usb-storage"
d0=$(disk_of_busid "$b") || fail "no disk for $b"
log "local disk: $d0 ($(cat "/sys/block/$d0/size") sectors)"
sum=$(disk_sha256 "$d0")
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "local disk sha256 $sum != $VMTEST_DISK_SHA256"

debian_usbipd_start

must "$DEBIAN_USBIP" list -l >list-l.out
cat list-l.out
grep -q "busid $b (46f4:0001)" list-l.out || fail "usbip list -l does not show $b"

# --- export
must "$DEBIAN_USBIP" bind -b "$b"
must_wait 10 "$b bound to usbip-host" usb_driver_is "$b" usbip-host
[ "$(usbip_host_status "$b")" = 1 ] || fail "usbip_status of $b is $(usbip_host_status "$b"), want 1 (available)"
grep -qw "$b" /sys/bus/usb/drivers/usbip-host/match_busid || fail "$b not in usbip-host/match_busid"
must_wait 10 "local disk of $b to go away" not disk_of_busid "$b"

must "$DEBIAN_USBIP" list -r 127.0.0.1 >list-r.out
cat list-r.out
grep -q "$b: .*(46f4:0001)" list-r.out || fail "usbip list -r 127.0.0.1 does not show $b"
must "$DEBIAN_USBIP" list -r ::1 >list-r6.out
grep -q "$b: .*(46f4:0001)" list-r6.out || fail "usbip list -r ::1 does not show $b"

# --- import
must "$DEBIAN_USBIP" attach -r 127.0.0.1 -b "$b"
must_wait 30 "a disk on vhci_hcd" vhci_disk
d1=$(vhci_disk)
must_wait 30 "/dev/$d1 ready" disk_ready "$d1"
vb=$(usb_busid_vhci "$QEMU_STORAGE_ID") || fail "no imported device on vhci"
log "imported: busid $vb ($(usb_path "$vb")), disk $d1"
[ "$(usbip_host_status "$b")" = 2 ] || fail "usbip_status of $b is $(usbip_host_status "$b"), want 2 (used)"
vhci_status | grep -v ' 004 ' || true
port=$(vhci_port_of "$vb") || fail "$vb not in the vhci status files"
log "vhci port: $port"
[ -e "/var/run/vhci_hcd/port$port" ] && log "Debian state file port$port: $(cat "/var/run/vhci_hcd/port$port")"
must "$DEBIAN_USBIP" port >port.out
cat port.out
grep -q "Port $(printf %02d "$port"): <Port in Use>" port.out || fail "usbip port does not list port $port in use"

sum=$(disk_sha256 "$d1")
log "sha256 through USB/IP: $sum"
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "sha256 through USB/IP $sum != expected $VMTEST_DISK_SHA256"

# --- detach and unexport
must "$DEBIAN_USBIP" detach -p "$port"
must_wait 20 "the vhci disk to go away" not vhci_disk
must_wait 10 "vhci port $port free" not vhci_port_of "$vb"
must_wait 10 "usbip_status of $b back to 1" usbip_host_status_is "$b" 1

must "$DEBIAN_USBIP" unbind -b "$b"
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
must_wait 30 "local disk of $b back" disk_of_busid "$b"
d2=$(disk_of_busid "$b")
must_wait 10 "/dev/$d2 ready" disk_ready "$d2"
sum=$(disk_sha256 "$d2")
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "local disk sha256 after unbind $sum != $VMTEST_DISK_SHA256"
log "disk back as $d2, contents intact"

debian_usbipd_stop
