#!/bin/sh
# usbip serve-mtp stopped while the kernel's vhci-hcd has its device
# attached: SIGTERM mid-upload (libmtp's mtp-sendfile) and with the host
# idle ends it with exit status 0, vhci-hcd sees the device gone, and
# nothing half-written is left in the folder (the upload's name does not
# exist, no temporary). SIGKILL mid-upload leaves no file under the name
# either; the next start removes the temporary the killed process left.
. /tests/lib.sh
mtp_need_tools
trap 'rc=$?; [ $rc = 0 ] || mtp_dump; kill "$MTP_SERVE_PID" 2>/dev/null' EXIT
dir=/tmp/mtpstop
tmp_prefix=.serve-mtp-upload-

mtp_make_tree "$dir"
# every name in the folder with its size (busybox: no find -printf)
contents() { (cd "$dir" && find . -exec stat -c '%n %s' {} + | sort); }
before=$(contents)
[ "$(echo "$before" | wc -l)" -ge 8 ] || fail "cannot list the folder: $before"
unchanged() { [ "$(contents)" = "$before" ]; }
temporaries() { ls -A "$dir" | grep -c "^$tmp_prefix"; }
# some data of the upload has arrived (in its temporary)
upload_going() { [ -n "$(find "$dir" -maxdepth 1 -name "$tmp_prefix*" -size +64k)" ]; }
vhci_gone() { ! usb_busid_vhci "$MTP_ID"; }

attach() {
    must usbip attach -r 127.0.0.1 -b 1-1
    mtp_wait_device
}

# upload_started — mtp-sendfile of a 32 MiB file into the top, in the background
head -c 33554432 /dev/urandom >huge.bin
upload_started() {
    echo "+ mtp-sendfile huge.bin / (background)"
    LANG=C.UTF-8 timeout 300 "$MTP_BIN/mtp-sendfile" huge.bin / >send.out 2>&1 &
    send_pid=$!
    must_wait 60 "the upload's data arriving" upload_going
    [ -e "$dir/huge.bin" ] && fail "huge.bin is under its name before its last byte"
    log "mid-upload: $(cd "$dir" && stat -c '%n %s bytes' "$tmp_prefix"*)"
}

# stopped_cleanly SIGNAL — serve-mtp ends with 0, vhci sees the device gone
stopped_cleanly() {
    kill -"$1" "$MTP_SERVE_PID"
    wait "$MTP_SERVE_PID"
    _rc=$?
    [ $_rc = 0 ] || fail "serve-mtp ended with exit status $_rc after SIG$1"
    grep -q "signal" serve-mtp.log || fail "serve-mtp did not say it got the signal"
    must_wait 30 "vhci-hcd seeing the device gone" vhci_gone
    log "SIG$1: serve-mtp exited 0; the device is gone from vhci-hcd"
}

# 1. SIGTERM mid-upload
mtp_serve "$dir"
attach
upload_started
stopped_cleanly TERM
wait "$send_pid" && fail "mtp-sendfile said the upload worked"
unchanged || fail "the folder changed: $(contents)"
log "SIGTERM mid-upload: no huge.bin, no temporary, the folder as before"

# 2. SIGTERM with the host idle (session open, then nothing)
mtp_serve "$dir"
attach
must mtp files >files.txt 2>/dev/null
stopped_cleanly TERM
unchanged || fail "the folder changed: $(contents)"

# 3. SIGKILL mid-upload: the name stays free; the next start cleans up
mtp_serve "$dir"
attach
upload_started
kill -KILL "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID"
wait "$send_pid"
must_wait 30 "vhci-hcd seeing the device gone" vhci_gone
[ -e "$dir/huge.bin" ] && fail "SIGKILL left huge.bin ($(wc -c <"$dir/huge.bin") bytes)"
log "SIGKILL mid-upload: no huge.bin; $(temporaries) temporary left"
usbip_reset
mtp_serve "$dir"
must_wait 10 "serve-mtp ready" grep -q " ready" serve-mtp.log
[ "$(temporaries)" = 0 ] || fail "the next start left the temporary"
unchanged || fail "the folder changed: $(contents)"
attach
must mtp files >files.txt 2>/dev/null
grep -q "$tmp_prefix" files.txt && fail "a temporary is listed"
stopped_cleanly INT
log "serve-mtp stopped cleanly in each state"
