#!/bin/sh
# TLS in connect mode, and the firewall case with only port 443 open
# outward: the device node (its own network namespace) drops every inbound
# connection and every outbound one but to port 443; usbipa listens with
# TLS on 443 in the application node's namespace; connect gets the disk
# across over kernel TLS and it reads back intact.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v openssl >/dev/null 2>&1 || fail "openssl is not in the guest"
command -v nft >/dev/null 2>&1 || fail "nft is not in the guest"
# kTLS needs AES-GCM in the kernel: gcm over ctr(aes) and ghash, or aesni-intel
# where the CPU has AES-NI (a normal system loads these on demand).
for m in tls gcm ctr ghash-generic; do must modprobe $m; done
modprobe aesni-intel 2>/dev/null || true
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
pki=$PWD/pki
must make_certs "$pki"

# Two nodes; the device node lets nothing in (two_nodes), and only HTTPS out.
two_nodes
must ip netns exec devnode nft add chain inet fw output '{ type filter hook output priority 0; policy accept; }'
must ip netns exec devnode nft add rule inet fw output oifname vdev tcp dport != 443 drop

# usbipa on 443 with TLS, client certificates required, only node1 allowed.
must ip netns exec appnode usbipa -D -t 443 -P /run/usbipa-443.pid --tls \
    --cert "$pki/server.pem" --key "$pki/server.key" --ca "$pki/ca.pem" --allow-subject node1 \
    --tls-datapath ktls
tls="--tls --ca $pki/ca.pem --cert $pki/client.pem --key $pki/client.key --tls-datapath ktls"

# Port 3240 is blocked outward: plain connect cannot get out.
must ip netns exec appnode usbipa -D --allow-any -t 3240 -P /run/usbipa-3240.pid
ip netns exec devnode usbip connect -r 10.99.0.2 -b "$b" --timeout 0 >blocked.out 2>&1 &&
    fail "connect to port 3240 got through the firewall"
cat blocked.out
[ -z "$(vhci_used_ports)" ] || fail "something got attached through the firewall"

# shellcheck disable=SC2086
must ip netns exec devnode usbip -t 443 $tls connect -r 10.99.0.2 -b "$b"
vhci_disk_intact "connect over TLS on port 443 through the firewall"
# shellcheck disable=SC2086
must ip netns exec devnode usbip -t 443 $tls disconnect -r 10.99.0.2 -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage

# A client certificate of another CA is refused; nothing is bound or attached.
ip netns exec devnode usbip -t 443 --tls --ca "$pki/ca.pem" --cert "$pki/stranger.pem" \
    --key "$pki/stranger.key" connect -r 10.99.0.2 -b "$b" --timeout 0 >stranger.out 2>&1 &&
    fail "connect with an unknown client certificate succeeded"
cat stranger.out
[ -z "$(vhci_used_ports)" ] || fail "an unknown client certificate got a device attached"
usb_if_driver_is "$b" usb-storage || fail "a refused connect left $b off its driver"
kill "$(cat /run/usbipa-443.pid)" "$(cat /run/usbipa-3240.pid)"
