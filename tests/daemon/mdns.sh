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
# The mdns: remotes: built without Avahi refused in one line (exit 2);
# with no avahi-daemon one line per attempt (attach --persist retries);
# with one, serve-mtp --remote mdns: reaches the announced usbipa (which
# refuses: no vhci-hcd here, so its log says who was reached), mdns:GLOB
# reaches only a host the glob allows (a second usbipa published under
# another host name with avahi-publish), a glob nothing matches connects
# nowhere (one line), both are tried in host name order, a hostile
# announcement costs one failed try, logged escaped, and with TLS the
# certificate is checked against the announced host name.
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
	set -f # the globs of mdns: are the remote's
	for args in "list -r mdns:" "attach -r mdns:lab-*.local -b 1-1" \
		"serve-mtp --remote mdns: --dir $work::ro"; do
		# shellcheck disable=SC2086 # the words of args
		out=$("$usbip" $args 2>&1)
		rc=$?
		[ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "no mDNS"
		result "built without Avahi: usbip ${args%% --dir*} is refused in one line (exit 2)" $? \
			"exit $rc: $out"
	done
	printf '[export x]\nremote = mdns:\nbusid = 1-1\n' >"$work/rule.conf"
	out=$("$usbip" agent --config "$work/rule.conf" --check 2>&1)
	rc=$?
	[ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "no mDNS"
	result "built without Avahi: a rule's remote = mdns: is refused in one line (exit 2)" $? \
		"exit $rc: $out"
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

mkdir "$work/mtp"
# errors OUT: the lines of OUT that are errors
errors() { grep -c "error:" "$1"; }
timeout 20 "$usbip" serve-mtp --remote mdns: --dir "$work/mtp::ro" >"$work/none-mtp.out" 2>&1
rc=$?
[ $rc != 0 ] && [ "$(errors "$work/none-mtp.out")" = 1 ] &&
	grep -q "'mdns:': cannot browse: avahi-daemon" "$work/none-mtp.out"
result "no avahi-daemon: serve-mtp --remote mdns: fails in one line" $? \
	"exit $rc: $(cat "$work/none-mtp.out")"
timeout 30 "$usbip" attach --persist --max-attempts 2 -r mdns:lab-*.local -b 1-1 \
	>"$work/none-attach.out" 2>&1
rc=$?
[ $rc = 1 ] && [ "$(grep -c "cannot browse" "$work/none-attach.out")" = 2 ] &&
	[ "$(errors "$work/none-attach.out")" = 2 ] &&
	grep -q "2 attempts failed" "$work/none-attach.out"
result "no avahi-daemon: attach --persist -r mdns:GLOB says so once per attempt, retries" $? \
	"exit $rc: $(cat "$work/none-attach.out")"

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

# resolved TYPE REGEX: waits (5 s at most) until a resolved TYPE service's
# avahi-browse -p line matches REGEX (after "=;...;")
resolved() {
	_i=0
	until avahi-browse -t -r -p "$1" 2>/dev/null | grep -q "^=.*;$2" || [ $_i -ge 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

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
resolved _usbipa._tcp "$aport;"
avahi-browse -t -r -p _usbipa._tcp >"$work/usbipa.browse" 2>&1
grep "^=.*;$aport;" "$work/usbipa.browse" | grep -q "\"tls=no\"" &&
	grep "^=.*;$aport;" "$work/usbipa.browse" | grep -q "\"version=$version\"" &&
	grep "^=.*;$aport;" "$work/usbipa.browse" | grep -q "\"transports=tcp\""
result "usbipa --announce: _usbipa._tcp with TXT version, tls and transports" $? \
	"$(cat "$work/usbipa.browse" "$work/usbipa.log")"
grep -q "_usbipa" "$work/found.out"
[ $? != 0 ]
result "list --discover asks no usbipa (it lists _usbip._tcp only)" $? "$(cat "$work/found.out")"

# reached LOG: the connections the daemon of LOG was made
reached() { grep -c "connection from" "$1"; }
# The agent's rules: its unprivileged network process browses and dials.
d_before=$(reached "$work/usbipd.log")
printf '[attach waiting]\nremote = mdns:\nhardware-id = 1234:5678\n' >"$work/agent.conf"
agent_start "$work/agent.log" --config "$work/agent.conf" --user nobody
i=0
until [ "$(reached "$work/usbipd.log")" -gt "$d_before" ] || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(reached "$work/usbipd.log")" -gt "$d_before" ] && ! grep -q "error:" "$work/agent.log"
result "usbip agent: a rule's remote = mdns: reaches the announced usbipd (as nobody)" $? \
	"$(cat "$work/agent.log")"
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null

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

# --------------------------------------------------------- mdns: remotes
# export_to REMOTE OUT: serve-mtp exports to REMOTE once (every usbipa here refuses)
export_to() { timeout 30 "$usbip" serve-mtp --remote "$1" --dir "$work/mtp::ro" >"$2" 2>&1; }

a_before=$(reached "$work/usbipa.log")
export_to mdns: "$work/any.out"
rc=$?
[ $rc != 0 ] && grep -q "127\.0\.0\.1:$aport: refused 1-1" "$work/any.out" &&
	[ "$(reached "$work/usbipa.log")" = $((a_before + 1)) ]
result "serve-mtp --remote mdns: reaches the announced usbipa (once)" $? \
	"exit $rc: $(cat "$work/any.out") usbipa: $(tail -3 "$work/usbipa.log")"

# A second usbipa, published under another host name.
daemon_start "$work/usbipa-b.log" "$usbipa" -t 0 -a 127.0.0.1 --allow-any
bpid=$daemon_pid bport=$daemon_port
pids="$pids $bpid"
avahi-publish -a -R other-host.local 127.0.0.1 >"$work/b-addr.log" 2>&1 &
pids="$pids $!"
avahi-publish -s -H other-host.local "usbipa on other-host" _usbipa._tcp "$bport" \
	>"$work/b-svc.log" 2>&1 &
pids="$pids $!"
resolved _usbipa._tcp "other-host\.local;.*;$bport;"
a_host=$(avahi-browse -t -r -p _usbipa._tcp 2>/dev/null | awk -F';' -v p="$aport" '$1 == "=" && $9 == p { print $7; exit }')

a_before=$(reached "$work/usbipa.log") b_before=$(reached "$work/usbipa-b.log")
export_to mdns:OTHER-HOST.local "$work/glob.out"
rc=$?
grep -q "127\.0\.0\.1:$bport: refused 1-1" "$work/glob.out" &&
	[ "$(reached "$work/usbipa-b.log")" = $((b_before + 1)) ] &&
	[ "$(reached "$work/usbipa.log")" = "$a_before" ]
result "mdns:OTHER-HOST.local reaches other-host.local's usbipa only (case ignored)" $? \
	"exit $rc: $(cat "$work/glob.out")"

a_before=$(reached "$work/usbipa.log") b_before=$(reached "$work/usbipa-b.log")
export_to 'mdns:nomatch-*.local,lab-?.local' "$work/nomatch.out"
rc=$?
[ $rc != 0 ] && [ "$(errors "$work/nomatch.out")" = 1 ] &&
	grep -q "2 _usbipa._tcp announced, none by a host the remote allows: nothing tried" \
		"$work/nomatch.out" &&
	[ "$(reached "$work/usbipa.log")" = "$a_before" ] &&
	[ "$(reached "$work/usbipa-b.log")" = "$b_before" ]
result "mdns:GLOBS nothing announced matches: no connection anywhere, one line" $? \
	"exit $rc: $(cat "$work/nomatch.out")"

# mdns: tries both, by host name: a refusal goes on to the next at once.
first=$aport second=$bport
[ "$(printf '%s\nother-host.local\n' "$a_host" | LC_ALL=C sort -f | head -1)" = other-host.local ] &&
	first=$bport second=$aport
export_to mdns: "$work/both.out"
order=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\): refused 1-1.*/\1/p' "$work/both.out" | tr '\n' ' ')
[ "$order" = "$first $second " ] && grep -q "tried 'usbipa on .*: failed, trying the next" "$work/both.out"
result "mdns: tries every usbipa announced in host name order ($a_host, other-host.local)" $? \
	"order '$order', wanted '$first $second': $(cat "$work/both.out")"

# Hostile announcements: escape sequences in the name, a closed port and a
# huge TXT record; port 0; a host name that is not one. (avahi resolves
# the host to either of its addresses, 127.0.0.1 or ::1.)
txt=$(head -c 240 /dev/zero | tr '\0' x)
avahi-publish -s "$(printf 'evil\033[2J')" _usbipa._tcp 1 "version=$(printf '\033]0;x\007')" \
	"tls=maybe" "transports=$txt" "junk=$txt" >"$work/evil-a.log" 2>&1 &
pids="$pids $!"
avahi-publish -s "zero port" _usbipa._tcp 0 >"$work/zero.log" 2>&1 &
pids="$pids $!"
resolved _usbipa._tcp "1;"
a_before=$(reached "$work/usbipa.log") b_before=$(reached "$work/usbipa-b.log")
export_to mdns: "$work/hostile.out"
rc=$?
! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$work/hostile.out" &&
	grep -Eq "tried 'evil\\\\x1b\[2J' on .*\((127\.0\.0\.1|\[::1\]):1\): failed, trying the next" "$work/hostile.out" &&
	[ "$(grep -c "cannot connect" "$work/hostile.out")" = 1 ] &&
	! grep -q "127\.0\.0\.1:0\b" "$work/hostile.out" &&
	[ "$(reached "$work/usbipa.log")" = $((a_before + 1)) ] &&
	[ "$(reached "$work/usbipa-b.log")" = $((b_before + 1)) ]
result "a hostile announcement costs one failed try, logged escaped; port 0 is never tried" $? \
	"exit $rc: $(cat -v "$work/hostile.out")"

# TLS: the certificate is checked against the announced host name, though
# the address dialled (127.0.0.1) is the one a certificate would name.
c=$work/certs
certs_or_bail "$c"
make_name_cert "$c" tls-host.local 2>"$c/name.err" || echo "Bail out! $(cat "$c/name.err")"
avahi-publish -a -R tls-host.local 127.0.0.1 >"$work/t-addr.log" 2>&1 &
pids="$pids $!"
# tls_usbipd CERT: a TLS usbipd with CERT, published on tls-host.local (its pids in tpid, tpub)
tls_usbipd() {
	daemon_start "$work/tls-$1.log" "$usbipd" -t 0 -a 127.0.0.1 --tls --cert "$c/$1.pem" \
		--key "$c/$1.key"
	tpid=$daemon_pid
	avahi-publish -s -H tls-host.local "tls usbipd" _usbip._tcp "$daemon_port" \
		>"$work/tls-$1.pub" 2>&1 &
	tpub=$!
	pids="$pids $tpid $tpub"
	resolved _usbip._tcp "tls-host\.local;.*;$daemon_port;"
}
tls_usbipd tls-host.local
list_ok "TLS: mdns:tls-host.local, a certificate for tls-host.local: listed" \
	--tls --ca "$c/ca.pem" list -r mdns:tls-host.local
out=$("$usbip" --tls --ca "$c/ca.pem" list -r mdns:tls-host.local 2>&1)
echo "$out" | grep -q "found on mdns:tls-host.local (127\.0\.0\.1:$daemon_port)$"
result "list -r mdns: names the host that answered" $? "$out"
kill "$tpid" "$tpub"
tls_usbipd server
list_fails "TLS: a certificate for localhost and 127.0.0.1 only: refused" "certificate" \
	--tls --ca "$c/ca.pem" list -r mdns:tls-host.local
kill "$tpid" "$tpub"

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
