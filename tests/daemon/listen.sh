#!/bin/sh
# Listening as asked, or not at all: a daemon on port 0 logs the port the
# kernel gave it and serves there on IPv4 and IPv6; a daemon that cannot
# listen on an address it was asked for (or, with none given, on IPv4)
# exits with a clear line instead of half-starting. (timeout: a daemon that
# starts where it must not would otherwise serve forever.) Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

for daemon in usbipd usbipa; do
	daemon_start "$work/$daemon-any.log" "$builddir/src/$daemon" -t 0
	pids="$pids $daemon_pid"
	any=$daemon_port
	grep -q "listening on 0.0.0.0:$any\$" "$work/$daemon-any.log" &&
		grep -q "listening on \[::\]:$any\$" "$work/$daemon-any.log"
	result "$daemon -t 0: IPv4 and IPv6 on the one port the kernel gave" $? "$(cat "$work/$daemon-any.log")"

	# The same port again: every address it would listen on is taken.
	out=$(timeout 10 "$builddir/src/$daemon" -t "$any" 2>&1)
	rc=$?
	[ $rc -eq 1 ] && echo "$out" | grep -q "cannot listen on 0.0.0.0:$any: Address already in use" &&
		! echo "$out" | grep -q " ready$"
	result "$daemon on a taken port exits 1 and says why" $? "exit $rc: $out"

	out=$(timeout 10 "$builddir/src/$daemon" -a 127.0.0.1 -t "$any" 2>&1)
	rc=$?
	[ $rc -eq 1 ] && echo "$out" | grep -q "cannot listen on 127.0.0.1:$any"
	result "$daemon -a 127.0.0.1 on a taken port exits 1" $? "exit $rc: $out"
done

# IPv4 taken, IPv6 free: a daemon asked for all addresses must not start on IPv6 alone.
daemon_start "$work/v4.log" "$builddir/src/usbipd" -a 127.0.0.1 -t 0
pids="$pids $daemon_pid"
v4=$daemon_port
"$usbip" -t "$v4" list -r 127.0.0.1 2>&1 | grep -q "no exportable devices found on 127.0.0.1"
result "usbipd -a 127.0.0.1 -t 0 serves on the port it logged" $? "$(cat "$work/v4.log")"
out=$(timeout 10 "$builddir/src/usbipd" -t "$v4" 2>&1)
rc=$?
[ $rc -eq 1 ] && ! echo "$out" | grep -q "listening on \[::\]"
result "IPv4 taken: no half-start on IPv6 alone" $? "exit $rc: $out"

out=$(timeout 10 "$builddir/src/usbipd" -t 99999 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "not '99999'"
result "a port that is no port is one line and exit 2" $? "exit $rc: $out"
out=$("$usbip" -t 65536 list -r 127.0.0.1 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]
result "usbip -t 65536 is one line and exit 2" $? "exit $rc: $out"
finish
