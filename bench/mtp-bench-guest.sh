#!/bin/sh
# Guest side of bench/mtp-bench.sh (run as a test case): lists a tree of
# $VMTEST_MTP_BENCH_FILES files and reads a $VMTEST_MTP_BENCH_MIB MiB file
# with libmtp (mtp-client), first from serve-mtp, then from QEMU's usb-mtp
# holding the same tree. With $VMTEST_MTP_BENCH_HOST, serve-mtp runs on the
# build host there (reached over virtio-net, this guest being
# $VMTEST_MTP_BENCH_GUEST_IP) and QEMU's device is used where it is, on the
# guest's own bus; without, serve-mtp runs here and both are imported
# through usbip over the guest's loopback. Prints "BENCH ..." lines.
. /tests/lib.sh
[ -x "$MTP_BIN/mtp-client" ] || skip "mtp-client was not built on the host (libmtp-dev)"
q=$(usb_busid_local 46f4:0004) || skip "no QEMU usb-mtp device (run bench/mtp-bench.sh)"
files=${VMTEST_MTP_BENCH_FILES:-10000}
mib=${VMTEST_MTP_BENCH_MIB:-64}
dirs=$((files / 100))
host=${VMTEST_MTP_BENCH_HOST:-}
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT

measure() { # NAME EXPECTED-SHA: list twice (the second is timed), get big.bin
    client() { timeout 1800 "$MTP_BIN/mtp-client" "$@" 2>/dev/null; }
    client list >/dev/null || fail "$1: listing failed"
    l=$(client list | grep '^list ') || fail "$1: listing failed"
    echo "$1: $l"
    n=$(echo "$l" | awk '{ print $2 }')
    [ "$n" -ge "$files" ] || fail "$1: listed $n files, expected $files or more"
    g=$(client get big.bin got.bin | grep '^get ') || fail "$1: reading big.bin failed"
    echo "$1: $g"
    [ "$(sha256sum <got.bin | cut -d' ' -f1)" = "$2" ] || fail "$1: big.bin came back different"
    rm -f got.bin
    echo "BENCH $1 list_ms $(echo "$l" | awk '{ print $4 }') get_ms $(echo "$g" | awk '{ print $4 }')"
}

ratios() {
    awk '/^BENCH/ { list[$2] = $4; get[$2] = $6 }
        END {
            printf "BENCH listing %d files: serve-mtp %d ms, QEMU usb-mtp %d ms: %.1fx\n", '"$files"', list["serve-mtp"], list["qemu-usb-mtp"], list["qemu-usb-mtp"] / (list["serve-mtp"] ? list["serve-mtp"] : 1)
            printf "BENCH reading %d MiB: serve-mtp %d ms, QEMU usb-mtp %d ms: %.1fx\n", '"$mib"', get["serve-mtp"], get["qemu-usb-mtp"], get["qemu-usb-mtp"] / (get["serve-mtp"] ? get["serve-mtp"] : 1)
        }' ours.txt qemu.txt
}

if [ -n "$host" ]; then
    # serve-mtp on the build host, over the tap device
    for m in virtio_pci virtio_net; do modprobe $m 2>/dev/null || true; done
    must_wait 20 "the virtio-net interface" test -e /sys/class/net/eth0
    must ip link set eth0 up
    must ip addr add "${VMTEST_MTP_BENCH_GUEST_IP:?}/24" dev eth0
    must usbip attach -r "$host" -b 1-1
    mtp_wait_device
    measure serve-mtp "${VMTEST_MTP_BENCH_SHA:-}" >ours.txt || fail "serve-mtp: $(tail -n 1 ours.txt)"
    cat ours.txt
    must usbip detach -p "$(vhci_port_of "$MTP_BUSID")"
    # QEMU's usb-mtp where it is, on the guest's own bus
    must_wait 10 "the usbfs node of QEMU's usb-mtp" mtp_usbfs_ready "$q"
    MTP_DEVICE=$(cat "/sys/bus/usb/devices/$q/busnum"):$(cat "/sys/bus/usb/devices/$q/devnum")
    export MTP_DEVICE
    measure qemu-usb-mtp "${VMTEST_MTP_BENCH_SHA:-}" >qemu.txt || fail "QEMU: $(tail -n 1 qemu.txt)"
    cat qemu.txt
    ratios
    exit 0
fi

# the same tree for serve-mtp: $dirs folders of 100 files, and big.bin
d=/tmp/benchtree
rm -rf "$d"
mkdir -p "$d"
i=0
while [ $i -lt $dirs ]; do
    mkdir "$d/dir$i"
    j=0
    while [ $j -lt 100 ]; do
        echo "file $i $j" >"$d/dir$i/f$j.txt"
        j=$((j + 1))
    done
    i=$((i + 1))
done
head -c $((mib * 1048576)) /dev/urandom >"$d/big.bin"
sum_ours=$(sha256sum <"$d/big.bin" | cut -d' ' -f1)

# serve-mtp
MTP_SERVE_QUIET=1 mtp_serve "$d"
must usbip attach -r 127.0.0.1 -b 1-1
mtp_wait_device
measure serve-mtp "$sum_ours" >ours.txt || fail "serve-mtp: $(tail -n 1 ours.txt)"
cat ours.txt
must usbip detach -p "$(vhci_port_of "$MTP_BUSID")"
kill "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID"
must_wait 10 "serve-mtp stopped" tcp_not_listening 3240

# QEMU's usb-mtp, bound to usbip-host and imported the same way
must usbip bind -b "$q"
must usbipd -D
must_wait 10 "usbipd listening" tcp_listening 3240
must usbip attach -r 127.0.0.1 -b "$q"
mtp_wait_device 46f4:0004
measure qemu-usb-mtp "${VMTEST_MTP_BENCH_SHA:-}" >qemu.txt || fail "QEMU: $(tail -n 1 qemu.txt)"
cat qemu.txt

ratios
