#!/bin/sh
# usbipd keeps serving whatever its peers send: after each kind of bad peer
# the daemon must be alive and answer a good `usbip list -r` over IPv4 and
# IPv6. Runs on the build host (no USB needed: the device list is empty) and
# so also under ASan/UBSan. Prints TAP.
set -u
builddir=${top_builddir:-.}
usbip=$builddir/src/usbip
bad_peer=$builddir/tests/tools/bad_peer
log=$(mktemp)
pid=
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT

good_request() {
	"$usbip" -t "$port" list -r 127.0.0.1 | grep -q "no exportable devices found on 127.0.0.1" &&
		"$usbip" -t "$port" list -r ::1 | grep -q "no exportable devices found on ::1"
}

. "${top_srcdir:-.}/tests/daemon/lib.sh"
daemon_start "$log" "$builddir/src/usbipd" -t 0 -d
pid=$daemon_pid port=$daemon_port
. "${top_srcdir:-.}/tests/daemon/bad_peers.inc"
run_bad_peers
