#!/bin/bash
# bench/mtp-bench.sh — serve-mtp against QEMU's own usb-mtp, in one guest run.
#
# usage: bench/mtp-bench.sh --destdir DIR [--files N] [--mib M]
#        bench/mtp-bench.sh --destdir DIR --reference
#
# The default run lists a tree of N (10000) files in N/100 folders and reads
# an M (64) MiB file with libmtp in the guest, from serve-mtp and from a
# QEMU usb-mtp device holding the same tree (made here, on the host, as its
# rootdir), both imported through usbip over the guest's loopback. It prints
# the times and the ratios (QEMU's time / serve-mtp's: the aim is 5x for the
# listing and 2x for the read).
#
# --reference boots the guest with a QEMU usb-mtp device (readonly=off) on a
# tree like the serve-mtp cases' and runs tests/vm/cases/33 against it: the
# scenarios of the serve-mtp cases, passed by QEMU's device.
#
# DIR is a `make install DESTDIR=DIR` tree; the host needs libmtp-dev for
# the guest's mtp-client (bench/mtp-client.c).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
destdir='' files=10000 mib=64 reference=0
while [ $# -gt 0 ]; do
    case $1 in
    --destdir) destdir=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --mib) mib=$2; shift 2 ;;
    --reference) reference=1; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) echo "mtp-bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$destdir" ] || { echo "mtp-bench.sh: give --destdir DIR (make install DESTDIR=DIR)" >&2; exit 2; }
[ -x "$destdir/usr/sbin/usbip" ] || { echo "mtp-bench.sh: no usr/sbin/usbip in $destdir" >&2; exit 2; }
pkg-config --exists libmtp || { echo "mtp-bench.sh: needs libmtp-dev on the host" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mtp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/tree
mkdir -p "$tree"

if [ "$reference" = 1 ]; then
    # like mtp_make_tree in tests/vm/cases/lib.sh, without the symlinks
    mkdir -p "$tree/Music/deep" "$tree/with space"
    head -c 1500000 /dev/urandom >"$tree/big.bin"
    head -c 500 /dev/urandom >"$tree/exact512.bin"
    echo hello >"$tree/Music/hello.txt"
    echo deep >"$tree/Music/deep/deep.txt"
    printf 'x' >"$tree/with space/é ü – ☃.txt"
    : >"$tree/empty.txt"
    (cd "$tree" && find . -type f -print0 | xargs -0 sha256sum >"$work/sums" && mv "$work/sums" SHA256SUMS)
    VM_QEMU_EXTRA="-device usb-mtp,bus=xhci.0,rootdir=$tree,readonly=off" \
        exec "$top/tests/vm/run.sh" --destdir "$destdir" --verbose --fail-exit \
        "$top/tests/vm/cases/33-qemu-usb-mtp-reference.sh"
fi

echo "mtp-bench: making $files files and a $mib MiB file in $tree" >&2
for ((i = 0; i < files / 100; i++)); do
    mkdir "$tree/dir$i"
    for ((j = 0; j < 100; j++)); do
        echo "file $i $j" >"$tree/dir$i/f$j.txt"
    done
done
head -c $((mib * 1048576)) /dev/urandom >"$tree/big.bin"
sha=$(sha256sum <"$tree/big.bin" | cut -d' ' -f1)

VMTEST_MTP_BENCH_FILES=$files VMTEST_MTP_BENCH_MIB=$mib VMTEST_MTP_BENCH_SHA=$sha \
    VM_QEMU_EXTRA="-device usb-mtp,bus=xhci.0,rootdir=$tree,readonly=on" \
    "$top/tests/vm/run.sh" --destdir "$destdir" --verbose --fail-exit --mem 1536 \
    --timeout 3000 --test-timeout 2700 "$top/bench/mtp-bench-guest.sh" | tee "$work/tap"
echo
grep -h '^#   BENCH [lr]' "$work/tap" | sed 's/^#   //'
grep -q '^ok ' "$work/tap"
