#!/bin/sh
# Staying connected: `usbip connect --persist` waits for a usbipa that is
# not up yet, exports again after usbipa restarts and after the device is
# unplugged and plugged back in, and withdraws cleanly on SIGTERM.
# Bound stated: the device is back within 35 s of usbipa's return (the
# longest pause between attempts is 5 s: agent/backoff.h); measured times are logged.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
secs() { awk '{ print int($1) }' /proc/uptime; }

# Started before the server exists: it waits.
must usbip -t 3260 connect --persist -D -P /run/connect.pid -r 127.0.0.1 -b "$b" &
sleep 2
must usbipa -D --allow-any -t 3260 -P /run/usbipa.pid
t0=$(secs)
vhci_disk_intact "exported once usbipa came up"
wait
log "device attached $(($(secs) - t0)) s after usbipa started"

# usbipa restarts: it detaches what it attached; the node exports again.
kill "$(cat /run/usbipa.pid)"
must_wait 20 "vhci disk gone after usbipa stopped" not vhci_disk
sleep 3
must usbipa -D --allow-any -t 3260 -P /run/usbipa.pid
t0=$(secs)
must_wait 35 "the device back after usbipa's restart" vhci_disk
vhci_disk_intact "after usbipa's restart"
log "device back $(($(secs) - t0)) s after usbipa restarted"

# The device is unplugged and plugged back in (its hub port disabled).
portdir=$(ls -d /sys/bus/usb/devices/"${b%%-*}"-0:1.0/usb"${b%%-*}"-port"${b##*-}" 2>/dev/null)
[ -n "$portdir" ] || fail "no hub port for $b"
echo 1 >"$portdir/disable"
must_wait 20 "the device gone from vhci" not vhci_disk
must_wait 10 "$b gone" not test -e "/sys/bus/usb/devices/$b"
sleep 1
echo 0 >"$portdir/disable"
t0=$(secs)
must_wait 35 "the device back after replug" vhci_disk
vhci_disk_intact "after replug"
log "device back $(($(secs) - t0)) s after it was plugged back in"

# SIGTERM: unexport and give the device back.
kill "$(cat /run/connect.pid)"
must_wait 20 "vhci disk gone after SIGTERM" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
must_wait 10 "connect --persist gone" not test -e /run/connect.pid
kill "$(cat /run/usbipa.pid)"
