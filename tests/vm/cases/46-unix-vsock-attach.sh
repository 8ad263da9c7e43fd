#!/bin/sh
# attach over a Unix socket and over vsock: usbipd listens on TCP as
# always; listen_relay (tests/tools, net_listen as a daemon's --listen
# will) listens on unix:PATH and on vsock:1:PORT (the kernel's
# vsock_loopback) and relays to it. `usbip attach -r unix:PATH` and
# `-r vsock:1:PORT` hand vhci-hcd that Unix or vsock stream socket; the
# disk is read back by sha256 each time. Needs listen_relay in /usr/bin
# (install it as bad_peer is).
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v listen_relay >/dev/null || skip "no listen_relay (install build/tests/tools/listen_relay)"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"

must usbipd -D -P /run/usbipd-60.pid
must_wait 10 "usbipd listening" tcp_listening 3240
must usbip bind -b "$b"
must_wait 10 "$b on usbip-host" usb_driver_is "$b" usbip-host

# attach_over ADDRESS WHAT: attach through ADDRESS, read the disk, detach.
attach_over() {
    must usbip attach -r "$1" -b "$b" >attach.out
    cat attach.out
    _port=$(sed -n 's/.* to port \([0-9]*\)$/\1/p' attach.out)
    [ -n "$_port" ] || fail "attach over $2 did not say which port"
    vhci_disk_intact "over $2"
    must usbip detach -p "$_port"
    must_wait 20 "vhci disk gone" not vhci_disk
    must_wait 10 "usbip_status back to 1" usbip_host_status_is "$b" 1
}

listen_relay unix:/run/usbip-60.sock 127.0.0.1:3240 >relay-unix.log 2>&1 &
relay_unix=$!
must_wait 10 "relay on unix:" grep -q ready relay-unix.log
attach_over unix:/run/usbip-60.sock "a Unix socket"
# the kernel held a Unix socket: the relay saw the connection
grep -q "listening on unix:/run/usbip-60.sock" relay-unix.log || fail "relay: $(cat relay-unix.log)"
kill "$relay_unix"

if modprobe vsock_loopback 2>modprobe.err; then
    listen_relay vsock:1:0 127.0.0.1:3240 >relay-vsock.log 2>&1 &
    relay_vsock=$!
    must_wait 10 "relay on vsock:" grep -q ready relay-vsock.log
    vport=$(sed -n 's/^listen_relay: listening on vsock:1:\([0-9]*\)$/\1/p' relay-vsock.log)
    [ -n "$vport" ] || fail "relay did not say its vsock port: $(cat relay-vsock.log)"
    attach_over "vsock:1:$vport" vsock
    kill "$relay_vsock"
else
    log "no vsock_loopback here ($(cat modprobe.err)): vsock not tried"
fi

must usbip unbind -b "$b"
kill "$(cat /run/usbipd-60.pid)"
must_wait 5 "usbipd gone" tcp_not_listening 3240
