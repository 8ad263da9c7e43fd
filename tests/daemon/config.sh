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

# --check refuses what a start would refuse, one line each, exit 2.
check_fails() { # NAME PATTERN COMMAND...: exit 2, one line, matching PATTERN
	_name=$1 _pattern=$2
	shift 2
	_out=$(timeout 10 "$@" --check 2>&1)
	_rc=$?
	[ $_rc -eq 2 ] && [ "$(printf '%s\n' "$_out" | wc -l)" -eq 1 ] &&
		printf '%s\n' "$_out" | grep -q -- "$_pattern"
	result "--check refuses $_name (one line, exit 2)" $? "exit $_rc: $_out"
}
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=localhost -keyout "$work/tls.key" -out "$work/tls.pem" >/dev/null 2>&1; then
	printf '[usbipd]\ntls = yes\n' >"$work/tls-nocert.conf"
	check_fails "TLS with no certificate" "needs --cert and --key" \
		"$usbipd" --config "$work/tls-nocert.conf"
	check_fails "a missing certificate" "/nonexistent.pem" \
		"$usbipd" --tls --cert /nonexistent.pem --key "$work/tls.key"
	check_fails "a missing key" "/nonexistent.key" \
		"$usbipd" --tls --cert "$work/tls.pem" --key /nonexistent.key
	check_fails "a missing CA" "/nonexistent-ca.pem" \
		"$usbipd" --tls --cert "$work/tls.pem" --key "$work/tls.key" --ca /nonexistent-ca.pem
	check_fails "a directory as the certificate" "certificate $work" \
		"$usbipd" --tls --cert "$work" --key "$work/tls.key"
	out=$(timeout 10 "$usbipd" --tls --cert "$work/tls.pem" --key "$work/tls.key" --check 2>&1)
	result "--check of good TLS files: exit 0" $? "$out"
	# What is not a file is refused at once, by --check and by a start alike:
	# never waited on (a FIFO with no writer), never read without end.
	mkfifo "$work/tls.fifo" && mkdir "$work/tls.dir"
	truncate -s 9M "$work/huge.pem" # more than a CA bundle may have
	for bad in "$work/tls.fifo" "$work/tls.dir" /dev/zero "$work/huge.pem"; do
		for which in cert key ca; do
			cert=$work/tls.pem key=$work/tls.key ca=$work/tls.pem
			eval "$which=\$bad"
			check_fails "$bad as --$which" " $bad: .*\(not a\|more than\)" \
				"$usbipd" --tls --cert "$cert" --key "$key" --ca "$ca"
			out=$(timeout 10 "$usbipd" -t 0 -a 127.0.0.1 --tls --cert "$cert" \
				--key "$key" --ca "$ca" 2>&1)
			rc=$?
			[ $rc -eq 2 ] && [ "$(echo "$out" | grep -c " $bad: ")" -eq 1 ] &&
				! echo "$out" | grep -q "listening on"
			result "a start with $bad as --$which: exit 2 at once, one line" $? \
				"exit $rc: $out"
		done
	done
	# A key its user cannot read (root reads everything: the check runs as nobody).
	if command -v setpriv >/dev/null; then
		mkdir -m 755 "$work/pki" && chmod 711 "$work"
		cp "$work/tls.pem" "$work/tls.key" "$work/pki/" && chmod 644 "$work/pki/tls.pem"
		check_fails "a key that cannot be read" "Permission denied" \
			setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$usbipd" --tls --cert "$work/pki/tls.pem" --key "$work/pki/tls.key"
	fi
else
	result "openssl makes a test certificate" 1 "openssl req failed"
