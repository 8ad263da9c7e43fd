#!/bin/sh
# The firewall case: two network namespaces joined by a veth pair. The
# device node drops every inbound connection (nftables). Classic attach
# from the application node cannot get in; connect from the device node
# goes out, and the disk reads back intact through vhci-hcd.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v nft >/dev/null 2>&1 || fail "nft is not in the guest (run.sh adds it when the host has nftables)"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"

# Two nodes; the device node's firewall lets no connection in (two_nodes).
two_nodes

# Classic mode: usbipd on the device node, attach from the application node.
must ip netns exec devnode usbipd -D -P /run/usbipd-fw.pid
must ip netns exec devnode usbip bind -b "$b"
ip netns exec appnode usbip attach -r 10.99.0.1 -b "$b" >attach.out 2>&1
rc=$?
cat attach.out
[ $rc -eq 4 ] || fail "classic attach through the firewall exited $rc, want 4 (unreachable)"
[ -z "$(vhci_used_ports)" ] || fail "something got attached through the firewall"
kill "$(cat /run/usbipd-fw.pid)"

# Connect mode: usbipa on the application node, connect from the device node.
must ip netns exec appnode usbipa -D --allow-any -P /run/usbipa-fw.pid
must ip netns exec devnode usbip connect -r 10.99.0.2 -b "$b"
vhci_disk_intact "exported out through the firewall"
must ip netns exec devnode usbip disconnect -r 10.99.0.2 -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
kill "$(cat /run/usbipa-fw.pid)"
