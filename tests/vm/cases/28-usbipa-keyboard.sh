#!/bin/sh
# usbipa refuses what nobody allowed, and keyboards unless named: with no
# allow-list every export is refused (status 1, a log line, a warning at
# start); --allow-any accepts a disk, but QEMU's usb-kbd (a HID boot
# keyboard) is held unauthorized on vhci and detached before any driver
# has it; an --allow-device rule naming it lets it in, and usbhid binds.
. /tests/lib.sh

kb=$(usb_busid_local "$QEMU_HID_ID" Keyboard) || fail "no usb-kbd device"
disk=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
on_vhci() { usb_busid_vhci "$QEMU_HID_ID" >/dev/null; }
usbhid_on_vhci() { _v=$(usb_busid_vhci "$QEMU_HID_ID") && usb_if_driver_is "$_v" usbhid; }

# Nothing allowed: refused, and said so at start and per export.
usbipa -t 3280 >none.log 2>&1 &
pid=$!
must_wait 10 "usbipa listening" tcp_listening 3280
grep -q "every export is refused" none.log || fail "usbipa did not say at start that it refuses all"
usbip -t 3280 connect -r 127.0.0.1 -b "$disk" --timeout 0 >none.out 2>&1
rc=$?
[ $rc -eq 5 ] || fail "an export to a usbipa that allows nothing exited $rc, want 5"
grep -q "nothing is allowed" none.log || fail "usbipa did not log why it refused"
[ -z "$(vhci_used_ports)" ] || fail "something got attached"
must_wait 20 "$disk back on usb-storage" usb_if_driver_is "$disk" usb-storage
kill $pid
wait $pid

# --allow-any: the keyboard is attached, held, and detached unbound.
usbipa -t 3281 --allow-any >any.log 2>&1 &
pid=$!
must_wait 10 "usbipa listening" tcp_listening 3281
must usbip -t 3281 connect -r 127.0.0.1 -b "$kb" --timeout 0
must_wait 20 "usbipa to refuse the keyboard" grep -q "a keyboard needs an --allow-device rule" any.log
must_wait 20 "the keyboard to leave vhci" not on_vhci
dmesg | grep -q "input: QEMU USB Keyboard as .*vhci_hcd" &&
    fail "the refused keyboard got an input device through vhci"
# usbipa detached it already: the withdrawal finds nothing (5); the device comes back.
usbip -t 3281 disconnect -r 127.0.0.1 -b "$kb"
must_wait 20 "$kb back on usbhid" usb_if_driver_is "$kb" usbhid

# --allow-any still lets a disk through (authorized once looked at).
must usbip -t 3281 connect -r 127.0.0.1 -b "$disk"
vhci_disk_intact "a disk with --allow-any"
must usbip -t 3281 disconnect -r 127.0.0.1 -b "$disk"
must_wait 20 "vhci disk gone" not vhci_disk
kill $pid
wait $pid

# A rule naming the keyboard: it is let in and usbhid binds on vhci.
usbipa -t 3282 --allow-device "$QEMU_HID_ID" >named.log 2>&1 &
pid=$!
must_wait 10 "usbipa listening" tcp_listening 3282
must usbip -t 3282 connect -r 127.0.0.1 -b "$kb" --timeout 0
must_wait 30 "usbhid on the imported keyboard" usbhid_on_vhci
grep -q "a keyboard needs" named.log && fail "the named keyboard was refused"
must usbip -t 3282 disconnect -r 127.0.0.1 -b "$kb"
must_wait 20 "the keyboard to leave vhci" not on_vhci
kill $pid
wait $pid
