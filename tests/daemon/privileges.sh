#!/bin/sh
# The network never meets root. serve-mtp: started as root it listens,
# then becomes the unprivileged user (--user, default usbip or nobody)
# before it reads from anyone: from /proc, its uid is not 0, it has no
# effective capabilities and no_new_privs is set; it still serves. usbipd
# and usbipa: the process holding the listening socket is the daemon's
# child, runs as the user with no capabilities, no_new_privs and an empty
# directory for its root; the daemon itself (root) holds no listening
# socket; both still serve; killing the child stops the daemon. The
# agent's network process is replaced when a reload brings TLS. An unknown
# user is one line and nothing served. Prints TAP (skips unless run as
# root, which is what it is about).
. "${top_srcdir:-.}/tests/lib.sh"
if [ "$(id -u)" != 0 ]; then
	skip_all "not root: there is no privilege to drop"
fi
mkdir -p "$work/dir"
echo hello >"$work/dir/hello.txt"
chmod 755 "$work" "$work/dir"
chown -R 65534:65534 "$work/dir"

daemon_start "$work/serve.log" "$usbip" -t 0 serve-mtp --dir "$work/dir" -a 127.0.0.1 --user nobody
pids="$pids $daemon_pid"
# libtool's wrapper execs the program: the pid is the one that listens.
pid=$daemon_pid
status=$(cat "/proc/$pid/status" 2>/dev/null)
echo "$status" | grep -Eq '^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$'
result "serve-mtp runs as nobody (real, effective, saved, fs uid)" $? "$(echo "$status" | grep -E '^(Name|Uid)')"
echo "$status" | grep -q '^CapEff:[[:space:]]*0000000000000000$'
result "no effective capabilities" $? "$(echo "$status" | grep Cap)"
echo "$status" | grep -q '^NoNewPrivs:[[:space:]]*1$'
result "no_new_privs is set" $? "$(echo "$status" | grep NoNewPrivs)"
grep -q "running as nobody" "$work/serve.log"
result "it says whom it runs as" $? "$(cat "$work/serve.log")"
out=$("$usbip" -t "$daemon_port" list -r 127.0.0.1 2>&1)
echo "$out" | grep -q "1d6b:0100"
result "and still serves its device list" $? "$out"

