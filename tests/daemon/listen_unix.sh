#!/bin/sh
# --listen: a daemon serves on a Unix socket's file and on TCP at once,
# gives the file the mode asked for, removes it when it stops, replaces a
# stale one and nothing else; a bad --listen is one line and exit 2 (a
# runtime failure exit 1) and removes no file that is not a stale socket;
# --allow-uid refuses other users in one line and the daemon goes on.
# Needs root (a client as nobody). Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (a client run as another user)"
command -v setpriv >/dev/null || skip_all "no setpriv"
# The clients run as nobody must reach the sockets' folder.
chmod 755 "$work"
sock=$work/usbipd.sock

# wait_for CHECK...: until CHECK succeeds, at most 10 s.
wait_for() {
	_i=0
	until "$@"; do
		[ $_i -lt 100 ] || return 1
		_i=$((_i + 1))
		sleep 0.1
	done
}

daemon_start "$work/d.log" "$usbipd" --listen "unix:$sock" --listen 127.0.0.1:0
dpid=$daemon_pid
pids="$pids $dpid"
out=$("$usbip" list -r "unix:$sock" 2>&1)
echo "$out" | grep -q "no exportable devices found on unix:$sock"
result "usbipd --listen unix:PATH answers usbip list -r unix:PATH" $? "$out"
grep -q "connection from unix uid 0 gid 0 pid [0-9]" "$work/d.log"
result "a Unix peer's uid and gid are logged" $? "$(cat "$work/d.log")"
out=$("$usbip" -t "$daemon_port" list -r 127.0.0.1 2>&1)
echo "$out" | grep -q "no exportable devices found on 127.0.0.1"
result "the TCP --listen beside it answers too" $? "$out"
grep -q " ready on unix:$sock, 127.0.0.1:$daemon_port" "$work/d.log"
result "the ready line names both listeners" $? "$(cat "$work/d.log")"
[ "$(stat -c %a "$sock")" = 660 ]
result "the socket file is 0660 by default" $? "$(stat -c %a "$sock")"

# Bad values: one line, exit 2, nothing started.
for bad in "[::1" "unix:" "vsock:x" "bogus://x"; do
	out=$(timeout 10 "$usbipd" --listen "$bad" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]
	result "--listen '$bad': one line, exit 2" $? "exit $rc: $out"
done
out=$(timeout 10 "$usbipd" --allow-uid 0 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]
result "--allow-uid without a unix: listener: one line, exit 2" $? "exit $rc: $out"
out=$(timeout 10 "$usbipd" --listen "unix:$work/x.sock" --listen-mode 1777 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]
result "--listen-mode 1777: one line, exit 2" $? "exit $rc: $out"

# Runtime failures: exit 1, the file that is there stays as it was.
echo precious >"$work/file"
out=$(timeout 10 "$usbipd" --listen "unix:$work/file" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$(echo "$out" | grep -c "cannot listen on unix:$work/file")" -eq 1 ] &&
	[ "$(cat "$work/file")" = precious ]
result "a regular file at the path: exit 1, the file kept" $? "exit $rc: $out"
out=$(timeout 10 "$usbipd" --listen "unix:$sock" 2>&1)
rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "cannot listen on unix:$sock" && [ -S "$sock" ] &&
	"$usbip" list -r "unix:$sock" >/dev/null 2>&1
result "another daemon's live socket: exit 1, it still serves there" $? "exit $rc: $out"
out=$(timeout 10 "$usbipd" --listen "unix:$work/y.sock" --listen "unix:$work/file" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ ! -e "$work/y.sock" ]
result "a second --listen that fails removes the first one's file" $? "exit $rc: $out"

kill "$dpid"
wait "$dpid"
rc=$?
[ $rc -eq 0 ] && [ ! -e "$sock" ]
result "SIGTERM: usbipd exits 0 and removes its socket file" $? "exit $rc: $(ls -l "$work")"

# A stale socket (its daemon killed) is replaced; the mode asked for is given.
"$usbipd" --listen "unix:$sock" >"$work/k.log" 2>&1 &
kpid=$!
pids="$pids $kpid"
wait_for ready "$work/k.log"
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null
wait_for sh -c "! \"$usbip\" list -r unix:$sock >/dev/null 2>&1"
[ -S "$sock" ]
result "a killed daemon leaves its socket behind" $? "$(ls -l "$work")"
"$usbipd" --listen "unix:$sock" --listen-mode 0600 >"$work/s.log" 2>&1 &
spid=$!
pids="$pids $spid"
wait_for ready "$work/s.log" && "$usbip" list -r "unix:$sock" >/dev/null 2>&1 &&
	[ "$(stat -c %a "$sock")" = 600 ]
result "the stale socket is replaced, with --listen-mode 0600" $? "$(cat "$work/s.log")"
kill "$spid"
wait "$spid"

# The same from usbip.conf: listen is a repeatable key.
csock=$work/conf.sock
printf '[usbipd]\nlisten = unix:%s\nlisten = 127.0.0.1:0\nlisten-mode = 0640\n' "$csock" >"$work/usbip.conf"
daemon_start "$work/c.log" "$usbipd" --config "$work/usbip.conf"
cpid=$daemon_pid
pids="$pids $cpid"
"$usbip" list -r "unix:$csock" >/dev/null 2>&1 && [ "$(stat -c %a "$csock")" = 640 ] &&
	"$usbip" -t "$daemon_port" list -r 127.0.0.1 >/dev/null 2>&1
result "listen = twice in [usbipd]: both serve, listen-mode applied" $? "$(cat "$work/c.log")"
kill "$cpid"
wait "$cpid"

# serve-mtp: --allow-uid 0 refuses nobody, in one line, and goes on.
mkdir "$work/dir"
echo hello >"$work/dir/a.txt"
msock=$work/mtp.sock
"$usbip" serve-mtp --dir "$work/dir::ro" --listen "unix:$msock" --listen-mode 0666 \
	--allow-uid 0 >"$work/m.log" 2>&1 &
mpid=$!
pids="$pids $mpid"
started "$mpid" "serve-mtp" "$work/m.log" ready "$work/m.log"
out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$usbip" list -r "unix:$msock" 2>&1)
rc=$?
[ $rc -ne 0 ] && [ "$(grep -c "refused" "$work/m.log")" -eq 1 ] &&
	grep -q "unix uid 65534 gid [0-9]* pid [0-9]*: refused: no --allow-uid" "$work/m.log"
result "serve-mtp --allow-uid 0: nobody refused, one line" $? "exit $rc: $out
$(cat "$work/m.log")"
out=$("$usbip" list -r "unix:$msock" 2>&1)
echo "$out" | grep -q "1-1: " && kill -0 "$mpid"
result "serve-mtp still serves root after the refusal" $? "$out"
finish
