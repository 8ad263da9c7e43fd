#!/bin/sh
# usbipa's policy and robustness: a device or host that is not allowed is
# refused with a clear status and a log line, and nothing is attached; the
# serial can be part of the rule; garbage does not stop usbipa.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
serial=$(cat "/sys/bus/usb/devices/$b/serial")

# Only keyboards allowed: the disk is refused.
usbipa -t 3270 --allow-device 0627:0001 >usbipa1.log 2>&1 &
pid=$!
must_wait 10 "usbipa listening" tcp_listening 3270
usbip -t 3270 connect -r 127.0.0.1 -b "$b" --timeout 0 >refused.out 2>&1
rc=$?
cat refused.out
[ $rc -eq 5 ] || fail "refused export exited $rc, want 5"
grep -q "not accepted" refused.out || fail "the device side was not told why"
grep -q "refused device $b 46f4:0001" usbipa1.log || fail "usbipa did not log the refusal"
# On the wire, the export patch series' statuses: a refusal by policy is
# 1 (not accepted), an unexport of a device not attached 3 (no such device).
st=$(bad_peer 127.0.0.1 3270 export) || fail "no proper OP_REP_EXPORT"
[ "$st" = "status 1" ] || fail "a refused export answered '$st', want status 1"
st=$(bad_peer 127.0.0.1 3270 unexport) || fail "no proper OP_REP_UNEXPORT"
[ "$st" = "status 3" ] || fail "unexport of a device not attached answered '$st', want status 3"
[ -z "$(vhci_used_ports)" ] || fail "a refused device got attached"
usb_if_driver_is "$b" usb-storage || fail "the refused device was not given back to usb-storage"
kill $pid
wait $pid

# Only another network allowed: refused too.
usbipa -t 3271 --allow-host 192.0.2.0/24 >usbipa2.log 2>&1 &
pid=$!
must_wait 10 "usbipa listening" tcp_listening 3271
usbip -t 3271 connect -r 127.0.0.1 -b "$b" --timeout 0 && fail "export from a host not allowed succeeded"
grep -q "not an allowed host" usbipa2.log || fail "usbipa did not log the refused host"
[ -z "$(vhci_used_ports)" ] || fail "a refused host got a device attached"
kill $pid
wait $pid

# The right serial is accepted, a wrong one refused.
usbipa -t 3272 --allow-device "46f4:0001:not-$serial" >usbipa3.log 2>&1 &
pid=$!
must_wait 10 "usbipa listening" tcp_listening 3272
usbip -t 3272 connect -r 127.0.0.1 -b "$b" --timeout 0 && fail "a wrong serial was accepted"
kill $pid
wait $pid
usbipa -t 3273 --allow-host 127.0.0.1 --allow-device "46f4:0001:$serial" >usbipa4.log 2>&1 &
pid=$!
must_wait 10 "usbipa listening" tcp_listening 3273

# Garbage first; then the allowed device gets through.
must bad_peer 127.0.0.1 3273 garbage 200
must bad_peer 127.0.0.1 3273 truncated
must bad_peer 127.0.0.1 3273 fields
kill -0 $pid || fail "usbipa died from garbage"
[ -z "$(vhci_used_ports)" ] || fail "garbage got something attached"
must usbip -t 3273 connect -r 127.0.0.1 -b "$b"
vhci_disk_intact "allowed by serial after the garbage"
grep -q "serial $serial" usbipa4.log || fail "usbipa did not log the serial"
must usbip -t 3273 disconnect -r 127.0.0.1 -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
kill $pid
