#!/bin/sh
# TLS in classic mode on the kernel's drivers, with certificates made fresh:
# usbipd requires client certificates; the disk reads back through vhci-hcd
# over kernel TLS (the sockets go to usbip-host and vhci-hcd, the kernel
# encrypts) and over the relay; a capture of each holds none of the disk's
# data, while the same capture over plain TCP does; a wrong CA and an
# unknown client certificate attach nothing.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v openssl >/dev/null 2>&1 || fail "openssl is not in the guest"
command -v tcpdump >/dev/null 2>&1 || fail "tcpdump is not in the guest"
# kTLS needs AES-GCM in the kernel: gcm over ctr(aes) and ghash, or aesni-intel
# where the CPU has AES-NI (a normal system loads these on demand).
for m in tls gcm ctr ghash-generic; do must modprobe $m; done
modprobe aesni-intel 2>/dev/null || log "aesni-intel not usable on this CPU: generic AES"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
pki=$PWD/pki
must make_certs "$pki"
client="--tls --ca $pki/ca.pem --cert $pki/client.pem --key $pki/client.key"
server="--tls --cert $pki/server.pem --key $pki/server.key --ca $pki/ca.pem"

# A 64-byte sample of the disk's data, as hex, to look for in captures.
d0=$(disk_of_busid "$b") || fail "no local disk"
sample=$(dd if="/dev/$d0" bs=64 skip=$((2 * 1024 * 1024 / 64)) count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
[ ${#sample} -eq 128 ] || fail "could not read a sample of the disk"
must usbip bind -b "$b"

# capture_has_sample PORT COMMAND...: runs COMMAND while capturing PORT on lo
capture_read() {
    _port=$1
    tcpdump -Z root -i lo -U -s 0 -w cap.pcap "tcp port $_port" >tcpdump.log 2>&1 &
    _tp=$!
    sleep 1
    # Read 4 MiB around the sample through vhci, bypassing the page cache.
    dd if="/dev/$vdisk" of=/dev/null bs=65536 count=64 iflag=direct 2>/dev/null
    sleep 1
    kill $_tp
    wait $_tp 2>/dev/null
    [ -s cap.pcap ] || fail "the capture on port $_port is empty"
    od -An -v -tx1 cap.pcap | tr -d ' \n' | grep -q "$sample"
}

# run_mode NAME PORT DATAPATH: attach over TLS with that data path and check
run_mode() {
    _name=$1 _port=$2 _path=$3
    # shellcheck disable=SC2086
    must usbipd -D -t "$_port" -P "/run/usbipd-$_port.pid" $server --tls-datapath "$_path" -d
    # shellcheck disable=SC2086
    must usbip -t "$_port" $client --tls-datapath "$_path" attach -r localhost -b "$b"
    vhci_disk_intact "$_name"
    if capture_read "$_port"; then fail "$_name: the capture holds the disk's data in clear"; fi
    log "$_name: the capture holds none of the disk's data"
    must usbip detach --all
    must_wait 20 "vhci disk gone" not vhci_disk
    must_wait 10 "usbip_status back to 1" usbip_host_status_is "$b" 1
    kill "$(cat "/run/usbipd-$_port.pid")"
}

# Plain TCP first: the capture must find the sample, or the search proves nothing.
must usbipd -D -t 3240 -P /run/usbipd-plain.pid
must usbip attach -r 127.0.0.1 -b "$b"
vhci_disk_intact "plain TCP"
capture_read 3240 || fail "the plain capture does not hold the sample: the search is broken"
log "plain TCP: the capture holds the disk's data, as expected"
must usbip detach --all
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 10 "usbip_status back to 1" usbip_host_status_is "$b" 1
kill "$(cat /run/usbipd-plain.pid)"

run_mode "kernel TLS" 3243 ktls
run_mode "relay" 3244 relay

# Bad certificates: nothing is imported, the device stays available.
# shellcheck disable=SC2086
must usbipd -D -t 3245 -P /run/usbipd-bad.pid $server
# shellcheck disable=SC2086
usbip -t 3245 --tls --ca "$pki/other-ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" \
    attach -r localhost -b "$b" >wrongca.out 2>&1 && fail "attach with the wrong CA succeeded"
cat wrongca.out
usbip -t 3245 --tls --ca "$pki/ca.pem" --cert "$pki/stranger.pem" --key "$pki/stranger.key" \
    attach -r localhost -b "$b" >stranger.out 2>&1 && fail "attach with an unknown client certificate succeeded"
cat stranger.out
usbip -t 3245 attach -r 127.0.0.1 -b "$b" >plain.out 2>&1 && fail "a plain attach on the TLS port succeeded"
cat plain.out
[ -z "$(vhci_used_ports)" ] || fail "a bad certificate got something attached"
usbip_host_status_is "$b" 1 || fail "usbip_status changed to $(usbip_host_status "$b")"
kill "$(cat /run/usbipd-bad.pid)"
