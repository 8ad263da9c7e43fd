#!/bin/sh
# Guest side of bench/mtp-bench.sh (run as a test case): lists a tree of
# $VMTEST_MTP_BENCH_FILES files and reads a $VMTEST_MTP_BENCH_MIB MiB file
# with libmtp (mtp-client), first from serve-mtp, then from QEMU's usb-mtp
# holding the same tree; both are imported through usbip over the guest's
# loopback, so both cross the same path. Prints "BENCH ..." lines.
. /tests/lib.sh
[ -x "$MTP_BIN/mtp-client" ] || skip "mtp-client was not built on the host (libmtp-dev)"
q=$(usb_busid_local 46f4:0004) || skip "no QEMU usb-mtp device (run bench/mtp-bench.sh)"
files=${VMTEST_MTP_BENCH_FILES:-10000}
mib=${VMTEST_MTP_BENCH_MIB:-64}
dirs=$((files / 100))
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT

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

awk '/^BENCH/ { list[$2] = $4; get[$2] = $6 }
    END {
        printf "BENCH listing %d files: serve-mtp %d ms, QEMU usb-mtp %d ms: %.1fx\n", '"$files"', list["serve-mtp"], list["qemu-usb-mtp"], list["qemu-usb-mtp"] / (list["serve-mtp"] ? list["serve-mtp"] : 1)
        printf "BENCH reading %d MiB: serve-mtp %d ms, QEMU usb-mtp %d ms: %.1fx\n", '"$mib"', get["serve-mtp"], get["qemu-usb-mtp"], get["qemu-usb-mtp"] / (get["serve-mtp"] ? get["serve-mtp"] : 1)
    }' ours.txt qemu.txt
