#!/bin/sh
# --metrics on usbipd, usbipa and the agent: each started with --metrics
# 127.0.0.1:0 logs the port the kernel gave (and `usbip status` shows it);
# GET /metrics answers Prometheus's text format, checked strictly (every
# sample's family has HELP and TYPE before it, names and labels valid,
# values numbers; promtool's `check metrics` too where a promtool is at
# hand: $PROMTOOL, on PATH, or the guest's cache of tests/vm/fetch.sh);
# the families of usbip(8), usbipd(8) and usbipa(8) are there; usbipa's
# refusal counter moves after an export it refuses (the build host has no
# vhci-hcd). Bad requests: POST, a header of 9 KiB, another path, not
# HTTP, and 8 connections that say nothing while a ninth is refused: each
# answered or closed within the bounds, while the daemon answers `usbip
# status` and, once they are gone, a scrape. The process that answers
# runs as the user the daemon gives root up to. The bytes through the
# relays: usbipd listens on ws:// too, and each `usbip list` over it goes
# through a WebSocket relay of usbipd's network process, counted in
# usbipd_relay_bytes_total (the same bytes for the same exchange, the
# relay counted started and no longer running); the agent's attach rule
# that looks at usbipd's list over ws:// counts its client relay (started
# by its network process) in usbip_agent_relay_bytes_total. (The TLS
# relay needs the kernel's drivers: tests/daemon/relay_bytes.sh drives it
# alone, the guest case 61 through the daemons.) usbipa's refusals have
# their four reasons. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

command -v curl >/dev/null || skip_all "no curl"
mkdir "$work/run"
USBIP_STATUS_DIR=$work/run
export USBIP_STATUS_DIR

# metrics_port LOG: the port of "metrics on ADDRESS (port N)".
metrics_port() {
	sed -n 's/.* metrics on .* (port \([0-9][0-9]*\))$/\1/p' "$1" | head -1
}

# scrape PORT OUT: GET /metrics into OUT (the body), the status in $code.
scrape() {
	code=$(curl -s -m 5 -o "$2" -w '%{http_code}' "http://127.0.0.1:$1/metrics")
}

# check_text FILE PREFIX FAMILY...: the text format strictly, PREFIX_up 1,
# and each FAMILY (a name) present with HELP, TYPE and a sample.
check_text() {
	python3 - "$@" <<'PY'
import re, sys
path, prefix, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample_re = re.compile(r"^(%s)(\{(%s(,%s)*)?\})? (\S+)$" % (name_re, label_re, label_re))
helps, types, samples = {}, {}, {}
text = open(path, encoding="utf-8").read()
assert text.endswith("\n"), "no newline at the end"
for n, line in enumerate(text.splitlines(), 1):
    where = "line %d: %r" % (n, line)
    if line.startswith("# HELP "):
        name = line.split(" ")[2]
        assert re.fullmatch(name_re, name) and name not in helps, where
        helps[name] = n
    elif line.startswith("# TYPE "):
        parts = line.split(" ")
        assert len(parts) == 4 and parts[3] in ("counter", "gauge"), where
        assert parts[2] in helps and parts[2] not in types, where
        types[parts[2]] = parts[3]
    else:
        m = sample_re.match(line)
        assert m, where
        name = m.group(1)
        assert name in types, "no TYPE before " + where
        assert name.startswith(prefix + "_"), where
        value = float(m.group(5))
        if types[name] == "counter":
            assert name.endswith("_total") and value >= 0, where
        samples.setdefault(name, []).append((m.group(2) or "", value))
for name in helps:
    assert name in types, "HELP without TYPE: " + name
assert samples.get(prefix + "_up") == [("", 1.0)], samples.get(prefix + "_up")
for name in wanted:
    assert name in helps and name in samples, "missing " + name
for name, values in sorted(samples.items()):
    for labels, value in values:
        print("%s%s %s" % (name, labels, value))
PY
}

