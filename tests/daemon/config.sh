#!/bin/sh
# usbip.conf on the build host: every error of a bad file is one line with
# file, line and key, exit 2, nothing started; a file others can read that
# names a private key is refused; the command line overrides the file;
# usbip agent reads its rules, `usbip status --json` shows them, and SIGHUP
# applies a good file (an unchanged rule keeps running) and refuses a broken
# one whole, saying why. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

cat >"$work/bad.conf" <<'CONF'
[usbipd]
tcp_port = 3240
debug = maybe
tcp-port = 99999

[usbipz]
x = 1

[export cam]
remote = a
[export cam]
remote = b
CONF
chmod 600 "$work/bad.conf"
out=$(timeout 10 "$usbipd" --config "$work/bad.conf" --check 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$(echo "$out" | grep -c "^$work/bad.conf:[0-9]*: ")" -eq 5 ]
result "usbipd --check: exit 2, one FILE:LINE line per error (all 5)" $? "exit $rc: $out"
echo "$out" | grep -q "bad.conf:2: \[usbipd\] tcp_port: unknown key (did you mean 'tcp-port'?)"
result "an unknown key names its line and gets a suggestion" $? "$out"
echo "$out" | grep -q "bad.conf:6: unknown section \[usbipz\] (did you mean \[usbipd\]?)"
result "an unknown section gets a suggestion" $? "$out"
echo "$out" | grep -q "section \[export cam\] appears twice"
result "a rule name used twice is an error" $? "$out"
out=$(timeout 10 "$usbipd" --config "$work/bad.conf" -t 0 2>&1)
rc=$?
[ $rc -eq 2 ] && ! echo "$out" | grep -q "listening on"
result "a bad file starts nothing" $? "exit $rc: $out"

printf '[usbipd]\naddress = 127.0.0.1\ntls = yes\ncert = /x.pem\nkey = /x.key\n' >"$work/open.conf"
chmod 644 "$work/open.conf"
out=$(timeout 10 "$usbipd" --config "$work/open.conf" --check 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "names a private key but other users can read it"
result "a key named in a file others can read is refused" $? "exit $rc: $out"

# The file's port, overridden by the command line's 0.
printf '[usbipd]\naddress = 127.0.0.1\ntcp-port = 1\n' >"$work/good.conf"
daemon_start "$work/override.log" "$usbipd" --config "$work/good.conf" -t 0
pids="$pids $daemon_pid"
[ "$daemon_port" != 1 ] && grep -q "listening on 127.0.0.1:$daemon_port" "$work/override.log"
result "the command line overrides the file (address from the file, port 0 from the line)" $? \
	"$(cat "$work/override.log")"

# The agent: an attach rule that waits for a device nobody offers.
cat >"$work/agent.conf" <<CONF
[attach disk]
remote = 127.0.0.1
tcp-port = $daemon_port
hardware-id = 46f4:0001
CONF
out=$("$usbip" agent --config "$work/agent.conf" --check 2>&1)
result "usbip agent --check of a good file" $? "$out"
"$usbip" agent --config "$work/agent.conf" >"$work/agent.log" 2>&1 &
agent=$!
pids="$pids $agent"
status_has() { "$usbip" status --json 2>/dev/null | grep -Eq "$1"; }
wait_status() { # PATTERN: the agent's status shows it within 10 s
	_i=0
	while ! status_has "$1"; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || return 1
		sleep 0.1
	done
}
wait_status '"name": ?"disk"'
result "usbip status shows the agent's rule" $? "$("$usbip" status --json 2>&1; cat "$work/agent.log")"
"$usbip" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["schema"] == 1 and any(x.get("daemon") == "usbip agent" for x in d["daemons"])' 2>"$work/json.err"
result "usbip status --json is valid JSON with a schema version" $? "$(cat "$work/json.err")"
wait_status '"state": ?"waiting for its device"'
result "the rule waits for its device" $? "$("$usbip" status --json 2>&1)"

printf '[attach disk]\nremote = 127.0.0.1\n' >>"$work/agent.conf.broken"
cp "$work/agent.conf" "$work/agent.conf.good"
printf '\n[attach other]\nremote = nowhere\nbusid = 1-1 2\n' >>"$work/agent.conf"
kill -HUP $agent
wait_status '"reload_refused"'
result "a broken file on SIGHUP: the reload is refused, and status says why" $? \
	"$("$usbip" status --json 2>&1; tail -3 "$work/agent.log")"
! status_has '"name": ?"other"'
result "nothing of the broken file was applied" $? ""
cp "$work/agent.conf.good" "$work/agent.conf"
printf '\n[attach tablet]\nremote = 127.0.0.1\ntcp-port = %s\nhardware-id = 0627:0001\n' \
	"$daemon_port" >>"$work/agent.conf"
kill -HUP $agent
wait_status '"name": ?"tablet"'
result "a good file on SIGHUP adds the new rule" $? "$(tail -3 "$work/agent.log")"
grep -q "reloaded .*: 1 rules unchanged, 1 started, 0 stopped" "$work/agent.log"
result "the unchanged rule went on untouched" $? "$(tail -3 "$work/agent.log")"
kill $agent
wait $agent
result "SIGTERM ends the agent cleanly" $? "$(tail -3 "$work/agent.log")"
finish
