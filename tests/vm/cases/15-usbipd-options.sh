#!/bin/sh
# usbipd's options: another TCP port, one address family only, a pid file
# that keeps a second instance out, and TCP wrappers (hosts.allow/deny).
. /tests/lib.sh

b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
must usbip bind -b "$b"

# --tcp-port and -4: IPv4 on 3241 only.
must usbipd -D -4 --tcp-port 3241 --pid /run/usbipd-a.pid
must_wait 10 "usbipd on 3241" tcp_listening 3241
must usbip --tcp-port 3241 list -r 127.0.0.1 >v4.out
grep -q "$b:" v4.out || fail "list -r on port 3241 does not show $b"
usbip -t 3241 list -r ::1 >v6.out 2>&1
rc=$?
cat v6.out
[ $rc -eq 4 ] || fail "IPv6 reached a daemon started with -4 (exit $rc, want 4 unreachable)"
mustfail usbip list -r 127.0.0.1 # nothing on the default port

# The pid file is locked: a second daemon with the same file refuses to run.
usbipd -t 3242 --pid=/run/usbipd-a.pid >second.out 2>&1
rc=$?
cat second.out
[ $rc -ne 0 ] || fail "a second usbipd with the same pid file started"
grep -q "another instance" second.out || fail "the second usbipd did not say why"
[ "$(cat /run/usbipd-a.pid)" -gt 1 ] && kill -0 "$(cat /run/usbipd-a.pid)" || fail "pid file does not name a live usbipd"

# TCP wrappers: deny all, then allow IPv4 loopback only.
[ -e /etc/hosts.deny ] && cp /etc/hosts.deny hosts.deny.saved
echo "usbipd: ALL" >/etc/hosts.deny
usbip -t 3241 list -r 127.0.0.1 >denied.out 2>&1 && { rm -f /etc/hosts.deny; fail "hosts.deny did not refuse"; }
cat denied.out
echo "usbipd: 127.0.0.1" >/etc/hosts.allow
usbip -t 3241 list -r 127.0.0.1 >allowed.out 2>&1
rc=$?
rm -f /etc/hosts.deny /etc/hosts.allow
[ $rc -eq 0 ] || fail "hosts.allow did not let 127.0.0.1 in: $(cat allowed.out)"
kill "$(cat /run/usbipd-a.pid)"
must_wait 5 "usbipd gone" tcp_not_listening 3241

# -6: IPv6 only.
must usbipd -D -6 --pid /run/usbipd-b.pid
must_wait 10 "usbipd on 3240" tcp_listening 3240
must usbip list -r ::1 >v6only.out
grep -q "$b:" v6only.out || fail "list -r ::1 does not show $b"
usbip list -r 127.0.0.1 >/dev/null 2>&1 && fail "IPv4 reached a daemon started with -6"
kill "$(cat /run/usbipd-b.pid)"
