#!/bin/sh
# Benchmark case (not a test), run in the guest by bench/transports: the
# same imported usb-storage disk read through vhci-hcd (O_DIRECT) over
#   plain   usbipd and usbip over TCP
#   ktls    TLS, kernel TLS data path
#   relay   TLS, the relay process as data path
#   ws      WebSocket (ws://), the WebSocket relay processes
#   wss     WebSocket over TLS (wss://) with --tls inside (relay), the way
#           a node behind a TLS-ending proxy authenticates both ends
# and prints "BENCH <mode> <bytes> <elapsed cs> <busy cs>" for each read,
# busy being the whole guest's CPU time (user, system, interrupts: every
# process and kernel thread a mode costs) from /proc/stat.
. /tests/lib.sh

ROUNDS=${VMTEST_BENCH_ROUNDS:-3}
for m in tls gcm ctr ghash-generic; do must modprobe $m; done
modprobe aesni-intel 2>/dev/null || true
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
pki=$PWD/pki
must make_certs "$pki"
uptime_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
# user nice system irq softirq steal, in USER_HZ (100 a second)
busy_cs() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

read_rounds() { # MODE
    vhci_disk_intact "$1"
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        t0=$(uptime_cs) c0=$(busy_cs)
        dd if="/dev/$vdisk" of=/dev/null bs=1048576 iflag=direct 2>/dev/null || fail "$1: read failed"
        echo "BENCH $1 $VMTEST_DISK_BYTES $(($(uptime_cs) - t0)) $(($(busy_cs) - c0))"
        r=$((r + 1))
    done
    must usbip detach --all
    must_wait 20 "vhci disk gone" not vhci_disk
    must_wait 10 "$b available again" usbip_host_status_is "$b" 1
}

# MODE PORT SERVER-OPTIONS -- CLIENT-OPTIONS... REMOTE: one mode's server, attach, reads, stop
run_mode() {
    _mode=$1 _port=$2
    shift 2
    _srv=
    while [ "$1" != -- ]; do _srv="$_srv $1"; shift; done
    shift
    # shellcheck disable=SC2086
    must usbipd -D -t "$_port" -P /run/usbipd-bench.pid $_srv
    must_wait 10 "usbipd listening ($_mode)" tcp_listening "$_port"
    must usbip -t "$_port" "$@" -b "$b"
    read_rounds "$_mode"
    kill "$(cat /run/usbipd-bench.pid)"
    must_wait 10 "usbipd gone ($_mode)" tcp_not_listening "$_port"
}

tls_srv="--tls --cert $pki/server.pem --key $pki/server.key"
must usbip bind -b "$b"
run_mode plain 3240 -- attach -r 127.0.0.1
run_mode ktls 3243 $tls_srv --tls-datapath ktls -- --tls --ca "$pki/ca.pem" \
    --tls-datapath ktls attach -r localhost
run_mode relay 3243 $tls_srv --tls-datapath relay -- --tls --ca "$pki/ca.pem" \
    --tls-datapath relay attach -r localhost
run_mode ws 3244 --ws -- attach -r ws://127.0.0.1:3244/usbip
run_mode wss 3245 --wss --wss-cert "$pki/server.pem" --wss-key "$pki/server.key" $tls_srv \
    --tls-datapath relay -- --wss-ca "$pki/ca.pem" --tls --ca "$pki/ca.pem" \
    --tls-datapath relay attach -r wss://localhost:3245/usbip
