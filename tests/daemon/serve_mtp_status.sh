#!/bin/sh
# usbip serve-mtp answers `usbip status` like the other daemons: started
# (as root, with --user nobody: it gives root up and enters its sandbox)
# on a port from the kernel, with USBIP_STATUS_DIR a folder of the test's,
# it has a status socket named after its port; `usbip status` shows its
# device row and `--json` its object (daemon, port, folders with their
# read-only flags, the busid); while a host imported the device (bad_peer
# mtp-hold), the row names that peer; after SIGTERM the socket is gone.
# Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

mkdir -p "$work/one" "$work/two" "$work/run"
chmod 755 "$work"
user=
if [ "$(id -u)" = 0 ]; then
	chown -R 65534:65534 "$work/one" "$work/two"
	user="--user nobody"
fi
USBIP_STATUS_DIR=$work/run
export USBIP_STATUS_DIR

# shellcheck disable=SC2086
daemon_start "$work/serve.log" "$usbip" -d -t 0 serve-mtp --dir "$work/one" \
	--dir "$work/two::ro" --busid 1-7 -a 127.0.0.1 $user
pid=$daemon_pid port=$daemon_port

sock=$(find "$work/run" -name "serve-mtp-$port.sock")
[ -n "$sock" ] && [ -S "$sock" ]
result "its status socket is serve-mtp-$port.sock" $? "$(find "$work/run" -ls)"

timeout 30 "$usbip" status >"$work/status.txt" 2>&1
grep -Eq '^serve-mtp +1-7 .* available *$' "$work/status.txt"
result "usbip status shows its device row" $? "$(cat "$work/status.txt")"

timeout 30 "$usbip" status --json >"$work/status.json" 2>&1
python3 - "$work/status.json" "$work" "$port" >"$work/check.out" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
work, port = sys.argv[2], int(sys.argv[3])
mtp = [d for d in doc["daemons"] if d.get("daemon") == "serve-mtp"]
assert len(mtp) == 1, doc
m = mtp[0]
assert m["port"] == port, m
assert m["dirs"] == [{"dir": work + "/one", "read_only": False},
                     {"dir": work + "/two", "read_only": True}], m["dirs"]
assert [d["busid"] for d in m["devices"]] == ["1-7"], m["devices"]
assert m["devices"][0]["state"] == "available", m["devices"]
print("ok")
PY
result "usbip status --json: daemon, port, folders, busid" $? \
	"$(cat "$work/check.out" "$work/status.json" | cut -c1-600)"

# The selector fields (busid, vendor, product) as `usbip list -r` gives them.
timeout 30 "$usbip" list --json -r "127.0.0.1:$port" >"$work/list.json" 2>&1
python3 - "$work/status.json" "$work/list.json" >"$work/ids.out" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
listed = json.load(open(sys.argv[2]))
dev = [d for d in doc["daemons"] if d.get("daemon") == "serve-mtp"][0]["devices"][0]
ids = {(d["busid"], d["vendor"], d["product"]) for d in listed}
assert (dev["busid"], dev["vendor"], dev["product"]) in ids, (dev, listed)
print("ok")
PY
result "usbip status --json: busid, vendor and product as usbip list -r has them" $? \
	"$(cat "$work/ids.out" "$work/list.json" | cut -c1-600)"

# A host that imported the device: the row names it.
"$bad_peer" 127.0.0.1 "$port" mtp-hold 1-7 idle >"$work/peer.out" 2>&1 &
peer=$!
_i=0
until grep -q holding "$work/peer.out" 2>/dev/null; do
	if ! kill -0 "$peer" 2>/dev/null || [ $_i -ge 100 ]; then
		echo "Bail out! bad_peer could not import: $(cat "$work/peer.out")"
		exit 1
	fi
	_i=$((_i + 1))
	sleep 0.1
done
timeout 30 "$usbip" status >"$work/status.txt" 2>&1
grep -Eq '^serve-mtp +1-7 +127\.0\.0\.1:[0-9]+ .* exported *$' "$work/status.txt"
result "while imported, the row names the peer" $? "$(cat "$work/status.txt")"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
wait "$peer" 2>/dev/null
peer=
[ "$rc" = 0 ] && [ ! -e "$sock" ]
result "after SIGTERM (exit 0) the socket is gone" $? "exit $rc; $(find "$work/run" -ls; tail -3 "$work/serve.log")"

echo "1..$n"
[ "$failed" = 0 ]