# promtool_check FILE: `promtool check metrics`, or why it was not run.
promtool=${PROMTOOL:-$(command -v promtool 2>/dev/null ||
	ls "${VM_CACHE:-$srcdir/tests/vm/.cache}"/promtool-*/promtool 2>/dev/null | head -1)}
promtool_check() {
	if [ -z "$promtool" ] || ! [ -x "$promtool" ]; then
		echo "ok $((n += 1)) - # SKIP promtool check metrics: no promtool (\$PROMTOOL, PATH, VM_CACHE)"
		return
	fi
	"$promtool" check metrics <"$1" >"$1.promtool" 2>&1
	result "$2: promtool check metrics finds nothing" $? "$(cat "$1.promtool")"
}

# one DAEMON LOG PREFIX FAMILY...: the port logged and in status, a strict scrape.
one() {
	_what=$1 _log=$2 _prefix=$3
	shift 3
	mport=$(metrics_port "$_log")
	[ -n "$mport" ]
	result "$_what logs the metrics port it got" $? "$(cat "$_log")"
	timeout 30 "$usbip" status --json >"$work/status.json" 2>&1
	grep -q "\"metrics_port\":$mport[,}]" "$work/status.json"
	result "$_what: usbip status --json has metrics_port $mport" $? "$(cat "$work/status.json")"
	scrape "$mport" "$work/$_prefix.txt"
	[ "$code" = 200 ]
	result "$_what: GET /metrics answers 200" $? "code $code"
	check_text "$work/$_prefix.txt" "$_prefix" "$@" >"$work/$_prefix.check" 2>&1
	result "$_what: the text format is strict and has its families" $? \
		"$(cat "$work/$_prefix.check" "$work/$_prefix.txt")"
	promtool_check "$work/$_prefix.txt" "$_what"
}

user=
[ "$(id -u)" = 0 ] && user="--user nobody"

