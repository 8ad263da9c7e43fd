#!/bin/sh
# WebSocket through reverse proxies with TLS inside: nginx (then HAProxy)
# on the application node ends the outer TLS on 443 and passes /usbip to
# usbipa's ws listener, which runs TLS inside the WebSocket with client
# certificates: its policy refuses a stranger's certificate and accepts
# node1's, and the disk exported with `connect -r wss://app.test/usbip`
# reads back by sha256; the same through HAProxy, and through tinyproxy
# (HTTP CONNECT) and then HAProxy. The device node may connect out to 443
# (and, for the last, tinyproxy's 3128) only.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v nft >/dev/null 2>&1 || skip "nft is not in the guest"
net_need nginx haproxy tinyproxy
t0=$(now_cs)
trap 'net_logs' EXIT
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
dev() { ip netns exec devnode "$@"; }

two_nodes
fw_out_only devnode 443
ns_hosts_add devnode 10.99.0.2 app.test
ns_hosts_add appnode 10.99.0.2 app.test
start_nginx_ws appnode 443 10.99.0.2:8080 15s

# TLS inside: nginx ends the outer TLS, the inner one is usbipa's.
must ip netns exec appnode usbipa -D --allow-any --listen ws://10.99.0.2:8080/usbip --ws-ping 5 \
    -P /run/usbipa-ws.pid --tls --cert "$PWD/pki/app.test.pem" --key "$PWD/pki/app.test.key" \
    --ca "$PWD/pki/ca.pem" --allow-subject node1 --tls-datapath relay
inner="--ws-ping 5 --wss-ca pki/ca.pem --tls --ca pki/ca.pem --tls-datapath relay"
# shellcheck disable=SC2086
sample=$(disk_sample "$b") && [ ${#sample} -eq 128 ] || fail "could not read a sample of the disk"
# shellcheck disable=SC2086
dev usbip $inner --cert pki/stranger.pem --key pki/stranger.key connect \
    -r wss://app.test/usbip -b "$b" >stranger.out 2>&1 && fail "a stranger's certificate was accepted"
[ -z "$(vhci_used_ports)" ] || fail "the stranger's export got attached"
log "inner TLS: a stranger's certificate refused: $(tail -1 stranger.out)"
withdraw_inner() {
    # shellcheck disable=SC2086
    must dev usbip $inner --cert pki/client.pem --key pki/client.key "$@" disconnect \
        -r wss://app.test/usbip -b "$b"
    must_wait 20 "vhci disk gone" not vhci_disk
    must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
}
# shellcheck disable=SC2086
must dev usbip $inner --cert pki/client.pem --key pki/client.key connect -r wss://app.test/usbip -b "$b"
vhci_disk_intact "inner TLS (node1) through nginx"
# nginx sees everything but the inner TLS: 4 MiB of the disk went between
# nginx and usbipa, and none of it is there to read.
ns_capture_read appnode 8080
[ "$(wc -c <cap-8080.pcap)" -gt 4194304 ] || fail "the capture between nginx and usbipa holds less than the 4 MiB read"
if pcap_has cap-8080.pcap "$sample"; then fail "the capture between nginx and usbipa holds the disk's data"; fi
log "a capture between nginx and usbipa ($(wc -c <cap-8080.pcap) bytes) holds none of the disk's data"
withdraw_inner
net_stop nginx-443 appnode 443

start_haproxy_ws appnode 443 10.99.0.2:8080 15s
# shellcheck disable=SC2086
must dev usbip $inner --cert pki/client.pem --key pki/client.key connect -r wss://app.test/usbip -b "$b"
vhci_disk_intact "inner TLS through HAProxy"
withdraw_inner

start_tinyproxy appnode 3128 443
must ip netns exec devnode nft insert rule inet fw output tcp dport 3128 accept
# shellcheck disable=SC2086
must dev usbip $inner --cert pki/client.pem --key pki/client.key --proxy http://10.99.0.2:3128 \
    connect -r wss://app.test/usbip -b "$b"
vhci_disk_intact "inner TLS through tinyproxy (CONNECT) and HAProxy"
grep -q 'CONNECT app.test:443' tinyproxy-3128.log || fail "tinyproxy logged no CONNECT"
withdraw_inner --proxy http://10.99.0.2:3128
kill "$(cat /run/usbipa-ws.pid)"
trap - EXIT
log "56-ws-inner-tls: $(since "$t0") s"
