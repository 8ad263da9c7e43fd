#!/bin/sh
# Export mode: serve-mtp dials out to a usbipa (connect mode) instead of
# listening; usbipa attaches it to vhci-hcd and libmtp's tools use it. On
# SIGTERM serve-mtp withdraws it (OP_REQ_UNEXPORT) and it leaves vhci.
# With --persist the device comes back by itself: after usbipa is stopped
# (it detaches the device) and started again, and after usbipa is killed
# (its port detached by hand, as its host's death would) and started again.
. /tests/lib.sh
mtp_need_tools
if usbipa --help 2>&1 | grep -q "not built yet"; then
    skip "usbipa is not built yet"
fi
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT
mtp_make_tree /tmp/mtpdir
must usbipa -D --allow-any -t 3250 -P /run/usbipa.pid
must_wait 10 "usbipa listening" tcp_listening 3250
echo "+ usbip -t 3250 serve-mtp --dir /tmp/mtpdir --remote 127.0.0.1"
usbip --debug -t 3250 serve-mtp --dir /tmp/mtpdir --remote 127.0.0.1 >serve-mtp.log 2>&1 &
MTP_SERVE_PID=$!
mtp_wait_device
must mtp files >files.txt 2>/dev/null
grep -q 'Filename: deep.txt' files.txt || fail "listing through usbipa"
mtp_get_check big.bin files.txt /tmp/mtpdir/big.bin
head -c 70000 /dev/urandom >sent.bin
must mtp sendfile sent.bin /Music
cmp sent.bin /tmp/mtpdir/Music/sent.bin || fail "the sent file differs"
kill "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID"
must_wait 20 "the device gone from vhci" not usb_busid_vhci "$MTP_ID"
grep -q "could not withdraw" serve-mtp.log && fail "serve-mtp could not withdraw the device"
log "serve-mtp exported to usbipa: listed, read, written, withdrawn"

# --- --persist: usbipa restarted, then killed, and the device back each time
usbipa_up() {
    must usbipa -D --allow-any -t 3250 -P /run/usbipa.pid
    must_wait 10 "usbipa listening" tcp_listening 3250
}
mtp_listed() {
    must mtp files >files.txt 2>/dev/null
    grep -q 'Filename: deep.txt' files.txt || fail "listing through usbipa $1"
}
echo "+ usbip -t 3250 serve-mtp --dir /tmp/mtpdir --remote 127.0.0.1 --persist"
usbip -t 3250 serve-mtp --dir /tmp/mtpdir --remote 127.0.0.1 --persist --dead-peer-timeout 5 \
    >persist.log 2>&1 &
MTP_SERVE_PID=$!
mtp_wait_device
kill "$(cat /run/usbipa.pid)"
must_wait 20 "the device gone with usbipa" not usb_busid_vhci "$MTP_ID"
must_wait 20 "serve-mtp retrying" grep -q "retrying in" persist.log
kill -0 "$MTP_SERVE_PID" || fail "serve-mtp --persist ended with the export"
t=$(now_cs)
usbipa_up
must_wait 30 "the device back after usbipa restarted" usb_busid_vhci "$MTP_ID"
log "usbipa restarted: the device back in $(since "$t") s"
mtp_wait_device
mtp_listed "after usbipa restarted"

port=$(vhci_port_of "$(usb_busid_vhci "$MTP_ID")") || fail "no vhci port for the device"
kill -9 "$(cat /run/usbipa.pid)"
echo "$port" >"$VHCI/detach"
must_wait 20 "the device gone with its port" not usb_busid_vhci "$MTP_ID"
t=$(now_cs)
usbipa_up
must_wait 30 "the device back after usbipa was killed" usb_busid_vhci "$MTP_ID"
log "usbipa killed and started again: the device back in $(since "$t") s"
mtp_wait_device
mtp_listed "after usbipa was killed"
[ "$(grep -c "exported 1-1" persist.log)" -ge 3 ] || fail "fewer than 3 exports: $(grep exported persist.log)"

kill "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID" || fail "serve-mtp --persist: exit status $? on SIGTERM"
must_wait 20 "the device gone from vhci" not usb_busid_vhci "$MTP_ID"
grep -q "could not withdraw" persist.log && fail "serve-mtp --persist could not withdraw the device"
kill "$(cat /run/usbipa.pid)"
log "serve-mtp --persist: back after usbipa restarted and after it was killed; withdrawn"
