#!/bin/sh
# serve-mtp --listen on a Unix socket and on vsock (the kernel's
# vsock_loopback, CID 1): `usbip attach -r unix:PATH` and `-r vsock:1:PORT`
# hand vhci-hcd that socket; mtp-tools list the folder and read files back
# by sha256 each time. --allow-uid 0 refuses nobody on the Unix socket in
# one log line, and serve-mtp goes on.
. /tests/lib.sh
mtp_need_tools
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT
mtp_make_tree /tmp/mtpdir

# mtp_read_back WHAT: the device's listing, two files back by sha256, then detach.
mtp_read_back() {
    mtp_wait_device
    must mtp files >files.txt 2>files.err
    grep -q 'Filename: deep.txt' files.txt || fail "$1: deep.txt not listed"
    mtp_get_check big.bin files.txt /tmp/mtpdir/big.bin
    mtp_get_check hello.txt files.txt /tmp/mtpdir/Music/hello.txt
    must usbip detach -p "$(vhci_port_of "$MTP_BUSID")"
    must_wait 20 "the MTP device gone" not usb_busid_vhci "$MTP_ID"
    log "$1: listed and read back by sha256"
}

listen="--listen unix:/run/mtp.sock"
vsock=
if modprobe vsock_loopback 2>modprobe.err; then
    vsock=1
    listen="$listen --listen vsock:5000"
else
    log "no vsock_loopback here ($(cat modprobe.err)): vsock not tried"
fi
echo "+ usbip serve-mtp --dir /tmp/mtpdir $listen --listen-mode 0666 --allow-uid 0"
# shellcheck disable=SC2086
usbip --debug serve-mtp --dir /tmp/mtpdir $listen --listen-mode 0666 --allow-uid 0 \
    >serve-mtp.log 2>&1 &
MTP_SERVE_PID=$!
must_wait 10 "serve-mtp ready" grep -q " ready on unix:/run/mtp.sock" serve-mtp.log
[ -S /run/mtp.sock ] || fail "no socket file"

# Not an allowed uid: refused, one line; the daemon goes on.
su -s /bin/sh nobody -c "usbip list -r unix:/run/mtp.sock" >nobody.out 2>&1 &&
    fail "nobody was served: $(cat nobody.out)"
must_wait 5 "the refusal logged" grep -q "unix uid 65534 .*refused" serve-mtp.log
[ "$(grep -c refused serve-mtp.log)" -eq 1 ] || fail "not one refusal line: $(grep refused serve-mtp.log)"

must usbip attach -r unix:/run/mtp.sock -b 1-1
mtp_read_back "over a Unix socket"
grep -q "connection from unix uid 0 gid 0" serve-mtp.log || fail "the peer's uid is not logged"

if [ -n "$vsock" ]; then
    must usbip attach -r vsock:1:5000 -b 1-1
    mtp_read_back "over vsock"
fi
kill "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID" || fail "serve-mtp did not exit 0"
