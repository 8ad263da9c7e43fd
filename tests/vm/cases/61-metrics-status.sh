#!/bin/sh
# usbipa --metrics and usbip status with a real vhci-hcd: serve-mtp
# exports to usbipa (connect mode); /metrics (scraped with curl, the text
# format checked with awk, and with promtool when run.sh had
# VM_PROMTOOL=1) counts the import and one free port less on its root hub,
# and back when it is withdrawn; `usbip status --json` gives the attached
# port and the imported device the rules' selector fields (busid, vendor,
# product, serial), the serial being the one serve-mtp was given.
. /tests/lib.sh
mtp_need_tools
net_need curl
trap 'rc=$?; [ $rc = 0 ] || { mtp_dump; tail -n 20 usbipa.log; }' EXIT
mtp_make_tree /tmp/mtpdir

# scrape FILE — GET /metrics into FILE, checked: each sample after its
# family's HELP and TYPE, a valid name, a number; usbipa_up 1
scrape() {
    curl -sS -m 10 -o "$1" http://127.0.0.1:9250/metrics || return 1
    awk '
        /^# HELP / { help[$3] = 1; next }
        /^# TYPE / { if (!help[$3] || ($4 != "gauge" && $4 != "counter")) exit 1; type[$3] = 1; next }
        {
            name = $1; sub(/\{.*/, "", name)
            if (name !~ /^usbipa_[a-z_]+$/ || !type[name]) exit 1
            if ($NF !~ /^-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$/) exit 1
            if ($0 == "usbipa_up 1") up = 1
        }
        END { exit !up }' "$1" || { cat "$1"; return 1; }
    if command -v promtool >/dev/null 2>&1; then
        promtool check metrics <"$1" || return 1
    fi
}
# sample FILE LINE-START — the value of the sample whose line starts so
sample() { awk -v s="$2" 'index($0, s " ") == 1 { print $NF }' "$1"; }
free_ports() { awk '/^usbipa_vhci_ports_free\{/ { n += $NF } END { print n + 0 }' "$1"; }

usbipa -d --allow-any -t 3250 --metrics 127.0.0.1:9250 >usbipa.log 2>&1 &
USBIPA_PID=$!
must_wait 10 "usbipa listening" tcp_listening 3250
must_wait 10 "its metrics" tcp_listening 9250
must scrape before.txt
[ "$(sample before.txt 'usbipa_imports{state="attached"}')" = 0 ] || fail "imports before: $(cat before.txt)"
free0=$(free_ports before.txt)
[ "$free0" -gt 0 ] || fail "no free vhci port counted: $(cat before.txt)"

echo "+ usbip -t 3250 serve-mtp --dir /tmp/mtpdir --serial SN-61-metrics --remote 127.0.0.1"
usbip -t 3250 serve-mtp --dir /tmp/mtpdir --serial SN-61-metrics --remote 127.0.0.1 >serve-mtp.log 2>&1 &
MTP_SERVE_PID=$!
mtp_wait_device
must scrape during.txt
[ "$(sample during.txt 'usbipa_imports{state="attached"}')" = 1 ] || fail "imports: $(cat during.txt)"
[ "$(free_ports during.txt)" = $((free0 - 1)) ] || fail "free ports $free0 -> $(free_ports during.txt)"
[ "$(sample during.txt usbipa_last_change_timestamp_seconds)" != 0 ] || fail "no last change"

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
kill "$USBIPA_PID"
wait "$USBIPA_PID" || fail "usbipa did not stop cleanly"
command -v promtool >/dev/null 2>&1 && log "promtool check metrics: 3 scrapes passed"
log "usbipa /metrics: the import and its port counted and given back; status has the selector fields"
