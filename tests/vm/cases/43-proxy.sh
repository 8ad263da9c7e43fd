#!/bin/sh
# An HTTP CONNECT proxy between a firewalled device node and the world:
# Debian's tinyproxy in a network namespace of its own; the device node
# may connect out only to the proxy's port and lets nothing in
# (proxy_nodes). Without --proxy, connect fails with the firewall's
# refusal; with it, connect exports the disk to usbipa and it reads back by
# sha256; the same over TLS with kernel TLS on both ends, and a capture on
# the proxy's outside holds none of the disk's data (while the plain run's
# capture does, so the search works); a port the proxy does not allow is
# its 403, exit 5. 44-proxy-auth.sh goes on with authentication, --persist
# and classic attach.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v tinyproxy >/dev/null 2>&1 || skip "tinyproxy is not in the guest (run.sh adds it when the host has it)"
for t in nft openssl tcpdump; do
    command -v $t >/dev/null 2>&1 || fail "$t is not in the guest"
done
for m in tls gcm ctr ghash-generic; do must modprobe $m; done
modprobe aesni-intel 2>/dev/null || true
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
pki=$PWD/pki
must make_certs "$pki"
tls="--tls --ca $pki/ca.pem --cert $pki/client.pem --key $pki/client.key --tls-datapath ktls"
dev() { ip netns exec devnode "$@"; }

# A 64-byte sample of the disk's data at 2 MiB, as hex, to look for in captures.
d0=$(disk_of_busid "$b") || fail "no local disk"
sample=$(dd if="/dev/$d0" bs=64 skip=$((2 * 1024 * 1024 / 64)) count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
[ ${#sample} -eq 128 ] || fail "could not read a sample of the disk"

# capture_read NAME: reads 512 KiB from 2 MiB on through vhci (not from the
# page cache) while capturing on the proxy's outside; 0 if the sample is in it
capture_read() {
    bg_ns proxynode tcpdump.pid tcpdump -Z root -i vpa -U -s 0 -w "$1.pcap" tcp >"$1.tcpdump" 2>&1
    _tp=$!
    sleep 1
    dd if="/dev/$vdisk" of=/dev/null bs=65536 skip=32 count=8 iflag=direct 2>/dev/null
    sleep 1
    kill "$(cat tcpdump.pid)"
    wait $_tp 2>/dev/null
    [ -s "$1.pcap" ] || fail "the capture $1 is empty"
    od -An -v -tx1 "$1.pcap" | tr -d ' \n' | grep -q "$sample"
}

withdraw() { # USBIP-OPTIONS...
    must dev usbip "$@" disconnect -r 10.99.0.2 -b "$b"
    must_wait 20 "vhci disk gone" not vhci_disk
    must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
}

proxy_nodes
must ip netns exec appnode usbipa -D --allow-any -P /run/usbipa.pid
must ip netns exec appnode usbipa -D -t 443 -P /run/usbipa-443.pid --tls \
    --cert "$pki/server.pem" --key "$pki/server.key" --ca "$pki/ca.pem" --allow-subject node1 \
    --tls-datapath ktls
proxy_start

# Without the proxy: the firewall's refusal.
r0=$(proxy_refusals)
dev usbip connect -r 10.99.0.2 -b "$b" --timeout 0 >direct.out 2>&1
rc=$?
cat direct.out
[ $rc -eq 4 ] || fail "connect without the proxy exited $rc, want 4 (unreachable)"
grep -q "cannot connect to 10.99.0.2 port 3240: Connection refused" direct.out ||
    fail "connect without the proxy did not fail with the firewall's refusal"
[ "$(proxy_refusals)" -gt "$r0" ] || fail "the firewall counted no refusal"
[ -z "$(vhci_used_ports)" ] || fail "something got attached past the firewall"
usb_if_driver_is "$b" usb-storage || fail "a failed connect left $b off its driver"
log "without --proxy: refused by the firewall ($(($(proxy_refusals) - r0)) resets)"

# Through the proxy, plain.
must dev usbip --proxy "$px" connect -r 10.99.0.2 -b "$b"
vhci_disk_intact "connect through the proxy"
[ "$(proxy_tunnels_to 10.99.0.2)" -ge 1 ] || fail "tinyproxy logged no tunnel to 10.99.0.2"
capture_read plain || fail "the plain capture does not hold the sample: the search is broken"
log "plain through the proxy: the capture on the proxy's outside holds the disk's data, as expected"
withdraw --proxy "$px"

# Through the proxy, TLS with kernel TLS: the URB traffic is the kernel's
# to encrypt, and a kTLS session is open in both namespaces.
# shellcheck disable=SC2086
must dev usbip -t 443 $tls --proxy "$px" connect -r 10.99.0.2 -b "$b"
vhci_disk_intact "connect over kernel TLS through the proxy"
for ns in devnode appnode; do
    ip netns exec $ns cat /proc/net/tls_stat | awk '$1 == "TlsCurrTxSw" && $2 > 0 { f = 1 } END { exit !f }' ||
        fail "no kernel TLS session in $ns: $(ip netns exec $ns cat /proc/net/tls_stat | tr '\n' ' ')"
done
log "kernel TLS in devnode: $(dev cat /proc/net/tls_stat | awk '/TlsCurr(Tx|Rx)Sw/ { printf "%s %s ", $1, $2 }')"
if capture_read tls; then fail "the TLS capture on the proxy's outside holds the disk's data in clear"; fi
log "TLS through the proxy: the capture on the proxy's outside holds none of the disk's data"
# shellcheck disable=SC2086
withdraw -t 443 $tls --proxy "$px"

# A port the proxy does not allow: its 403, exit 5 at once (no retries).
dev usbip -t 3241 --proxy "$px" connect -r 10.99.0.2 -b "$b" >port.out 2>&1
rc=$?
cat port.out
[ $rc -eq 5 ] && grep -q "proxy 10.98.0.2:3128 refused CONNECT 10.99.0.2:3241: 403" port.out ||
    fail "a port tinyproxy does not allow: exit $rc, want 5 and its 403"
usb_if_driver_is "$b" usb-storage || fail "a refused connect left $b off its driver"
proxy_stop
kill "$(cat /run/usbipa.pid)" "$(cat /run/usbipa-443.pid)"
