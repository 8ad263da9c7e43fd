#!/bin/sh
# The network never meets root in serve-mtp: started as root it listens,
# then becomes the unprivileged user (--user, default usbip or nobody)
# before it reads from anyone: from /proc, its uid is not 0, it has no
# effective capabilities and no_new_privs is set; it still serves. An
# unknown user is one line and nothing served. Prints TAP (skips unless
# run as root, which is what it is about).
set -u
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
usbip=$builddir/src/usbip
work=$(mktemp -d)
pids=""
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
. "$srcdir/tests/daemon/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not root: there is no privilege to drop"
	exit 0
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
echo "1..$n"
[ $failed -eq 0 ]
