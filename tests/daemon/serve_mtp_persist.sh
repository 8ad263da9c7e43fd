#!/bin/sh
# usbip serve-mtp --remote --persist exports its device again whenever the
# export ends. Against a stand-in usbipa (python: it accepts each export
# with status 0, closes the first two soon after, keeps the third and
# answers the withdrawal): three exports, each within 2 s of the close
# before (the first pause after a clean close is under 0.5 s), `usbip
# status --json` saying exported, and on SIGTERM one withdrawal and exit 0.
# Against a usbipa that is not there yet: it keeps trying, shows why in
# its status, and reaches the usbipa started after it (which refuses:
# this host has no vhci-hcd; the guest case 34 shows the device back). --max-attempts ends it with status
# 4; the options' misuse is a usage error. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

mkdir -p "$work/one" "$work/run"
chmod 755 "$work"
user=
if [ "$(id -u)" = 0 ]; then
	chown -R 65534:65534 "$work/one"
	user="--user nobody"
fi
USBIP_STATUS_DIR=$work/run
export USBIP_STATUS_DIR

# export_status_is NAME BUSID STATE REASON: `usbip status --json` shows
# serve-mtp's export of BUSID in STATE, its reason holding REASON
export_status_is() {
	timeout 30 "$usbip" status --json >"$work/status.json" 2>&1
	python3 - "$work/status.json" "$2" "$3" "$4" >"$work/check.out" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
mtp = [d for d in doc["daemons"] if d.get("daemon") == "serve-mtp"]
dev = mtp[0]["export"]["devices"][0]
assert dev["busid"] == sys.argv[2] and dev["state"] == sys.argv[3], dev
assert sys.argv[4] in dev.get("reason", ""), dev
PY
	result "$1" $? "$(cat "$work/check.out" "$work/status.json")"
}

# --- the misuse of the options: one line, status 2
usage_fails() {
	_name=$1 _pat=$2
	shift 2
	_out=$("$usbip" serve-mtp --dir "$work/one" "$@" 2>&1)
	_rc=$?
	[ $_rc -eq 2 ] && echo "$_out" | grep -q "$_pat" && [ "$(echo "$_out" | wc -l)" -eq 1 ]
	result "$_name" $? "exit $_rc: $_out"
}
usage_fails "--persist without --remote" "go with --remote" --persist
usage_fails "--max-attempts without --persist" "goes with --persist" \
	--remote 127.0.0.1 --max-attempts 3
usage_fails "--max-attempts 0" "from 1 to 1000000" --remote 127.0.0.1 --persist --max-attempts 0
usage_fails "--dead-peer-timeout 1" "dead-peer" --remote 127.0.0.1 --persist --dead-peer-timeout 1

