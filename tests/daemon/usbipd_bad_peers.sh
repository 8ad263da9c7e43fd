#!/bin/sh
# usbipd keeps serving whatever its peers send: after each kind of bad peer
# (tests/tools/bad_peer) the daemon must be alive and answer a good
# `usbip list -r` within its normal time. Runs on the build host (no USB
# needed: the device list is empty) and so also under ASan/UBSan.
# Prints TAP.
set -u
builddir=${top_builddir:-.}
usbipd=$builddir/src/usbipd
usbip=$builddir/src/usbip
bad_peer=$builddir/tests/tools/bad_peer
port=$((20000 + $$ % 20000))
log=$(mktemp)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT

"$usbipd" -t "$port" -d >"$log" 2>&1 &
pid=$!
i=0
while ! "$usbip" -t "$port" list -r 127.0.0.1 >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 50 ]; then
		echo "Bail out! usbipd did not start on port $port"
		sed 's/^/# /' "$log"
		exit 1
	fi
	sleep 0.1
done

n=0
failed=0
check() { # NAME: the daemon is alive and a good client gets an answer
	n=$((n + 1))
	if kill -0 "$pid" 2>/dev/null &&
		out=$("$usbip" -t "$port" list -r 127.0.0.1 2>&1) &&
		echo "$out" | grep -q "no exportable devices found on 127.0.0.1" &&
		out6=$("$usbip" -t "$port" list -r ::1 2>&1) &&
		echo "$out6" | grep -q "no exportable devices found on ::1"; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		echo "# client said: ${out:-} ${out6:-}"
		tail -20 "$log" | sed 's/^/# daemon: /'
	fi
}

"$bad_peer" 127.0.0.1 "$port" garbage 300 >/dev/null
check "random bytes from 300 connections"
"$bad_peer" 127.0.0.1 "$port" truncated >/dev/null
check "every truncation of import and export requests"
"$bad_peer" 127.0.0.1 "$port" fields >/dev/null
check "wrong versions, unknown codes, bad busids, pipelined requests"
"$bad_peer" ::1 "$port" garbage 50 >/dev/null
check "random bytes over IPv6"
"$bad_peer" 127.0.0.1 "$port" flood 1000 >/dev/null
check "1000 connections opened and closed at once"
"$bad_peer" 127.0.0.1 "$port" hold 300 12 >/dev/null &
holder=$!
sleep 2
check "answers while 300 idle connections are held open (more than its 256 slots)"
"$bad_peer" 127.0.0.1 "$port" slow >/dev/null &
slow=$!
sleep 1
check "answers while a client sends one byte per second"
wait $holder $slow
check "answers after the idle connections are gone"
logged() { # NAME PATTERN: the daemon's log shows PATTERN
	n=$((n + 1))
	if grep -q "$2" "$log"; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
	fi
}
logged "idle peers were timed out (10 s)" "no complete request within"
logged "the oldest idle peer was dropped when all slots were taken" "dropping the oldest"
logged "garbage was refused with a reason" "bad request: version"

echo "1..$n"
[ $failed -eq 0 ]
