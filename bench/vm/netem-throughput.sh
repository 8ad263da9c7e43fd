#!/bin/sh
# Benchmark case (not a test), run in the guest by bench/netem-throughput:
# two network namespaces joined by a veth with tc netem, the usb-storage
# disk read through vhci-hcd (O_DIRECT, 1 MiB reads) at added RTT 0, 10,
# 50 and 100 ms and at 1% loss each way, in three set-ups on the same path:
#   connect  our usbipa on the application node, connect from the device node
#   classic  our usbipd on the device node, our usbip attach
#   debian   Debian's usbipd and usbip attach
# Prints "BENCH <mode> <rtt_ms> <loss_pct> <bytes> <centiseconds>" for each
# read, and "PLUG <mode> <rtt_ms> <centiseconds>" from the start of the
# export or attach to the first block read from the disk.
. /tests/lib.sh

b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
netem_nodes open
CONFIGS=${VMTEST_BENCH_CONFIGS:-"0:0 5:0 25:0 50:0 0:1"} # one-way delay ms : loss %

listens() { ip netns exec "$1" grep -q ':0CA8 00000000:0000 0A' /proc/net/tcp; } # NS: on 3240

setup() { # MODE: import the disk; prints nothing
    case $1 in
    connect)
        must ip netns exec appnode usbipa -D --allow-any -P /run/usbipa-b.pid
        must_wait 10 "usbipa listening" listens appnode
        must ip netns exec devnode usbip connect -r 10.99.0.2 -b "$b"
        ;;
    classic)
        must ip netns exec devnode usbip bind -b "$b"
        must ip netns exec devnode usbipd -D -P /run/usbipd-b.pid
        must_wait 10 "usbipd listening" listens devnode
        must ip netns exec appnode usbip attach -r 10.99.0.1 -b "$b"
        ;;
    debian)
        must ip netns exec devnode "$DEBIAN_USBIP" bind -b "$b"
        must ip netns exec devnode "$DEBIAN_USBIPD" -D --pid=/run/usbipd-debian.pid
        must_wait 10 "Debian usbipd listening" listens devnode
        must ip netns exec appnode "$DEBIAN_USBIP" attach -r 10.99.0.1 -b "$b"
        ;;
    esac
}

teardown() {
    must usbip detach --all
    must_wait 30 "vhci disk gone" not vhci_disk
    for p in /run/usbipa-b.pid /run/usbipd-b.pid /run/usbipd-debian.pid; do
        [ -r $p ] && kill "$(cat $p)" 2>/dev/null
        rm -f $p
    done
    must usbip unbind -b "$b"
    must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
    must_wait 10 "3240 free again" not listens devnode
    must_wait 10 "3240 free again" not listens appnode
}

for mode in connect classic debian; do
    for c in $CONFIGS; do
        delay=${c%%:*} loss=${c#*:}
        netem "$delay" "$loss"
        t0=$(now_cs)
        setup $mode
        must_wait 120 "$mode: the disk usable" vhci_disk_usable
        echo "PLUG $mode $((2 * delay)) $loss $(($(now_cs) - t0))"
        d=$(vhci_disk)
        t0=$(now_cs)
        dd if="/dev/$d" of=/dev/null bs=1048576 iflag=direct 2>/dev/null || fail "$mode: read failed"
        echo "BENCH $mode $((2 * delay)) $loss $VMTEST_DISK_BYTES $(($(now_cs) - t0))"
        netem_off
        teardown
    done
done
