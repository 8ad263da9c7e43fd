#!/bin/sh
# What the processes that read from peers can reach of the file system,
# asked from inside them: gdb attaches to each and calls open(2) there.
# serve-mtp opens files in its folder and nothing else (Landlock; /etc to
# read when built with TCP wrappers), not even a file anyone may read
# beside its folder; usbipd's network process opens
# nothing at all, not even its own (empty) root; the agent's network
# process reads /etc (it resolves names) and nothing outside what that
# takes. The same calls in an unconfined process succeed (the control).
# Prints TAP; skips as a whole without root, gdb or Landlock.
. "${top_srcdir:-.}/tests/lib.sh"
if [ "$(id -u)" != 0 ]; then
	skip_all "not root: gdb cannot attach to the daemons' processes"
fi
if ! command -v gdb >/dev/null; then
	skip_all "no gdb (Debian: gdb) to call open(2) inside the processes"
fi

# opened PID PATH [FLAGS]: what open(PATH, FLAGS) returns inside PID, then its errno.
opened() {
	timeout 60 gdb -q -p "$1" -batch -ex "print (int)open(\"$2\", ${3:-0})" \
		-ex 'print *(int *)__errno_location()' 2>/dev/null |
		sed -n 's/^\$[0-9]* = //p' | tr '\n' ' '
}
denied() { case $(opened "$@") in "-1 13 ") return 0 ;; esac; return 1; } # EACCES
allowed() { case $(opened "$@") in -*) return 1 ;; "") return 1 ;; esac; return 0; }

sleep 600 &
control=$!
pids="$pids $control"
allowed "$control" /etc/hostname
result "control: an unconfined process opens /etc/hostname from gdb" $? "$(opened "$control" /etc/hostname)"

mkdir -p "$work/dir"
echo hello >"$work/dir/hello.txt"
echo secret >"$work/outside.txt"
chmod 755 "$work" "$work/dir"
chmod 644 "$work/outside.txt"
chown -R 65534:65534 "$work/dir"
daemon_start "$work/serve.log" "$usbip" -t 0 serve-mtp --dir "$work/dir" -a 127.0.0.1 --user nobody
pids="$pids $daemon_pid"
if grep -q "no Landlock" "$work/serve.log"; then
	skip_all "this kernel has no Landlock"
fi
if [ -z "$(opened "$daemon_pid" "$work/dir/hello.txt")" ]; then
	skip_all "gdb cannot call functions in the daemon here"
fi
allowed "$daemon_pid" "$work/dir/hello.txt"
result "serve-mtp opens a file of its folder" $? "$(opened "$daemon_pid" "$work/dir/hello.txt")"
denied "$daemon_pid" "$work/outside.txt"
result "serve-mtp cannot open a world-readable file beside its folder (EACCES)" $? \
	"$(opened "$daemon_pid" "$work/outside.txt")"
denied "$daemon_pid" /usr/bin/env
result "serve-mtp cannot open /usr/bin/env either" $? "$(opened "$daemon_pid" /usr/bin/env)"
out=$("$usbip" -t "$daemon_port" list -r 127.0.0.1 2>&1)
echo "$out" | grep -q "1d6b:0100"
result "serve-mtp still serves" $? "$out"

daemon_start "$work/usbipd.log" "$usbipd" -t 0 -a 127.0.0.1 --user nobody
pids="$pids $daemon_pid"
net=$(children "$daemon_pid")
allowed "$daemon_pid" / 0200000
result "control: usbipd's privileged process opens /" $? "$(opened "$daemon_pid" / 0200000)"
denied "$net" / 0200000
result "usbipd's network process cannot open even its root directory" $? "$(opened "$net" / 0200000)"
out=$("$usbip" -t "$daemon_port" list -r 127.0.0.1 2>&1)
echo "$out" | grep -q "no exportable devices found"
result "usbipd still serves" $? "$out"

cat >"$work/agent.conf" <<CONF
[export disk]
hardware-id = 46f4:0001
remote = 127.0.0.1
CONF
agent_start "$work/agent.log" --config "$work/agent.conf" --user nobody
agent=$agent_pid
pids="$pids $agent"
anet=$(children "$agent")
[ -n "$anet" ] && [ "$(awk '$1 == "Uid:" { print $3 }' "/proc/$anet/status")" = 65534 ]
result "usbip agent: its network process runs as nobody" $? "$(cat "$work/agent.log")"
allowed "$anet" /etc/hosts
result "usbip agent: its network process reads /etc/hosts (it resolves names)" $? "$(opened "$anet" /etc/hosts)"
denied "$anet" "$work/outside.txt"
result "usbip agent: ... but nothing outside what resolving takes" $? "$(opened "$anet" "$work/outside.txt")"
finish
