#!/bin/sh
# usbip serve-mtp imported with our `usbip attach` through the kernel's
# vhci-hcd, used by libmtp's mtp-tools: detect, list files and folders, get
# files back with the same sha256, send a file, make a folder, delete,
# rename, and a change made under DIR while attached shows up in the next
# listing.
. /tests/lib.sh
mtp_need_tools
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT
mtp_make_tree /tmp/mtpdir
mtp_serve /tmp/mtpdir
must usbip list -r 127.0.0.1
must usbip attach -r 127.0.0.1 -b 1-1
mtp_wait_device
mtp_scenario /tmp/mtpdir || fail "scenario"
log "serve-mtp through our usbip attach: all scenarios passed"
