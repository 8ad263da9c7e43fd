#!/bin/sh
# Bad peers against our usbipd with a real device bound: random bytes,
# truncated and malformed PDUs, floods, idle connections past its slots.
# Nothing gets attached or changes the device's state, the daemon stays up,
# and a good client then imports the disk and reads it intact.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
must usbipd -D -P /run/usbipd.pid
must_wait 10 "usbipd listening" tcp_listening 3240
pid=$(cat /run/usbipd.pid)
must usbip bind -b "$b"

alive() {
    kill -0 "$pid" || fail "usbipd died after: $1"
    usbip_host_status_is "$b" 1 || fail "usbip_status changed to $(usbip_host_status "$b") after: $1"
    [ -z "$(vhci_used_ports)" ] || fail "a vhci port got used after: $1"
    usbip list -r 127.0.0.1 >alive.out 2>&1 || { cat alive.out; fail "no device list after: $1"; }
    grep -q "$b:" alive.out || fail "device list lacks $b after: $1"
    log "still serving after: $1"
}

must bad_peer 127.0.0.1 3240 garbage 200
alive "random bytes from 200 connections"
must bad_peer 127.0.0.1 3240 truncated
alive "truncated requests"
must bad_peer 127.0.0.1 3240 fields
alive "malformed fields"
must bad_peer ::1 3240 flood 500
alive "500 connections opened and closed"
bad_peer 127.0.0.1 3240 hold 300 12 &
holder=$!
sleep 2
alive "300 idle connections held open"
wait $holder

# Many good clients at once.
i=0
while [ $i -lt 20 ]; do
    usbip list -r 127.0.0.1 >"many.$i.out" 2>&1 &
    i=$((i + 1))
done
wait
i=0
while [ $i -lt 20 ]; do
    grep -q "$b:" "many.$i.out" || fail "client $i of 20 concurrent ones got no list: $(cat "many.$i.out")"
    i=$((i + 1))
done
log "20 concurrent clients all got the list"

must usbip attach -r 127.0.0.1 -b "$b"
vhci_disk_intact "attach after the bad peers"
must usbip detach --all
must_wait 20 "vhci disk gone" not vhci_disk
