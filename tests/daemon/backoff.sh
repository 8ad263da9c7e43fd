#!/bin/sh
# No storms: 20 agents that lost the same (fake) usbipa at once retry with
# the agents' own pauses (tests/tools/backoff_fleet) and spread their
# attempts and reconnects over the window, where the same fleet without
# jitter comes back in lockstep; all are back within the cap of the peer's
# return. Then --dead-peer-timeout's bad values: one line, exit 2, from
# every program that takes it; attach --persist giving up after
# --max-attempts and on SIGUSR1. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
fleet=$builddir/tests/tools/backoff_fleet

value() { sed -n "s/^$1 //p" "$2"; }

timeout 60 "$fleet" 20 8000 >"$work/jitter" 2>&1
rc=$?
[ $rc -eq 0 ] && [ "$(value through "$work/jitter")" = 20 ]
result "20 agents: every one gets through once the peer is back" $? "$(cat "$work/jitter")"
# The cap (5 s) and the floor of a pause bound the last reconnect after the return.
[ "$(value last_ms "$work/jitter")" -le 5500 ]
result "the last one within the cap (5 s) of the peer's return: $(value last_ms "$work/jitter") ms" \
	$? "$(cat "$work/jitter")"
[ "$(value spread_ms "$work/jitter")" -ge 1000 ]
result "their reconnects spread over the window: $(value spread_ms "$work/jitter") ms" $? \
	"$(cat "$work/jitter")"
[ "$(value worst_500ms_during_outage "$work/jitter")" -lt 15 ]
result "no half second of the outage holds most of the fleet's attempts: at most $(value \
	worst_500ms_during_outage "$work/jitter")" $? "$(cat "$work/jitter")"

# The measure itself tells lockstep apart: without jitter they come back together.
timeout 60 "$fleet" 20 8000 lockstep >"$work/lockstep" 2>&1
[ "$(value spread_ms "$work/lockstep")" -lt 300 ] &&
	[ "$(value worst_500ms_during_outage "$work/lockstep")" -ge 19 ]
result "without jitter the same fleet is in lockstep (spread $(value spread_ms \
	"$work/lockstep") ms), so the measure can fail" $? "$(cat "$work/lockstep")"

for v in 0 -1 4 3601 999999999999 ten; do
	for cmd in "$builddir/src/usbipd --check" "$builddir/src/usbipa --check" \
		"$usbip connect -r 127.0.0.1 -b 1-1" "$usbip attach -r 127.0.0.1 -b 1-1" \
		"$usbip agent --config /dev/null --check"; do
		# shellcheck disable=SC2086
		out=$(timeout 10 $cmd --dead-peer-timeout "$v" 2>&1)
		rc=$?
		[ $rc -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] &&
			echo "$out" | grep -q "from 5 to 3600"
		result "${cmd%% -*} --dead-peer-timeout $v: one line, exit 2" $? "exit $rc: $out"
	done
done
printf '[agent]\ndead-peer-timeout = 5\n' >"$work/agent.conf"
out=$(timeout 10 "$usbip" agent --config "$work/agent.conf" --check 2>&1)
result "[agent] dead-peer-timeout = 5 is taken" $? "$out"
printf '[export x]\nremote = a\nbusid = 1-1\ndead-peer-timeout = 5\nmax-attempts = 0\n' \
	>"$work/rule.conf"
out=$(timeout 10 "$usbip" agent --config "$work/rule.conf" --check 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "rule.conf:4: \[export x\] dead-peer-timeout: goes in \[agent\]" &&
	echo "$out" | grep -q "rule.conf:5: \[export x\] max-attempts: '0' is not a count"
result "dead-peer-timeout in a rule, max-attempts 0: FILE:LINE errors, exit 2" $? "exit $rc: $out"
out=$(timeout 10 "$usbip" attach -r 127.0.0.1 -b 1-1 --max-attempts 3 2>&1)
rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "go with --persist"
result "--max-attempts without --persist: exit 2" $? "exit $rc: $out"
# A port nothing listens on, from the kernel: usbipd's, once it has stopped.
daemon_start "$work/usbipd.log" "$builddir/src/usbipd" -a 127.0.0.1 -t 0
closed=$daemon_port
kill $daemon_pid
wait $daemon_pid 2>/dev/null
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_gone() { # PID SECONDS
	_i=0
	while ! gone "$1" && [ $_i -lt $(($2 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	gone "$1"
}

timeout 30 "$usbip" -t "$closed" attach --persist --max-attempts 2 -r 127.0.0.1 -b 1-1 \
	>"$work/max.log" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "following 127.0.0.1 ends: 2 attempts failed" "$work/max.log"
result "attach --persist --max-attempts 2: gives up after 2 failures, exit 1" $? \
	"exit $rc: $(cat "$work/max.log")"

"$usbip" -t "$closed" attach --persist -r 127.0.0.1 -b 1-1 >"$work/usr1.log" 2>&1 &
follower=$!
_i=0
while ! grep -q " ready" "$work/usr1.log" && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
kill -USR1 $follower
wait_gone $follower 10
wait $follower
rc=$?
[ $rc -eq 1 ] && grep -q "ends: told to stop retrying" "$work/usr1.log"
result "SIGUSR1: attach --persist stops retrying and ends, exit 1" $? \
	"exit $rc: $(cat "$work/usr1.log")"
echo "1..$n"
[ $failed -eq 0 ]
