#!/bin/sh
# usbipa --metrics and usbip status with a real vhci-hcd: serve-mtp
# exports to usbipa (connect mode); /metrics (scraped with curl, the text
# format checked with awk, and with promtool when run.sh had
# VM_PROMTOOL=1) counts the import and one free port less on its root hub,
# and back when it is withdrawn; `usbip status --json` gives the attached
# port and the imported device the rules' selector fields (busid, vendor,
# product, serial), the serial being the one serve-mtp was given. With
# --max-imports 1, an export while the device is there is refused with
# status 2 and counted as reason max_imports; draining (SIGUSR1), one
# refused so counts as reason draining.
# Then the bytes through the relays, the disk read whole (its size known)
# through each: usbipa listening on ws:// with TLS inside (--tls-datapath
# relay), the disk exported with `usbip connect`, counts at least the
# disk in usbipa_relay_bytes_total from_peer for both ws and tls, with one
# relay of each running; usbipd over TLS (relay) with the disk attached
# by the agent's [attach] rule (tls = yes, tls-datapath = relay): usbipd
# counts the disk to_peer, the agent (whose network process started the
# client's relay) from_peer, and none running once the agent stopped.
. /tests/lib.sh
mtp_need_tools
net_need curl
[ -n "${VMTEST_DISK_BYTES:-}" ] || fail "no test disk"
trap 'rc=$?; [ $rc = 0 ] || { mtp_dump; tail -n 20 usbipa.log; for f in *.txt; do echo "== $f"; grep relay "$f"; done; tail -n 20 agent.log; }' EXIT
mtp_make_tree /tmp/mtpdir