# --- a stand-in usbipa that lets the device go twice
python3 - "$work/fake.port" "$work/fake.log" >"$work/fake.out" 2>&1 <<'PY' &
import socket, struct, sys, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(srv.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
log = open(sys.argv[2], "a", buffering=1)
exports, held = 0, None
while True:
    c, _ = srv.accept()
    c.settimeout(5)
    hdr = c.recv(8, socket.MSG_WAITALL)
    if len(hdr) < 8:
        c.close()
        continue
    code = struct.unpack(">HHI", hdr)[1]
    time.sleep(0.05)  # the device record follows; drop what came
    try:
        c.recv(4096, socket.MSG_DONTWAIT)
    except BlockingIOError:
        pass
    if code == 0x8006:  # OP_REQ_EXPORT: accepted (OP_REP_EXPORT, status 0)
        exports += 1
        c.sendall(struct.pack(">HHI", 0x0111, 0x0006, 0))
        log.write("export %d %.3f\n" % (exports, time.time()))
        if exports <= 2:
            time.sleep(0.2)
            log.write("closed %d %.3f\n" % (exports, time.time()))
            c.close()
        else:
            held = c
    elif code == 0x8007:  # OP_REQ_UNEXPORT: done, and the held one goes
        c.sendall(struct.pack(">HHI", 0x0111, 0x0007, 0))
        log.write("unexport %.3f\n" % time.time())
        c.close()
        if held:
            held.close()
            held = None
    else:
        c.close()
PY
peer=$!
i=0
until [ -s "$work/fake.port" ] || [ $i -ge 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
fport=$(cat "$work/fake.port" 2>/dev/null)
[ -n "$fport" ] || {
	echo "Bail out! the stand-in usbipa did not start: $(cat "$work/fake.out")"
	exit 1
}

# shellcheck disable=SC2086
"$usbip" -t "$fport" serve-mtp --dir "$work/one" --busid 1-5 --remote 127.0.0.1 --persist \
	$user >"$work/serve.log" 2>&1 &
pid=$!
exports_are() { [ "$(grep -c '^export' "$work/fake.log" 2>/dev/null)" -ge "$1" ]; }
i=0
until exports_are 3 || [ $i -ge 200 ] || ! kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	sleep 0.1
done
exports_are 3
result "exported again after each of two closes" $? "$(cat "$work/fake.log" "$work/serve.log")"

# the pause after each close: within 2 s (0.5 s drawn, plus a slow build's start)
gaps=$(awk '$1 == "closed" { c = $3 } $1 == "export" && c { printf "%.3f\n", $3 - c; c = 0 }' \
	"$work/fake.log")
[ "$(echo "$gaps" | grep -c .)" -eq 2 ] && echo "$gaps" | awk '$1 >= 2 { bad = 1 } END { exit bad }'
result "each export again within 2 s of the close (took: $(echo $gaps))" $? "$(cat "$work/fake.log")"

export_status_is "usbip status --json: its export, exported" 1-5 exported ""

kill "$pid"
wait "$pid"
rc=$?
pid=
[ $rc -eq 0 ] && [ "$(grep -c '^unexport' "$work/fake.log")" -eq 1 ] &&
	[ "$(grep -c '^export' "$work/fake.log")" -eq 3 ]
result "SIGTERM: withdrawn once, not exported again, exit 0" $? \
	"exit $rc: $(cat "$work/fake.log" "$work/serve.log")"
kill "$peer" 2>/dev/null
wait "$peer" 2>/dev/null
peer=

# --- no usbipa yet: it retries; a usbipa started later hears it (and refuses: no vhci-hcd)
daemon_start "$work/probe.log" "$usbipa" -t 0 -a 127.0.0.1 --allow-any
aport=$daemon_port
kill "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
# shellcheck disable=SC2086
"$usbip" -t "$aport" serve-mtp --dir "$work/one" --busid 1-6 --remote 127.0.0.1 --persist \
	$user >"$work/serve2.log" 2>&1 &
pid=$!
retried() { [ "$(grep -c 'retrying in' "$work/serve2.log")" -ge 2 ]; }
i=0
until retried || [ $i -ge 200 ] || ! kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	sleep 0.1
done
retried && kill -0 "$pid"
result "no usbipa there: still running, retrying" $? "$(cat "$work/serve2.log")"

export_status_is "usbip status --json: retrying, and why" 1-6 retrying unreachable

"$usbipa" -t "$aport" -a 127.0.0.1 --allow-any >"$work/usbipa.log" 2>&1 &
pids="$pids $!"
i=0
until grep -q ":$aport: refused 1-6" "$work/serve2.log" || [ $i -ge 200 ]; do
	i=$((i + 1))
	sleep 0.1
done
grep -q "connection from" "$work/usbipa.log" && grep -q ":$aport: refused 1-6" "$work/serve2.log" &&
	kill -0 "$pid"
result "the usbipa started later hears it (and refuses: no vhci-hcd here)" $? \
	"$(cat "$work/usbipa.log" "$work/serve2.log")"
kill "$pid"
wait "$pid"
rc=$?
pid=
result "SIGTERM while retrying: exit 0" $rc "$(tail -5 "$work/serve2.log")"

# --- --max-attempts: it gives up and says so with status 4 (1: at its start, 2: later)
for m in 1 2; do
	# shellcheck disable=SC2086
	timeout 60 "$usbip" -t "$aport" serve-mtp --dir "$work/one" --busid 1-6 --remote 127.0.0.2 \
		--persist --max-attempts $m $user >"$work/serve3.log" 2>&1
	rc=$?
	[ $rc -eq 4 ] && grep -q "$m attempts failed" "$work/serve3.log"
	result "--max-attempts $m: gives up, exit 4" $? "exit $rc: $(cat "$work/serve3.log")"
done

finish
