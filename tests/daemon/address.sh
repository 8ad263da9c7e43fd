#!/bin/sh
# Remotes in every form the address syntax has (net/address.h), on the
# build host: `usbip list -r unix:PATH` reaches usbipd through a Unix
# socket made by net_listen (tests/tools/listen_relay, until the daemons
# listen there themselves) with the mode a listener gets, and gets the
# daemon's answer; a path nobody listens on is one line; a bad address to
# any command that takes a remote is one line on stderr and exit 2.
# Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

relay=$builddir/tests/tools/listen_relay

# one_line PATTERN ARGS...: `usbip ARGS` exits 2 with one line on stderr
# matching PATTERN (grep -E), nothing on stdout.
one_line() {
	_pattern=$1
	shift
	"$usbip" "$@" >"$work/out" 2>"$work/err"
	_rc=$?
	_lines=$(wc -l <"$work/err")
	[ "$_rc" = 2 ] && [ ! -s "$work/out" ] && [ "$_lines" = 1 ] &&
		grep -Eq -- "$_pattern" "$work/err"
	result "usbip $* -> exit 2, one line /$_pattern/" $? \
		"exit $_rc, $_lines lines: $(cat "$work/err" "$work/out")"
}

# listed LOG: how many lists usbipd has answered so far.
listed() { grep -c "listed 0 exportable devices" "$1"; }

daemon_start "$work/usbipd.log" "$usbipd" -a 127.0.0.1 -t 0
pids="$pids $daemon_pid"
sock=$work/usbipd.sock
"$relay" "unix:$sock" "127.0.0.1:$daemon_port" >"$work/relay.log" 2>&1 &
pids="$pids $!"
started "$!" listen_relay "$work/relay.log" grep -q "ready" "$work/relay.log"

[ -S "$sock" ] && [ "$(stat -c %a "$sock")" = 660 ]
result "net_listen makes the socket file with mode 660" $? "$(ls -l "$sock")"

before=$(listed "$work/usbipd.log")
"$usbip" list -r "unix:$sock" >"$work/out" 2>"$work/err"
rc=$?
# The answer is usbipd's: it logged one more list than before.
[ $rc = 0 ] && grep -qx "no exportable devices found on unix:$sock" "$work/out" &&
	[ "$(listed "$work/usbipd.log")" = $((before + 1)) ]
result "usbip list -r unix:PATH is answered by usbipd" $? \
	"exit $rc: $(cat "$work/out" "$work/err"); usbipd: $(tail -3 "$work/usbipd.log")"

"$usbip" list --json -r "unix:$sock" >"$work/out" 2>"$work/err"
rc=$?
[ $rc = 0 ] && [ "$(cat "$work/out")" = "[]" ]
result "usbip list --json -r unix:PATH" $? "exit $rc: $(cat "$work/out" "$work/err")"

"$usbip" list -r "unix:$work/nobody.sock" >"$work/out" 2>"$work/err"
rc=$?
[ $rc != 0 ] && [ "$(wc -l <"$work/err")" = 1 ] &&
	grep -q "cannot connect to unix:$work/nobody.sock: No such file" "$work/err"
result "a unix: path nobody listens on: one line" $? "exit $rc: $(cat "$work/err")"

long=unix:/$(printf '%0108d' 0)
one_line "a vsock remote is vsock:CID:PORT" list -r vsock:5000
one_line "the CID is a number" list -r vsock:0x2:5000
one_line "the port is a number from 0 to 4294967294" attach -r vsock:1:4294967295 -b 1-1
one_line "unix: wants the path of a socket" attach -r unix: -b 1-1
one_line "a socket's path of 109 bytes: at most 107" list -r "$long"
one_line "the port is a number from 0 to 65535" connect -r h:65536 -b 1-1
one_line "an IPv6 address is" disconnect -r '[::1' -b 1-1
one_line "not a kind of address usbip knows" list -r http://h/
one_line "usbip:// takes no path" list -r usbip://h/x
finish