# relayed CHECK PREFIX TRANSPORT DIRECTION: a relay byte counter from check_text's listing.
relayed() {
	sed -n "s/^$2_relay_bytes_total{transport=\"$3\",direction=\"$4\"} \([0-9]*\)\.0$/\1/p" "$1"
}
# relays CHECK PREFIX FAMILY TRANSPORT: PREFIX_relays_FAMILY (started_total, running).
relays() { sed -n "s/^$2_relays_$3{transport=\"$4\"} \([0-9]*\)\.0$/\1/p" "$1"; }
# settled PORT PREFIX NAME: scrapes into NAME.check until no relay runs (10 s at most).
settled() {
	_i=0
	while [ $_i -lt 200 ]; do
		scrape "$1" "$work/$3.txt"
		check_text "$work/$3.txt" "$2" >"$work/$3.check" 2>&1 &&
			[ "$(relays "$work/$3.check" "$2" running ws)" = 0 ] && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

# ----------------------------------------------------------------- usbipd
# usbipd's from its [usbipd] section, the agent's from [agent], usbipa's from the command line.
printf '[usbipd]\nmetrics = 127.0.0.1:0\n' >"$work/usbipd.conf"
# shellcheck disable=SC2086
daemon_start "$work/usbipd.log" "$usbipd" -d -t 0 -a 127.0.0.1 --listen ws://127.0.0.1:0/usbip \
	$user --config "$work/usbipd.conf"
usbipd_pid=$daemon_pid
one usbipd "$work/usbipd.log" usbipd usbipd_devices usbipd_last_export_timestamp_seconds \
	usbipd_build_info usbipd_start_time_seconds usbipd_relay_bytes_total \
	usbipd_relays_started_total usbipd_relays_running
usbipd_mport=$mport
wsport=$(sed -n 's|.* ready on .*ws://127\.0\.0\.1:\([0-9]*\)/usbip.*|\1|p' "$work/usbipd.log")
[ "$(relayed "$work/usbipd.check" usbipd ws from_peer)" = 0 ] &&
	[ "$(relayed "$work/usbipd.check" usbipd ws to_peer)" = 0 ] &&
	[ "$(relays "$work/usbipd.check" usbipd started_total ws)" = 0 ]
result "usbipd: no relay and no byte counted before a connection" $? "$(cat "$work/usbipd.check")"
"$usbip" list -r "ws://127.0.0.1:$wsport/usbip" >"$work/ws-list1.out" 2>&1
settled "$usbipd_mport" usbipd ws1
result "usbipd: a usbip list over ws:// (port '$wsport'): its relay ends, counted so" $? \
	"$(cat "$work/ws-list1.out" "$work/ws1.check")"
from1=$(relayed "$work/ws1.check" usbipd ws from_peer)
to1=$(relayed "$work/ws1.check" usbipd ws to_peer)
[ "${from1:-0}" -ge 8 ] && [ "${to1:-0}" -ge 8 ] &&
	[ "$(relays "$work/ws1.check" usbipd started_total ws)" = 1 ]
result "usbipd: one ws relay started, at least an OP header (8 bytes) each way" $? \
	"from_peer '$from1' to_peer '$to1': $(cat "$work/ws1.check")"
"$usbip" list -r "ws://127.0.0.1:$wsport/usbip" >"$work/ws-list2.out" 2>&1
settled "$usbipd_mport" usbipd ws2
from2=$(relayed "$work/ws2.check" usbipd ws from_peer)
to2=$(relayed "$work/ws2.check" usbipd ws to_peer)
[ "$((from2 - from1))" = "$from1" ] && [ "$((to2 - to1))" = "$to1" ] &&
	[ "$(relays "$work/ws2.check" usbipd started_total ws)" = 2 ] &&
	[ "$(relayed "$work/ws2.check" usbipd tls to_peer)" = 0 ] &&
	[ "$(relayed "$work/ws2.check" usbipd tls from_peer)" = 0 ]
result "usbipd: the same list again adds the same bytes ($from1 in, $to1 out), nothing to tls" $? \
	"$from1/$to1 then $from2/$to2: $(cat "$work/ws2.check")"

# ----------------------------------------------------------------- agent
cat >"$work/agent.conf" <<EOF
[agent]
metrics = 127.0.0.1:0
[attach waiting]
hardware-id = 1234:5678
remote = 127.0.0.1
tcp-port = 1
[attach over-ws]
hardware-id = 1234:5678
remote = ws://127.0.0.1:$wsport/usbip
EOF
# shellcheck disable=SC2086
agent_start "$work/agent.log" --config "$work/agent.conf" $user
one "usbip agent" "$work/agent.log" usbip_agent usbip_agent_rules usbip_agent_exports \
	usbip_agent_imports usbip_agent_reconnects_total usbip_agent_last_change_timestamp_seconds \
	usbip_agent_relay_bytes_total usbip_agent_relays_running
grep -q '^usbip_agent_imports{state="waiting"} 2.0$' "$work/usbip_agent.check" &&
	grep -q '^usbip_agent_rules{kind="attach"} 2.0$' "$work/usbip_agent.check"
result "usbip agent: its attach rules are counted, waiting" $? "$(cat "$work/usbip_agent.check")"
# The rule over ws:// asks usbipd's list through a relay of the agent's network process.
i=0
while [ $i -lt 200 ]; do
	scrape "$mport" "$work/agent-ws.txt"
	check_text "$work/agent-ws.txt" usbip_agent >"$work/agent-ws.check" 2>&1
	[ "$(relayed "$work/agent-ws.check" usbip_agent ws to_peer)" -ge 8 ] 2>/dev/null && break
	sleep 0.05
	i=$((i + 1))
done
ato=$(relayed "$work/agent-ws.check" usbip_agent ws to_peer)
[ "${ato:-0}" -ge 8 ] && [ "$(relays "$work/agent-ws.check" usbip_agent started_total ws)" -ge 1 ] &&
	[ "$(relayed "$work/agent-ws.check" usbip_agent tls to_peer)" = 0 ]
result "usbip agent: its attach rule's look over ws:// counted ($ato bytes to usbipd)" $? \
	"$(cat "$work/agent-ws.check")"
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null
kill "$usbipd_pid"
wait "$usbipd_pid" 2>/dev/null

# ----------------------------------------------------------------- usbipa
# shellcheck disable=SC2086
daemon_start "$work/usbipa.log" "$usbipa" -d -t 0 -a 127.0.0.1 --allow-any $user \
	--metrics 127.0.0.1:0
pid=$daemon_pid port=$daemon_port
# Free ports are sampled only where vhci-hcd is (its family is always there).
vhci_family=
[ -e /sys/devices/platform/vhci_hcd.0 ] && vhci_family=usbipa_vhci_ports_free
# shellcheck disable=SC2086
one usbipa "$work/usbipa.log" usbipa usbipa_imports $vhci_family \
	usbipa_refusals_total usbipa_attach_failures_total usbipa_last_change_timestamp_seconds
grep -q "^# TYPE usbipa_vhci_ports_free gauge$" "$work/usbipa.txt"
result "usbipa: the family usbipa_vhci_ports_free is there" $? "$(cat "$work/usbipa.txt")"

refused() { sed -n "s/^usbipa_refusals_total{reason=\"${2:-not_accepted}\"} \([0-9.]*\)$/\1/p" "$1"; }
for reason in max_imports draining no_port not_accepted; do
	[ "$(refused "$work/usbipa.check" $reason)" = 0.0 ]
	result "usbipa: usbipa_refusals_total has reason $reason, 0 at the start" $? \
		"$(grep refusals "$work/usbipa.check")"
done
if [ -e /sys/devices/platform/vhci_hcd.0 ]; then
	echo "ok $((n += 1)) - # SKIP vhci-hcd is loaded here: an export would be attached"
else
	before=$(refused "$work/usbipa.check")
	"$bad_peer" 127.0.0.1 "$port" export >"$work/export.out" 2>&1
	scrape "$mport" "$work/after.txt"
	check_text "$work/after.txt" usbipa >"$work/after.check" 2>&1
	after=$(refused "$work/after.check")
	[ "$before" = 0.0 ] && [ "$after" = 1.0 ]
	result "usbipa: an export refused (no vhci-hcd) counts in usbipa_refusals_total" $? \
		"before '$before' after '$after': $(cat "$work/export.out" "$work/after.check")"
fi

# The user the answering process runs as: the daemon's --user (or the caller).
mpid=$(ss -Hltnp "sport = :$mport" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
if [ -n "$mpid" ]; then
	[ "$(stat -c %u "/proc/$mpid")" = "$(if [ -n "$user" ]; then id -u nobody; else id -u; fi)" ] &&
		[ "$mpid" != "$pid" ]
	result "the metrics port is held by a process of its own, as the unprivileged user" $? \
		"pid $mpid (daemon $pid), uid $(stat -c %u "/proc/$mpid")"
else
	echo "ok $((n += 1)) - # SKIP ss cannot name the process that listens"
fi

# Bad requests: each its answer, the daemon unharmed.
python3 - "$mport" >"$work/bad.out" 2>&1 <<'PY'
import socket, sys
port = int(sys.argv[1])
def ask(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=8)
    try:
        s.sendall(data)
    except OSError:
        pass
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
    except OSError as e:
        got += b"<" + type(e).__name__.encode() + b">"
    s.close()
    return got.split(b"\r\n", 1)[0].decode(errors="replace")
print("post", ask(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"))
print("huge", ask(b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 9000))
print("path", ask(b"GET /secret HTTP/1.1\r\n\r\n"))
print("junk", ask(b"\x16\x03\x01\x00\xa5\x01\x00\x00\r\n\r\n"))
PY
grep -q "^post HTTP/1.[01] 405" "$work/bad.out"
result "POST is answered 405" $? "$(cat "$work/bad.out")"
grep -q "^huge HTTP/1.[01] 431" "$work/bad.out"
result "a header of 9 KiB is answered 431" $? "$(cat "$work/bad.out")"
grep -q "^path HTTP/1.[01] 404" "$work/bad.out"
result "another path is answered 404" $? "$(cat "$work/bad.out")"
grep -q "^junk HTTP/1.[01] 400" "$work/bad.out"
result "what is not HTTP is answered 400" $? "$(cat "$work/bad.out")"

# 8 connections that say nothing take every slot until they time out (5 s).
touch "$work/hold"
python3 - "$mport" "$work/hold" "$work/held" 2>"$work/idle.err" <<'PY' &
import os, socket, sys, time
idle = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
open(sys.argv[3], "w").close()
while os.path.exists(sys.argv[2]):
    time.sleep(0.02)
for s in idle:
    s.close()
PY
holder=$!
pids="$pids $holder"
i=0
while [ ! -e "$work/held" ] && [ $i -lt 200 ] && kill -0 $holder 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
start=$(date +%s%N)
scrape "$mport" "$work/ninth.txt"
ninth_ms=$((($(date +%s%N) - start) / 1000000))
[ "$code" = 000 ] && [ $ninth_ms -lt 2000 ]
result "with 8 idle connections, a ninth is closed at once" $? "code $code after $ninth_ms ms"
timeout 30 "$usbip" status --json >"$work/busy.json" 2>&1
grep -q '"daemon":"usbipa"' "$work/busy.json"
result "meanwhile the daemon answers usbip status" $? "$(cat "$work/busy.json")"
rm -f "$work/hold"
wait $holder
scrape "$mport" "$work/again.txt"
[ "$code" = 200 ] && kill -0 "$pid" && grep -q "^usbipa_up 1" "$work/again.txt"
result "once they are gone, a scrape is answered again" $? "code $code"
# An idle connection is dropped after its 5 s: the slot comes back alone.
python3 - "$mport" >"$work/slow.out" 2>&1 <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /met")
start = time.time()
s.settimeout(15)
print("closed" if s.recv(100) == b"" else "answered", "%.1f" % (time.time() - start))
PY
awk '$1 == "closed" && $2 >= 4 && $2 <= 8 { ok = 1 } END { exit !ok }' "$work/slow.out"
result "a slow request is dropped after about 5 s" $? "$(cat "$work/slow.out")"
kill -0 "$pid"
result "usbipa still runs" $? "$(tail -5 "$work/usbipa.log")"

kill "$pid"
wait "$pid" 2>/dev/null
result "usbipa stops on SIGTERM with its metrics process (exit 0)" $? "$(tail -5 "$work/usbipa.log")"
[ -z "$mpid" ] || ! kill -0 "$mpid" 2>/dev/null
result "the metrics process is gone" $? "pid $mpid"

# A port in use: one line, exit 1, nothing left running.
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(30)' >"$work/busy.port" &
blocker=$!
pids="$pids $blocker"
while [ ! -s "$work/busy.port" ]; do sleep 0.05; done
# shellcheck disable=SC2086
timeout 20 "$usbipd" -t 0 -a 127.0.0.1 $user --metrics "127.0.0.1:$(cat "$work/busy.port")" \
	>"$work/inuse.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "127.0.0.1:$(cat "$work/busy.port")" "$work/inuse.log"
result "a metrics port in use stops the start (exit 1, the address named)" $? "exit $rc: $(cat "$work/inuse.log")"
kill $blocker

for bad in "127.0.0.1" "127.0.0.1:99999" ":x" "[::1"; do
	"$usbipd" --check --metrics "$bad" >"$work/badopt.out" 2>&1
	rc=$?
	[ $rc = 2 ] && [ "$(wc -l <"$work/badopt.out")" = 1 ] && grep -q -- "--metrics" "$work/badopt.out"
	result "--metrics '$bad' is refused in one line (exit 2)" $? "exit $rc: $(cat "$work/badopt.out")"
done
printf '[attach one]\nhardware-id = 1234:5678\nremote = 127.0.0.1\nmetrics = :0\n' >"$work/rule.conf"
"$usbip" agent --check --config "$work/rule.conf" >"$work/rule.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "metrics: goes in \[agent\]" "$work/rule.out"
result "metrics in a rule is refused: it goes in [agent]" $? "exit $rc: $(cat "$work/rule.out")"
finish
