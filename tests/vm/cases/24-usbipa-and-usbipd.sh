#!/bin/sh
# usbipa and usbipd on one machine, on different ports: the keyboard is
# imported the classic way through usbipd while the disk is exported to
# usbipa with connect; both work at once.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
k=$(usb_busid_local "$QEMU_HID_ID" Keyboard) || fail "no usb-kbd device"
must usbipd -D -P /run/usbipd.pid
must usbipa -D --allow-any -t 3241 -P /run/usbipa.pid
must_wait 10 "usbipd listening" tcp_listening 3240
must_wait 10 "usbipa listening" tcp_listening 3241

must usbip bind -b "$k"
must usbip attach -r 127.0.0.1 -b "$k"
must usbip -t 3241 connect -r 127.0.0.1 -b "$b"
must_wait 30 "the keyboard on vhci" usb_busid_vhci "$QEMU_HID_ID" Keyboard
vhci_disk_intact "exported to usbipa next to usbipd"
[ "$(vhci_used_ports | wc -l)" -eq 2 ] || fail "expected 2 vhci ports in use: $(vhci_used_ports)"
must usbip port
must usbip -t 3241 disconnect -r 127.0.0.1 -b "$b"
must usbip detach --all
must_wait 20 "vhci ports free" test -z "$(vhci_used_ports)"
kill "$(cat /run/usbipd.pid)" "$(cat /run/usbipa.pid)"
