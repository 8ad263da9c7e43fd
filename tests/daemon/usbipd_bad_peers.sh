#!/bin/sh
# usbipd keeps serving whatever its peers send: after each kind of bad peer
# the daemon must be alive and answer a good `usbip list -r` over IPv4 and
# IPv6. Runs on the build host (no USB needed: the device list is empty) and
# so also under ASan/UBSan. Prints TAP.
set -u
builddir=${top_builddir:-.}
usbip=$builddir/src/usbip
bad_peer=$builddir/tests/tools/bad_peer
port=$((20000 + $$ % 20000))
log=$(mktemp)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT

good_request() {
	"$usbip" -t "$port" list -r 127.0.0.1 | grep -q "no exportable devices found on 127.0.0.1" &&
		"$usbip" -t "$port" list -r ::1 | grep -q "no exportable devices found on ::1"
}

"$builddir/src/usbipd" -t "$port" -d >"$log" 2>&1 &
pid=$!
. "${top_srcdir:-.}/tests/daemon/bad_peers.inc"
run_bad_peers
