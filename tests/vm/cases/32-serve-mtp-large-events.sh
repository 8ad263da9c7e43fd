#!/bin/sh
# Past the basics, with libmtp as the client: a sparse 5 GiB file listed
# with its 64-bit size, read and written past 4 GiB (GetPartialObject64,
# SendPartialObject); events on the interrupt endpoint when files are made
# and removed under DIR; a file that shrinks while it is read (the device
# answers with an error and keeps working); --read-only refuses changes.
. /tests/lib.sh
mtp_need_tools
[ -x "$MTP_BIN/mtp-client" ] || skip "mtp-client was not built on the host (libmtp-dev)"
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT
client() { echo "+ mtp-client $*" >&2; timeout 120 "$MTP_BIN/mtp-client" "$@"; }

d=/tmp/mtpdir
rm -rf "$d"
mkdir -p "$d"
huge=$((5 * 1024 * 1024 * 1024))
dd if=/dev/zero of="$d/huge.bin" bs=1048576 seek=5120 count=0 2>/dev/null
printf 'tail' | dd of="$d/huge.bin" bs=1 seek=$((huge - 4)) conv=notrunc 2>/dev/null
[ "$(stat -c %s "$d/huge.bin")" = "$huge" ] || fail "could not make a sparse 5 GiB file"
head -c 30000000 /dev/urandom >"$d/shrinking.bin"
mtp_serve "$d"
must usbip attach -r 127.0.0.1 -b 1-1
mtp_wait_device

# 64-bit sizes and offsets (mtp-files reads the 64-bit ObjectSize property;
# libmtp's fast listing keeps only 32 bits of it)
must mtp files >files.txt 2>/dev/null
grep -q "File size $huge " files.txt || fail "huge.bin is not listed as $huge bytes"
must client getpart huge.bin $((huge - 4)) 100 part.bin
[ "$(cat part.bin)" = "tail" ] || fail "GetPartialObject64 past 4 GiB read '$(cat part.bin)'"
printf 'xyz' >in.bin
must client putpart huge.bin $((4 * 1024 * 1024 * 1024 + 16)) in.bin
[ "$(dd if="$d/huge.bin" bs=1 skip=$((4 * 1024 * 1024 * 1024 + 16)) count=3 2>/dev/null)" = xyz ] ||
    fail "SendPartialObject past 4 GiB did not land"
log "5 GiB file: listed, read and written past 4 GiB"

# events: made and removed under DIR while a client waits on the interrupt endpoint
for what in added removed; do
    client event 30 >event.txt &
    cpid=$!
    must_wait 30 "mtp-client waiting for events" grep -q ready event.txt
    sleep 0.5
    if [ $what = added ]; then echo new >"$d/made-outside.txt"; else rm "$d/made-outside.txt"; fi
    wait $cpid || fail "no event after a file was $what (got: $(cat event.txt))"
    grep -q "event $what " event.txt || fail "expected an '$what' event, got: $(cat event.txt)"
    log "event: $(grep event event.txt)"
done

# a file that shrinks while it is read: an error or the data, never a hang or a crash
sid=$(mtp_file_id shrinking.bin files.txt) || fail "shrinking.bin not listed"
(
    mtp getfile "$sid" got-shrink.bin >shrink.log 2>&1
    echo "exit $?" >>shrink.log
) &
gpid=$!
sleep 1
: >"$d/shrinking.bin"
wait $gpid
log "getfile of a file emptied meanwhile: $(tail -n 1 shrink.log)"
must mtp files >files-after.txt 2>/dev/null
grep -q 'Filename: huge.bin' files-after.txt || fail "the device stopped working after the shrink"
kill -0 "$MTP_SERVE_PID" || fail "serve-mtp died"

# --read-only
must usbip detach -p "$(vhci_port_of "$MTP_BUSID")"
kill "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID"
must_wait 10 "serve-mtp stopped" tcp_not_listening 3240
mtp_serve "$d" --read-only
must usbip attach -r 127.0.0.1 -b 1-1
mtp_wait_device
echo data >local.txt
mtp sendfile local.txt / >ro-send.txt 2>&1
[ -e "$d/local.txt" ] && fail "--read-only let a file be sent"
must mtp files >ro-files.txt 2>/dev/null
mtp delfile -n "$(mtp_file_id huge.bin ro-files.txt)" >/dev/null 2>&1
[ -e "$d/huge.bin" ] || fail "--read-only let a file be deleted"
must client getpart huge.bin $((huge - 4)) 4 part2.bin
log "--read-only: send and delete refused, reads work"
