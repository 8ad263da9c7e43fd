#!/bin/sh
# usbip status against status sockets that misbehave (tests/tools/
# fake_status): one that drips bytes, one that says nothing, one whose
# backlog is full, garbage, unbalanced braces, deep nesting, an answer of
# 2 MiB, valid JSON that lies, and a good one, all in a folder of the
# test's own (USBIP_STATUS_DIR). usbip status must end within the deadline
# (2 s for each slow socket), show the good answer, report each bad one as
# that socket's error, print valid JSON with --json, and let no control
# character of a peer's reach the text form. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
fake=$builddir/tests/tools/fake_status

mkdir "$work/run"
modes="good drip silent backlog garbage unbalanced deep huge lie array"
for mode in $modes; do
	"$fake" "$work/run/$mode.sock" "$mode" >"$work/$mode.log" 2>&1 &
	pids="$pids $!"
done
for mode in $modes; do
	_i=0
	while ! grep -q ready "$work/$mode.log"; do
		_i=$((_i + 1))
		if [ $_i -ge 100 ]; then
			echo "Bail out! fake_status $mode did not start: $(cat "$work/$mode.log")"
			exit 1
		fi
		sleep 0.1
	done
done
# A socket nobody listens on any more: not shown at all.
"$fake" "$work/run/dead.sock" good >/dev/null 2>&1 &
dead=$!
while [ ! -S "$work/run/dead.sock" ]; do sleep 0.1; done
kill $dead
wait $dead 2>/dev/null

now_ms() { echo $(($(date +%s%N) / 1000000)); }
start=$(now_ms)
USBIP_STATUS_DIR=$work/run timeout 30 "$usbip" status --json >"$work/status.json" 2>"$work/status.err"
rc=$?
elapsed=$(($(now_ms) - start))
[ $rc -eq 0 ]
result "usbip status --json ends with exit 0" $? "exit $rc: $(cat "$work/status.err")"
# Two slow sockets (drip, silent) at 2 s each; the rest answer or fail at once.
[ $elapsed -lt 8000 ]
result "within the deadline: 2 s for each slow socket (took $elapsed ms)" $? ""

python3 - "$work/status.json" "$work/run" >"$work/check.out" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
run = sys.argv[2]
daemons = doc["daemons"]
assert doc["schema"] == 1, doc["schema"]
good = [d for d in daemons if d.get("daemon") == "fake"]
assert len(good) == 1 and good[0]["pid"] == 1, good
errors = {d["socket"]: d["error"] for d in daemons if "error" in d}
bad = ["drip", "silent", "backlog", "garbage", "unbalanced", "deep", "huge", "array"]
for mode in bad:
    assert run + "/" + mode + ".sock" in errors, (mode, errors)
assert "within 2000 ms" in errors[run + "/drip.sock"], errors
assert "within 2000 ms" in errors[run + "/silent.sock"], errors
assert "larger than" in errors[run + "/huge.sock"], errors
assert "nested too deep" in errors[run + "/deep.sock"], errors
assert "not a JSON object" in errors[run + "/array.sock"], errors
lie = [d for d in daemons if d.get("pid") == -1.5e300]
assert len(lie) == 1 and lie[0]["daemon"].startswith("\x1b[2J"), lie
assert not any(d.get("socket", "").endswith("dead.sock") for d in daemons), daemons
assert len(daemons) == 10, len(daemons)
print("ok")
PY
result "--json is valid JSON: the good answer, the lie as JSON, an error for each bad socket" $? \
	"$(cat "$work/check.out" "$work/status.json" | cut -c1-400)"

USBIP_STATUS_DIR=$work/run timeout 30 "$usbip" status >"$work/status.txt" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "^fake  *-  *-  *.*running, no device$" "$work/status.txt"
result "the text form shows the good answer" $? "exit $rc: $(cut -c1-200 "$work/status.txt")"
[ "$(grep -c "\.sock: no status: " "$work/status.txt")" -eq 8 ]
result "the text form: one line for each bad socket" $? "$(grep "no status" "$work/status.txt")"
! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$work/status.txt"
result "no control character of a peer's reaches the text form" $? \
	"$(LC_ALL=C grep -n "$(printf '[\001-\010\013-\037\177]')" "$work/status.txt" | od -c | head)"
grep -q '^\\x1b\[2J' "$work/status.txt"
result "a peer's escape sequence is shown escaped" $? "$(grep 'x1b' "$work/status.txt")"

empty=$work/empty
mkdir "$empty"
out=$(USBIP_STATUS_DIR=$empty timeout 10 "$usbip" status 2>&1)
echo "$out" | grep -q "no usbipd, usbipa or agent answers here ($empty)"
result "an empty folder: nothing answers, and it says where it looked" $? "$out"

# Two usbipa on one host, on two ports: the second answers on usbipa-PORT.sock
# (the first keeps usbipa.sock), and usbip status shows both.
two=$work/two
mkdir "$two"
USBIP_STATUS_DIR=$two daemon_start "$work/a1.log" "$usbipa" -t 0 --allow-any
a1=$daemon_pid
USBIP_STATUS_DIR=$two daemon_start "$work/a2.log" "$usbipa" -t 0 --allow-any
a2=$daemon_pid p2=$daemon_port
_i=0
until [ -S "$two/usbipa-$p2.sock" ] || [ $_i -ge 100 ]; do sleep 0.05; _i=$((_i + 1)); done
[ -S "$two/usbipa.sock" ] && [ -S "$two/usbipa-$p2.sock" ] && ! grep -q "another instance" "$work/a2.log"
result "a second usbipa on another port answers on usbipa-$p2.sock" $? "$(ls "$two"; cat "$work/a2.log")"
USBIP_STATUS_DIR=$two timeout 10 "$usbip" status --json >"$work/two.json" 2>&1
[ "$(grep -o '"daemon": *"usbipa"' "$work/two.json" | wc -l)" = 2 ]
result "usbip status shows both usbipa" $? "$(cat "$work/two.json")"
kill "$a1" "$a2"
wait "$a1"
rc1=$?
wait "$a2"
[ $rc1 = 0 ] && [ $? = 0 ] && [ -z "$(ls "$two")" ]
result "both stop cleanly (exit 0), their sockets gone" $? "$(ls "$two")"
echo "1..$n"
[ $failed -eq 0 ]
