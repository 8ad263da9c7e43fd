#!/bin/sh
# WebSocket through a reverse proxy: Debian's nginx on the application node
# ends TLS on 443 and proxies /usbip to usbipa's ws listener with
# proxy_read_timeout 15s; the device node may connect out to port 443 only.
# A direct connection to usbipa is refused by the firewall; `usbip connect
# -r wss://app.test/usbip` exports the disk, which reads back by sha256;
# left idle for 60 s (four of nginx's read timeouts) with pings every 5 s,
# it is still attached and reads back again. Then classic mode: usbipd
# behind the same nginx, `usbip attach -r wss://app.test/usbip`.
# 56-ws-inner-tls goes on with TLS inside, HAProxy and tinyproxy.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v nft >/dev/null 2>&1 || skip "nft is not in the guest"
net_need nginx
t0=$(now_cs)
trap 'net_logs' EXIT
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
dev() { ip netns exec devnode "$@"; }

two_nodes
fw_out_only devnode 443
ns_hosts_add devnode 10.99.0.2 app.test
ns_hosts_add appnode 10.99.0.2 app.test
must ip netns exec appnode usbipa -D --allow-any --listen ws://10.99.0.2:8080/usbip --ws-ping 5 \
    -P /run/usbipa-ws.pid
start_nginx_ws appnode 443 10.99.0.2:8080 15s
log "setup: $(since "$t0") s"

dev usbip connect -r ws://10.99.0.2:8080/usbip -b "$b" --timeout 0 >direct.out 2>&1 &&
    fail "a direct ws:// connection got past the firewall"
[ "$(fw_out_refused devnode)" -gt 0 ] || fail "the firewall refused nothing"

t=$(now_cs)
must dev usbip --ws-ping 5 --ca pki/ca.pem connect -r wss://app.test/usbip -b "$b"
vhci_disk_intact "wss://app.test/usbip through nginx"
log "connect through nginx and the disk read back in $(since "$t") s"

sleep 60
[ -n "$(vhci_used_ports)" ] || fail "after 60 s idle the device is no longer attached"
sum=$(disk_sha256 "$vdisk")
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "after 60 s idle: sha256 $sum"
log "idle 60 s behind proxy_read_timeout 15s: still attached, read back again"

must dev usbip --ws-ping 5 --ca pki/ca.pem disconnect -r wss://app.test/usbip -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
# nginx logs a WebSocket once it ends.
must_wait 20 "nginx's log of the upgrade" grep -q '"GET /usbip HTTP/1.1" 101' nginx-443.access.log
kill "$(cat /run/usbipa-ws.pid)"
must_wait 10 "usbipa gone" not ns_tcp_listening appnode 8080

# Classic mode behind the same nginx: usbipd on the application node serves
# the disk on a ws:// listener, the device node attaches with -r wss://.
must usbip bind -b "$b"
must ip netns exec appnode usbipd -D --listen ws://10.99.0.2:8080/usbip -P /run/usbipd-ws.pid
must_wait 10 "usbipd listening" ns_tcp_listening appnode 8080
must dev usbip --ca pki/ca.pem attach -r wss://app.test/usbip -b "$b"
vhci_disk_intact "classic: usbip attach -r wss://app.test/usbip through nginx"
must usbip detach --all
must_wait 20 "vhci disk gone" not vhci_disk
kill "$(cat /run/usbipd-ws.pid)"
must usbip unbind -b "$b"
log "classic mode: attach -r wss:// through nginx, read back"
trap - EXIT
log "49-ws-nginx: $(since "$t0") s"
