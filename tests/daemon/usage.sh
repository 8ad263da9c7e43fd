#!/bin/sh
# The first mistakes of a new user, whatever the kernel has loaded: each is
# one line on stderr naming what is wrong (and, for a mistyped command or
# option, the closest one), nothing on stdout, and exit status 2 for usage
# (1 for a device that is not there). A daemon says a missing module once.
# Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

# one_line STATUS PATTERN PROGRAM ARGS...: exit STATUS, stdout empty, one
# line on stderr that matches PATTERN (grep -E).
one_line() {
	_want=$1 _pattern=$2
	shift 2
	"$builddir/src/$@" >"$work/out" 2>"$work/err"
	_rc=$?
	_lines=$(wc -l <"$work/err")
	[ "$_rc" = "$_want" ] && [ ! -s "$work/out" ] && [ "$_lines" = 1 ] &&
		grep -Eq "$_pattern" "$work/err"
	result "$* -> exit $_want, one line /$_pattern/" $? \
		"exit $_rc, $_lines lines: $(cat "$work/err" "$work/out")"
}

one_line 2 "'foo' is not a busid" usbip bind -b foo
one_line 2 "'foo' is not a busid" usbip unbind -b foo
one_line 2 "'foo' is not a busid" usbip connect -r 127.0.0.1 -b foo
one_line 2 "'foo' is not a busid" usbip disconnect -r 127.0.0.1 -b foo
one_line 2 "'abc' is not a port number" usbip detach -p abc
one_line 2 "unknown option '--bogus' \(see 'usbip --help'\)" usbip --bogus list
one_line 2 "did you mean '--tcp-port'\?" usbip --tcp-prt 3240 list
one_line 2 "'--tcp-port' wants a value" usbip --tcp-port
one_line 2 "'lst' is not a command; did you mean 'list'\?" usbip lst
one_line 2 "did you mean 'attach'\?" usbip atach -r 127.0.0.1 -b 1-1
one_line 2 "'frobnicate' is not a command \(see 'usbip --help'\)" usbip frobnicate
one_line 2 "which command\?" usbip
one_line 2 "usbip list: unknown option '--bogus'" usbip list --bogus
one_line 2 "did you mean '--json'\?" usbip status --jsn
one_line 2 "'-b' wants a value" usbip bind -b
one_line 2 "did you mean '--tcp-port'\?" usbipd --tcp-prt 3240
one_line 2 "did you mean '--allow-device'\?" usbipa --allow-devce 1234:5678
# A device that is not there: one line, not four.
one_line 1 "99-99" usbip disconnect -r 127.0.0.1 -b 99-99
one_line 1 "99-99" usbip connect -r 127.0.0.1 -b 99-99

# usbip status: a table for people; a user who may not read the sockets is
# told so in one line, not that nothing runs. (The sockets are the
# machine's: a usbipd started by another test at the same time may answer
# in ours' place, so the row is checked for its form, not for our port.)
daemon_start "$work/status-usbipd.log" "$builddir/src/usbipd" -a 127.0.0.1 -t 0
"$builddir/src/usbip" status >"$work/status.out" 2>&1
head -1 "$work/status.out" | grep -q '^DAEMON  *DEVICE  *PEER  *SINCE  *TRANSPORT  *STATE$' &&
	grep -Eq "^usbipd +- +- +[0-9-]+ [0-9:]+ +- +running, no device, (port [0-9]+|on [^ ].*)$" "$work/status.out"
result "usbip status shows usbipd in a table" $? "$(cat "$work/status.out")"
# where the sockets are (the runstatedir this build was configured with)
statusdir=$("$builddir/src/usbip" status --help | tr '\n' ' ' | sed -n 's/.*sockets in \([^)]*\)).*/\1/p')
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -S "$statusdir/usbipd.sock" ] &&
	! setpriv --reuid=65534 --regid=65534 --clear-groups test -w "$statusdir/usbipd.sock"; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$builddir/src/usbip" status \
		>"$work/out" 2>"$work/err"
	rc=$?
	[ $rc = 1 ] && [ ! -s "$work/out" ] && [ "$(wc -l <"$work/err")" = 1 ] &&
		grep -q "no permission to read $statusdir.*sudo usbip status.*group usbip" "$work/err"
	result "usbip status as nobody: no permission, in one line" $? "exit $rc: $(cat "$work/err" "$work/out")"
else
	echo "ok $((n = n + 1)) # SKIP not root, or the status socket is open to all"
fi
kill "$daemon_pid"
wait "$daemon_pid"

# The forms users type for a host and its port, against a usbipd here.
one_line 2 "the port is a number" usbip list -r 127.0.0.1:99999
one_line 2 "an IPv6 address is \[ADDRESS\]" usbip list -r "[::1"
daemon_start "$work/usbipd.log" "$builddir/src/usbipd" -a 127.0.0.1 -t 0
for form in "-r 127.0.0.1:$daemon_port" "-r localhost:$daemon_port" \
	"-r 127.0.0.1 --tcp-port $daemon_port" "-r 127.0.0.1 --tcp-port=$daemon_port"; do
	# shellcheck disable=SC2086
	out=$("$builddir/src/usbip" list $form 2>&1)
	result "usbip list $form reaches usbipd" $? "$out"
done
kill "$daemon_pid"
wait "$daemon_pid"
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	daemon_start "$work/usbipd6.log" "$builddir/src/usbipd" -a ::1 -t 0
	out=$("$builddir/src/usbip" list -r "[::1]:$daemon_port" 2>&1)
	result "usbip list -r [::1]:PORT reaches usbipd" $? "$out"
	kill "$daemon_pid"
	wait "$daemon_pid"
fi

# serve-mtp checks its folders as the user it will run as before it listens.
mkdir -p "$work/private" "$work/shared"
chmod 700 "$work/private"
chmod 755 "$work" "$work/shared"
if [ "$(id -u)" = 0 ]; then
	one_line 2 "private: nobody cannot read it" usbip serve-mtp -u nobody -d "$work/private"
	one_line 2 "shared: nobody cannot write it" usbip serve-mtp -u nobody -d "$work/shared"
else
	echo "ok $((n = n + 1)) # SKIP not root: serve-mtp runs as this user"
	echo "ok $((n = n + 1)) # SKIP not root: serve-mtp runs as this user"
fi
one_line 2 "has no \[serve-mtp nothere\]" usbip serve-mtp --config "$srcdir/systemd/usbip.conf.example" --section nothere

# usbipa without vhci-hcd: said once, from the start to the stop.
if [ -e /sys/devices/platform/vhci_hcd.0 ]; then
	echo "ok $((n = n + 1)) # SKIP vhci-hcd is loaded here"
else
	printf '[usbipa]\nallow-any = yes\n' >"$work/usbip.conf"
	daemon_start "$work/usbipa.log" "$builddir/src/usbipa" --config "$work/usbip.conf" -t 0
	kill "$daemon_pid"
	wait "$daemon_pid"
	said=$(grep -c "vhci-hcd driver is not loaded" "$work/usbipa.log")
	[ "$said" = 1 ]
	result "usbipa says vhci-hcd is missing once (said $said times)" $? "$(cat "$work/usbipa.log")"
fi
finish