fi
check_fails "a selector that can never match" "'zzzz' can never match" "$usbipd" --auto-bind zzzz
check_fails "a selector that does not parse" "not VID:PID" "$usbipd" --auto-bind 12:zz
check_fails "--auto-bind with --device" "gadgets need no binding" "$usbipd" -e --auto-bind 1-1
check_fails "a client's option given to a server" "client's option" "$usbipd" --pin 00
check_fails "a user that does not exist" "no user" "$usbipd" --user no-such-user-here
# The address to listen on: one that does not parse or resolve, or is not
# this machine's (192.0.2.1, TEST-NET-1), is refused by --check and a start.
usbipa=$builddir/src/usbipa
for addr in 999.1.1.1 not-an-address 192.0.2.1; do
	check_fails "--address $addr" "^usbipd: --address $addr: " "$usbipd" -a "$addr"
	check_fails "usbipa --address $addr" "^usbipa: --address $addr: " "$usbipa" -a "$addr"
	# serve-mtp has no --check: its start refuses it, the same code.
	out=$(timeout 10 "$usbip" -t 0 serve-mtp --dir "$work" --user "$(id -un)" -a "$addr" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] &&
		echo "$out" | grep -q -- "--address $addr: "
	result "serve-mtp on --address $addr: exit 2 at once, one line" $? "exit $rc: $out"
	out=$(timeout 10 "$usbipd" -t 0 -a "$addr" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && [ "$(echo "$out" | grep -c -- "--address $addr: ")" -eq 1 ] &&
		! echo "$out" | grep -q "listening on"
	result "a start on --address $addr: exit 2 at once, one line" $? "exit $rc: $out"
done
out=$(timeout 10 "$usbipd" -t 0 -a 127.0.0.1 --check 2>&1)
rc=$?
[ $rc -eq 0 ] && ! echo "$out" | grep -q "listening on"
result "--check of --address 127.0.0.1: exit 0, nothing listens" $? "exit $rc: $out"
out=$(timeout 10 "$usbip" --tls --allow-subject CN=x serve-mtp --dir "$work" -r 127.0.0.1 2>&1)
rc=$?
[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "a server's option"
result "serve-mtp --remote refuses a server's option (one line, exit 2)" $? "exit $rc: $out"
out=$(timeout 10 "$usbipd" --check 2>&1)
rc=$?
[ $rc -eq 0 ] && ! echo "$out" | grep -q "(no file)" && echo "$out" | grep -q "no --config"
result "--check with no --config says it checked the command line" $? "exit $rc: $out"
printf '[export a]\nremote = x\nbusid = 1-1\nallow-subject = CN=x\n' >"$work/client.conf"
check_fails "a server's key in a client's section" "client.conf:4: \[export a\] allow-subject" \
	"$usbip" agent --config "$work/client.conf"
printf '[export a]\nremote = x\nbusid = zzzz\n' >"$work/never.conf"
check_fails "an export rule that can never match" "never.conf:1: \[export a\] busid 'zzzz'" \
	"$usbip" agent --config "$work/never.conf"
printf '[attach a]\nremote = x\nbusid = 1-1\ntls = yes\nca = /nonexistent-ca.pem\n' >"$work/ca.conf"
check_fails "a rule's missing CA" "ca.conf:1: \[attach a\] CA /nonexistent-ca.pem" \
	"$usbip" agent --config "$work/ca.conf"
mkfifo "$work/rule-ca.fifo"
printf '[attach a]\nremote = x\nbusid = 1-1\ntls = yes\nca = %s\n' "$work/rule-ca.fifo" \
	>"$work/fifo-ca.conf"
check_fails "a rule's CA that is a FIFO" "fifo-ca.conf:1: \[attach a\] CA .*: a FIFO" \
	"$usbip" agent --config "$work/fifo-ca.conf"

# The file as written: what is not a regular file is refused at once; a
# long comment is one comment, a byte-order mark is no part of a section.
mkfifo "$work/fifo"
for path in "$work" "$work/fifo" /dev/zero /dev/null; do
	check_fails "$path as the file" "^$path: " "$usbipd" --config "$path"
done
{ printf '[usbipd]\n# '; head -c 300000 /dev/zero | tr '\0' x; printf ' tcp-port = 1\n'; } \
	>"$work/long.conf"
check_fails "a comment longer than a line may be" "long.conf:2: .*more than the 65536" \
	"$usbipd" --config "$work/long.conf"
{ printf '[usbipd]\n# '; head -c 1000 /dev/zero | tr '\0' x; printf ' tcp-port = 99999\n'; } \
	>"$work/comment.conf"
out=$(timeout 10 "$usbipd" --config "$work/comment.conf" --check 2>&1)
result "a long comment ending in 'tcp-port = 99999' stays a comment" $? "$out"
printf '\357\273\277[usbipd]\nbogus = 1\n' >"$work/bom.conf"
check_fails "a bad key in the first section after a byte-order mark" "bom.conf:2: \[usbipd\] bogus" \
	"$usbipd" --config "$work/bom.conf"
printf '[usbipd]\naddress = 127.0.0.1\0\ntcp-port = 1\n' >"$work/nul.conf"
check_fails "a NUL byte" "nul.conf:2: a NUL byte" "$usbipd" --config "$work/nul.conf"

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