out=$(timeout 10 "$usbip" -t 0 serve-mtp --dir "$work/dir" -a 127.0.0.1 --user no-such-user-here 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "no user 'no-such-user-here'" && ! echo "$out" | grep -q " ready"
result "an unknown --user: a clear line, nothing served" $? "exit $rc: $out"
# separated NAME: the checks on $daemon_pid and its network process.
separated() {
	net=$(listener_pids "$daemon_port")
	[ -n "$net" ] && [ "$(echo "$net" | wc -l)" = 1 ] && [ "$net" != "$daemon_pid" ] &&
		[ "$(children "$daemon_pid")" = "$net" ]
	result "$1: the listening socket is held by its child alone, not by the daemon" $? \
		"daemon $daemon_pid, listeners: $net"
	st=$(cat "/proc/$net/status" 2>/dev/null)
	echo "$st" | grep -Eq '^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$' &&
		echo "$st" | grep -q '^CapEff:[[:space:]]*0000000000000000$' &&
		echo "$st" | grep -q '^NoNewPrivs:[[:space:]]*1$'
	result "$1: the network process runs as nobody, no capabilities, no_new_privs" $? \
		"$(echo "$st" | grep -E '^(Uid|CapEff|NoNewPrivs)')"
	root=$(readlink "/proc/$net/root")
	if grep -q libasan "/proc/$net/maps" 2>/dev/null; then
		# LeakSanitizer reads /proc at exit: a sanitizer build keeps the root.
		[ "$root" = / ] && grep -q "a sanitizer build: no empty root" "$work/$1.log"
		result "$1: under ASan its root stays / and it says why" $? "$(cat "$work/$1.log")"
	else
		[ "$root" != / ] && [ -d "$root" ] && [ -z "$(ls -A "$root")" ] &&
			[ "$(stat -c %u "$root")" = 0 ] && grep -q "running as nobody (uid 65534) in $root" "$work/$1.log"
		result "$1: its root is an empty directory of root's ($root)" $? "$(cat "$work/$1.log")"
	fi
	awk '$1 == "Uid:" { exit $3 != 0 }' "/proc/$daemon_pid/status"
	result "$1: the daemon itself stays root" $? "$(grep Uid "/proc/$daemon_pid/status")"
}

daemon_start "$work/usbipd.log" "$usbipd" -t 0 -a 127.0.0.1 --user nobody
pids="$pids $daemon_pid"
separated usbipd
out=$("$usbip" -t "$daemon_port" list -r 127.0.0.1 2>&1)
echo "$out" | grep -q "no exportable devices found on 127.0.0.1"
result "usbipd: a device list is served through the two processes" $? "$out"
kill -9 "$net"
i=0
while kill -0 "$daemon_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
! kill -0 "$daemon_pid" 2>/dev/null && grep -q "the network process" "$work/usbipd.log"
result "usbipd: when its network process dies, the daemon stops and says so" $? "$(tail -3 "$work/usbipd.log")"
wait "$daemon_pid"
rc=$?
[ $rc -eq 1 ]
result "usbipd: ... with exit status 1 (for systemd's Restart=on-failure)" $? "exit $rc"

daemon_start "$work/usbipa.log" "$usbipa" -t 0 -a 127.0.0.1 --user nobody --allow-any
pids="$pids $daemon_pid"
separated usbipa
out=$("$bad_peer" 127.0.0.1 "$daemon_port" export 2>&1)
# No vhci-hcd here: the privileged process refuses (status 1) after the network one asked.
[ "$out" = "status 1" ] && grep -q "vhci" "$work/usbipa.log"
result "usbipa: an export is answered through the two processes" $? "$out; $(tail -3 "$work/usbipa.log")"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
rc=$?
[ $rc -eq 0 ] && ! kill -0 "$net" 2>/dev/null
result "usbipa: SIGTERM stops both processes, exit status 0" $? "exit $rc"

# The agent: its network process is its one child, as nobody; a reload that
# brings a TLS rule replaces it with one that has the new context.
certs_or_bail "$work/pki"
cat >"$work/agent.conf" <<CONF
[export disk]
hardware-id = 46f4:0001
remote = 127.0.0.1
CONF
chmod 600 "$work/agent.conf"
agent_start "$work/agent.log" --config "$work/agent.conf" --user nobody
agent=$agent_pid
pids="$pids $agent"
old=$(children "$agent")
[ -n "$old" ] && [ "$(awk '$1 == "Uid:" { print $3 }' "/proc/$old/status")" = 65534 ]
result "usbip agent: its network process is its child, as nobody" $? "child '$old': $(cat "$work/agent.log")"
cat >>"$work/agent.conf" <<CONF

[export secure]
hardware-id = 46f4:0002
remote = localhost
tls = yes
ca = $work/pki/ca.pem
CONF
kill -HUP "$agent"
i=0
while ! grep -q "a new network process" "$work/agent.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
new=$(children "$agent")
[ -n "$new" ] && [ "$new" != "$old" ] && ! kill -0 "$old" 2>/dev/null &&
	[ "$(awk '$1 == "Uid:" { print $3 }' "/proc/$new/status")" = 65534 ]
result "usbip agent: a reload with a TLS rule replaces its network process" $? \
	"old '$old', new '$new': $(cat "$work/agent.log")"
kill -TERM "$agent"
wait "$agent"
rc=$?
[ $rc -eq 0 ] && ! kill -0 "$new" 2>/dev/null
result "usbip agent: SIGTERM stops both processes, exit status 0" $? "exit $rc: $(tail -3 "$work/agent.log")"

out=$(timeout 10 "$usbipd" -t 0 -a 127.0.0.1 --user no-such-user-here 2>&1)
rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "no user 'no-such-user-here'" && ! echo "$out" | grep -q " ready"
result "usbipd with an unknown --user: a clear line, nothing served" $? "exit $rc: $out"
finish
