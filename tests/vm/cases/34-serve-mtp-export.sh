#!/bin/sh
# Export mode: serve-mtp dials out to a usbipa (connect mode) instead of
# listening; usbipa attaches it to vhci-hcd and libmtp's tools use it. On
# SIGTERM serve-mtp withdraws it (OP_REQ_UNEXPORT) and it leaves vhci.
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
