#!/bin/sh
# Benchmark case (not a test), run in the guest by bench/tls-throughput:
# reads the imported usb-storage disk through vhci-hcd, O_DIRECT, over
#   plain   our usbipd and usbip over TCP
#   ktls    the same over TLS, kernel TLS data path
#   relay   the same over TLS, relay data path
#   stunnel Debian's usbipd and usbip wrapped in stunnel4, the way it is
#           done today
# and prints "BENCH <mode> <bytes> <centiseconds>" for each read.
. /tests/lib.sh

ROUNDS=${VMTEST_BENCH_ROUNDS:-3}
for m in tls gcm ctr ghash-generic; do must modprobe $m; done
modprobe aesni-intel 2>/dev/null || true
command -v stunnel4 >/dev/null 2>&1 || fail "stunnel4 is not in the guest (install it on the host)"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
pki=$PWD/pki
must make_certs "$pki"
uptime_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }

read_rounds() { # MODE
    vhci_disk_intact "$1"
    r=0
    while [ $r -lt "$ROUNDS" ]; do
        t0=$(uptime_cs)
        dd if="/dev/$vdisk" of=/dev/null bs=1048576 iflag=direct 2>/dev/null || fail "$1: read failed"
        echo "BENCH $1 $VMTEST_DISK_BYTES $(($(uptime_cs) - t0))"
        r=$((r + 1))
    done
    must usbip detach --all
    must_wait 20 "vhci disk gone" not vhci_disk
    must_wait 10 "$b available again" usbip_host_status_is "$b" 1
}

must usbip bind -b "$b"
must usbipd -D -P /run/usbipd-plain.pid
must usbip attach -r 127.0.0.1 -b "$b"
read_rounds plain
kill "$(cat /run/usbipd-plain.pid)"

for path in ktls relay; do
    must usbipd -D -t 3243 -P /run/usbipd-tls.pid --tls --cert "$pki/server.pem" \
        --key "$pki/server.key" --tls-datapath $path
    must usbip -t 3243 --tls --ca "$pki/ca.pem" --tls-datapath $path attach -r localhost -b "$b"
    read_rounds $path
    kill "$(cat /run/usbipd-tls.pid)"
    must_wait 5 "usbipd gone" tcp_not_listening 3243
done

# Debian's tools behind stunnel: server side on 3250 in front of usbipd,
# client side on 3251 for usbip attach.
cat >stunnel-server.conf <<CONF
pid = $PWD/stunnel-server.pid
[usbip]
accept = 127.0.0.1:3250
connect = 127.0.0.1:3240
cert = $pki/server.pem
key = $pki/server.key
CONF
cat >stunnel-client.conf <<CONF
pid = $PWD/stunnel-client.pid
[usbip]
client = yes
accept = 127.0.0.1:3251
connect = 127.0.0.1:3250
CAfile = $pki/ca.pem
verifyChain = yes
checkHost = localhost
CONF
must "$DEBIAN_USBIPD" -D --pid=/run/usbipd-debian.pid
must stunnel4 stunnel-server.conf
must stunnel4 stunnel-client.conf
must_wait 10 "stunnel listening" tcp_listening 3251
must "$DEBIAN_USBIP" --tcp-port 3251 attach -r 127.0.0.1 -b "$b"
read_rounds stunnel
kill "$(cat stunnel-server.pid)" "$(cat stunnel-client.pid)" "$(cat /run/usbipd-debian.pid)"
