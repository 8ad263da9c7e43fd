#!/bin/sh
# The same client scenario with the device imported by Debian's own usbip
# (list -r and attach): serve-mtp answers like any usbipd, and while it is
# imported it is not offered again and a second import is refused as busy.
. /tests/lib.sh
mtp_need_tools
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT
mtp_make_tree /tmp/mtpdir
mtp_serve /tmp/mtpdir
must "$DEBIAN_USBIP" list -r 127.0.0.1 >list.txt 2>&1
cat list.txt
grep -q '1-1:.*1d6b:0100' list.txt || fail "Debian's usbip list -r does not show the device"
must "$DEBIAN_USBIP" attach -r 127.0.0.1 -b 1-1
mtp_wait_device
# imported: no longer offered, a second import is refused
"$DEBIAN_USBIP" list -r 127.0.0.1 >list2.txt 2>&1
grep -q '1d6b:0100' list2.txt && fail "the imported device is still offered"
mustfail "$DEBIAN_USBIP" attach -r 127.0.0.1 -b 1-1
mtp_scenario /tmp/mtpdir || fail "scenario"
# detach: offered again, and a new import works
must "$DEBIAN_USBIP" detach -p "$(vhci_port_of "$MTP_BUSID")"
must_wait 10 "the device gone from vhci" not usb_busid_vhci "$MTP_ID"
must_wait 10 "offered again" sh -c "'$DEBIAN_USBIP' list -r 127.0.0.1 | grep -q 1d6b:0100"
must "$DEBIAN_USBIP" attach -r 127.0.0.1 -b 1-1
mtp_wait_device
must mtp files >files-again.txt 2>/dev/null
grep -q 'Filename: big.bin' files-again.txt || fail "listing after a re-import"
log "serve-mtp through Debian's usbip attach: all scenarios passed"
