#!/bin/sh
# mDNS/DNS-SD: usbipd and usbipa --announce, usbip list --discover. Built
# without Avahi, both options are refused in one line (exit 2). Built with
# it, the suite runs in a network and mount namespace of its own (a
# private /run: its own D-Bus system bus and avahi-daemon, nothing of the
# host's LAN): with no avahi-daemon, `list --discover` says it cannot
# browse (one line, exit 1) and usbipd --announce says so once and serves
# on; with one, `list --discover` finds the announced usbipd (its port,
# version, TLS) and lists its devices as `list -r` does, avahi-browse sees
# usbipa's _usbipa._tcp with its TXT records, a hostile announcement
# (control characters, a closed port, tls=maybe) is shown escaped and
# costs one failed listing, and a stopped daemon's announcement goes away.
# Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

if "$usbipd" --check --announce >"$work/built.out" 2>&1; then
	:
elif grep -q "no mDNS" "$work/built.out"; then
	[ "$(wc -l <"$work/built.out")" = 1 ]
	result "built without Avahi: usbipd --announce is refused in one line" $? "$(cat "$work/built.out")"
	"$usbip" list --discover >"$work/list.out" 2>&1
	rc=$?
	[ $rc = 2 ] && [ "$(wc -l <"$work/list.out")" = 1 ] && grep -q "no mDNS" "$work/list.out"
	result "built without Avahi: list --discover is refused in one line (exit 2)" $? \
		"exit $rc: $(cat "$work/list.out")"
	finish
	exit
fi

if [ -z "${MDNS_NAMESPACE:-}" ]; then
	[ "$(id -u)" = 0 ] || skip_all "needs root (a namespace of its own)"
	for tool in unshare dbus-daemon avahi-daemon avahi-browse avahi-publish; do
		command -v $tool >/dev/null || skip_all "no $tool (Debian: util-linux, dbus, avahi-daemon, avahi-utils)"
	done
	rm -rf "$work"
	trap - EXIT
	exec unshare -n -m env MDNS_NAMESPACE=1 sh "$0"
fi

mount --make-rprivate / && mount -t tmpfs tmpfs /run && ip link set lo up ||
	{ echo "Bail out! cannot set up the namespace"; exit 1; }
mkdir -p /run/dbus /run/avahi-daemon
version=$("$usbipd" --version | awk '{print $NF}')

# --------------------------------------------------------- no avahi-daemon
timeout 20 "$usbip" list --discover --discover-time 1 >"$work/none.out" 2>&1
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$work/none.out")" = 1 ] && grep -q "cannot browse" "$work/none.out"
result "no avahi-daemon: list --discover says it cannot browse (one line, exit 1)" $? \
	"exit $rc: $(cat "$work/none.out")"

daemon_start "$work/alone.log" "$usbipd" -t 0 --announce
pid=$daemon_pid port=$daemon_port
i=0
until grep -q "mdns:" "$work/alone.log" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
[ "$(grep -c "mdns:" "$work/alone.log")" = 1 ] && timeout 20 "$usbip" list -r "127.0.0.1:$port" >/dev/null 2>&1
result "no avahi-daemon: usbipd --announce says so in one line and serves on" $? "$(cat "$work/alone.log")"
kill "$pid"
wait "$pid"
result "... and stops cleanly (exit 0)" $? "$(tail -3 "$work/alone.log")"

# --------------------------------------------------------- avahi-daemon
dbus_pid=$(dbus-daemon --system --fork --print-pid)
pids="$pids $dbus_pid"
avahi-daemon -D --no-chroot --no-rlimits >"$work/avahi.log" 2>&1
i=0
until avahi-browse -a -t -p >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
avahi_pid=$(cat /run/avahi-daemon/pid 2>/dev/null)
pids="$pids $avahi_pid"
[ -n "$avahi_pid" ] || { echo "Bail out! avahi-daemon did not start: $(cat "$work/avahi.log")"; exit 1; }

daemon_start "$work/usbipd.log" "$usbipd" -t 0 --announce
pid=$daemon_pid port=$daemon_port
i=0
until grep -q "mdns: announced" "$work/usbipd.log" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
grep -q "mdns: announced _usbip._tcp as 'usbipd on .*' on port $port$" "$work/usbipd.log"
result "usbipd --announce: announced _usbip._tcp on its port" $? "$(cat "$work/usbipd.log")"

timeout 20 "$usbip" list --discover >"$work/found.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "^usbipd on .*(127\.0\.0\.1:$port; usbipd $version, tls no)$" "$work/found.out" &&
	grep -q "^no exportable devices found on 127\.0\.0\.1:$port$" "$work/found.out"
result "list --discover finds it (port, version, TLS) and lists its devices" $? \
	"exit $rc: $(cat "$work/found.out")"

daemon_start "$work/usbipa.log" "$usbipa" -t 0 --allow-any --announce
apid=$daemon_pid aport=$daemon_port
pids="$pids $apid"
i=0
until avahi-browse -t -r -p _usbipa._tcp 2>/dev/null | grep -q "^=.*;$aport;" || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
avahi-browse -t -r -p _usbipa._tcp >"$work/usbipa.browse" 2>&1
grep "^=.*;$aport;" "$work/usbipa.browse" | grep -q "\"tls=no\"" &&
	grep "^=.*;$aport;" "$work/usbipa.browse" | grep -q "\"version=$version\"" &&
	grep "^=.*;$aport;" "$work/usbipa.browse" | grep -q "\"transports=tcp\""
result "usbipa --announce: _usbipa._tcp with TXT version, tls and transports" $? \
	"$(cat "$work/usbipa.browse" "$work/usbipa.log")"
grep -q "_usbipa" "$work/found.out"
[ $? != 0 ]
result "list --discover asks no usbipa (it lists _usbip._tcp only)" $? "$(cat "$work/found.out")"

# A hostile announcement: escape sequences, a closed port, tls=maybe.
avahi-publish -s "$(printf 'evil\033[2J')" _usbip._tcp 1 "version=$(printf '\033]0;x\007')" \
	"tls=maybe" >"$work/evil.log" 2>&1 &
evil=$!
pids="$pids $evil"
i=0
until grep -q "Established" "$work/evil.log" 2>/dev/null || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
timeout 20 "$usbip" list --discover >"$work/evil.out" 2>&1
rc=$?
! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$work/evil.out" &&
	grep -q 'evil\\x1b\[2J' "$work/evil.out" && grep -q "127\.0\.0\.1:$port;" "$work/evil.out"
result "a hostile announcement is shown escaped, beside the real usbipd" $? "$(cat -v "$work/evil.out")"
[ $rc = 1 ] && grep -q "tls no" "$work/evil.out" && kill -0 "$pid"
result "... its closed port fails its own listing only (exit 1), usbipd unharmed" $? \
	"exit $rc: $(cat -v "$work/evil.out")"
kill "$evil"

kill "$pid"
wait "$pid"
result "usbipd stops cleanly (exit 0)" $? "$(tail -3 "$work/usbipd.log")"
i=0
while avahi-browse -t -p _usbip._tcp 2>/dev/null | grep -q "usbipd"; do
	[ $i -ge 50 ] && break
	sleep 0.1
	i=$((i + 1))
done
! avahi-browse -t -p _usbip._tcp 2>/dev/null | grep -q "usbipd"
result "its announcement is withdrawn" $? "$(avahi-browse -t -p _usbip._tcp 2>&1)"
kill "$apid"
wait "$apid"
avahi-daemon -k 2>/dev/null
kill "$dbus_pid" 2>/dev/null
finish