# scrape FILE [PORT PREFIX] — GET /metrics (port 9250, usbipa's) into
# FILE, checked: each sample after its family's HELP and TYPE, a valid
# name of PREFIX's, a number; PREFIX_up 1
scrape() {
    curl -sS -m 10 -o "$1" "http://127.0.0.1:${2:-9250}/metrics" || return 1
    awk -v prefix="${3:-usbipa}" '
        /^# HELP / { help[$3] = 1; next }
        /^# TYPE / { if (!help[$3] || ($4 != "gauge" && $4 != "counter")) exit 1; type[$3] = 1; next }
        {
            name = $1; sub(/\{.*/, "", name)
            if (name !~ "^" prefix "_[a-z_]+$" || !type[name]) exit 1
            if ($NF !~ /^-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$/) exit 1
            if ($0 == prefix "_up 1") up = 1
        }
        END { exit !up }' "$1" || { cat "$1"; return 1; }
    if command -v promtool >/dev/null 2>&1; then
        promtool check metrics <"$1" || return 1
    fi
}
# sample FILE LINE-START — the value of the sample whose line starts so
sample() { awk -v s="$2" 'index($0, s " ") == 1 { print $NF }' "$1"; }
free_ports() { awk '/^usbipa_vhci_ports_free\{/ { n += $NF } END { print n + 0 }' "$1"; }

# refusals FILE REASON — usbipa_refusals_total of that reason
refusals() { sample "$1" "usbipa_refusals_total{reason=\"$2\"}"; }
# refused_as REASON — a made-up export (bad_peer) refused with status 2, counted as REASON only
refused_as() {
    must scrape "refused-$1-before.txt"
    bad_peer 127.0.0.1 3250 export >"refused-$1.out" 2>&1
    grep -q "^status 2$" "refused-$1.out" || fail "export not refused with status 2: $(cat "refused-$1.out")"
    must scrape "refused-$1.txt"
    for r in max_imports draining no_port not_accepted; do
        _b=$(refusals "refused-$1-before.txt" $r) _a=$(refusals "refused-$1.txt" $r)
        _want=$_b
        [ $r = "$1" ] && _want=$((_b + 1))
        [ "$_a" = "$_want" ] || fail "refusals{reason=$r}: $_b -> $_a after a refusal for $1"
    done
    log "an export refused for $1: usbipa_refusals_total{reason=\"$1\"} $(refusals "refused-$1.txt" "$1")"
}

usbipa -d --allow-any -t 3250 --max-imports 1 --metrics 127.0.0.1:9250 >usbipa.log 2>&1 &
USBIPA_PID=$!
must_wait 10 "usbipa listening" tcp_listening 3250
must_wait 10 "its metrics" tcp_listening 9250
must scrape before.txt
[ "$(sample before.txt 'usbipa_imports{state="attached"}')" = 0 ] || fail "imports before: $(cat before.txt)"
free0=$(free_ports before.txt)
[ "$free0" -gt 0 ] || fail "no free vhci port counted: $(cat before.txt)"

# Not bad_peer's 1-1: its export from the same host would replace this one as stale.
echo "+ usbip -t 3250 serve-mtp --dir /tmp/mtpdir --serial SN-61-metrics --busid 2-7 --remote 127.0.0.1"
usbip -t 3250 serve-mtp --dir /tmp/mtpdir --serial SN-61-metrics --busid 2-7 --remote 127.0.0.1 \
    >serve-mtp.log 2>&1 &
MTP_SERVE_PID=$!
mtp_wait_device
must scrape during.txt
[ "$(sample during.txt 'usbipa_imports{state="attached"}')" = 1 ] || fail "imports: $(cat during.txt)"
[ "$(free_ports during.txt)" = $((free0 - 1)) ] || fail "free ports $free0 -> $(free_ports during.txt)"
[ "$(sample during.txt usbipa_last_change_timestamp_seconds)" != 0 ] || fail "no last change"
refused_as max_imports

must usbip status --json >status.json
vendor=$(cat "/sys/bus/usb/devices/$MTP_BUSID/idVendor")
product=$(cat "/sys/bus/usb/devices/$MTP_BUSID/idProduct")
for field in "\"vendor\":\"$vendor\"" "\"product\":\"$product\"" '"serial":"SN-61-metrics"'; do
    # once in usbipa's attached port, once in what is imported here
    [ "$(grep -o "$field" status.json | wc -l)" -ge 2 ] || fail "status lacks $field twice: $(cat status.json)"
done
grep -q '"attached":\[{"port":[0-9]*,"busid":"[^"]*","vendor"' status.json ||
    fail "usbipa's attached port lacks busid and vendor: $(cat status.json)"

kill "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID"
must_wait 20 "the device gone from vhci" not usb_busid_vhci "$MTP_ID"
must scrape after.txt
[ "$(sample after.txt 'usbipa_imports{state="attached"}')" = 0 ] || fail "imports after: $(cat after.txt)"
[ "$(free_ports after.txt)" = "$free0" ] || fail "free ports after: $(free_ports after.txt), not $free0"
kill -USR1 "$USBIPA_PID"
must_wait 10 "usbipa draining" grep -q "draining: refusing new exports" usbipa.log
refused_as draining
kill "$USBIPA_PID"
wait "$USBIPA_PID" || fail "usbipa did not stop cleanly"
command -v promtool >/dev/null 2>&1 && log "promtool check metrics: 3 scrapes passed"
log "usbipa /metrics: the import and its port counted and given back; status has the selector fields"

# ------------------------------------------------------------ relay bytes
D=$VMTEST_DISK_BYTES
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
pki=$PWD/pki
must make_certs "$pki"
# relayed FILE PREFIX TRANSPORT DIRECTION — the sample's value
relayed() { sample "$1" "$2_relay_bytes_total{transport=\"$3\",direction=\"$4\"}"; }
running() { sample "$1" "$2_relays_running{transport=\"$3\"}"; }
# at_least WHAT VALUE MIN — VALUE (a number) is MIN or more
at_least() {
    if [ -z "$2" ] || [ "$2" -lt "$3" ]; then fail "$1: $2 bytes, not at least $3"; fi
    log "$1: $2 bytes (the disk: $3)"
}

# usbipa on ws:// with TLS inside, both relays in its network process.
must usbipa -D --allow-any --listen ws://127.0.0.1:3263/usbip -P /run/usbipa-61.pid \
    --tls --cert "$pki/server.pem" --key "$pki/server.key" --tls-datapath relay \
    --metrics 127.0.0.1:9263
must_wait 10 "usbipa's metrics" tcp_listening 9263
must scrape relay-before.txt 9263 usbipa
for t in ws tls; do
    [ "$(relayed relay-before.txt usbipa $t from_peer)" = 0 ] || fail "$t bytes before: $(cat relay-before.txt)"
done
inner="--tls --ca $pki/ca.pem --tls-datapath relay"
# shellcheck disable=SC2086
must usbip $inner connect -r ws://localhost:3263/usbip -b "$b"
vhci_disk_intact "exported over ws:// with TLS inside (relays)"
must scrape relay-usbipa.txt 9263 usbipa
at_least "usbipa ws relays from the node" "$(relayed relay-usbipa.txt usbipa ws from_peer)" "$D"
at_least "usbipa tls relays from the node" "$(relayed relay-usbipa.txt usbipa tls from_peer)" "$D"
for t in ws tls; do
    [ "$(relayed relay-usbipa.txt usbipa $t to_peer)" -gt 0 ] || fail "no $t bytes to the node"
    [ "$(running relay-usbipa.txt usbipa $t)" = 1 ] || fail "$t relays running: $(cat relay-usbipa.txt)"
done
# shellcheck disable=SC2086
must usbip $inner disconnect -r ws://localhost:3263/usbip -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
kill "$(cat /run/usbipa-61.pid)"

# usbipd over TLS (relay); the agent attaches with its [attach] rule.
must usbip bind -b "$b"
must usbipd -D -t 3261 -P /run/usbipd-61.pid --tls --cert "$pki/server.pem" \
    --key "$pki/server.key" --tls-datapath relay --metrics 127.0.0.1:9261
cat >agent.conf <<CONF
[agent]
metrics = 127.0.0.1:9262
[attach disk]
remote = localhost
tcp-port = 3261
busid = $b
tls = yes
ca = $pki/ca.pem
tls-datapath = relay
CONF
usbip agent --config agent.conf >agent.log 2>&1 &
AGENT_PID=$!
vhci_disk_intact "attached by the agent over TLS (relays)"
must scrape relay-usbipd.txt 9261 usbipd
must scrape relay-agent.txt 9262 usbip_agent
at_least "usbipd tls relay to the client" "$(relayed relay-usbipd.txt usbipd tls to_peer)" "$D"
at_least "the agent's tls relay from usbipd" "$(relayed relay-agent.txt usbip_agent tls from_peer)" "$D"
[ "$(running relay-agent.txt usbip_agent tls)" = 1 ] || fail "agent relays: $(cat relay-agent.txt)"
[ "$(relayed relay-agent.txt usbip_agent ws from_peer)" = 0 ] || fail "ws bytes without ws"
kill "$AGENT_PID"
wait "$AGENT_PID" || fail "the agent did not stop cleanly"
must_wait 20 "vhci disk gone" not vhci_disk
ended() { scrape relay-end.txt 9261 usbipd && [ "$(running relay-end.txt usbipd tls)" = 0 ]; }
must_wait 20 "usbipd's relay ended" ended
kill "$(cat /run/usbipd-61.pid)"
must usbip unbind -b "$b"
log "relay bytes: usbipa (ws, tls), usbipd and the agent (tls) each counted the $D-byte disk"
