#!/bin/bash
# bench/mtp-bench.sh — serve-mtp against QEMU's own usb-mtp, in one guest run.
#
# usage: bench/mtp-bench.sh --destdir DIR [--files N] [--mib M] [--in-guest]
#        bench/mtp-bench.sh --destdir DIR --reference
#
# The default run lists a tree of N (10000) files in N/100 folders and reads
# an M (64) MiB file with libmtp in the guest, from two devices holding the
# same tree (made here, on the host): QEMU's usb-mtp on the guest's own
# emulated xHCI bus, as a phone plugged in would be, and serve-mtp running
# natively on this host, attached in the guest with usbip over a tap device
# (virtio-net). The tap, serve-mtp and QEMU run in a network namespace made
# here for the run (no slirp, nothing on the host's own network), so each
# device runs where it would: QEMU's in the QEMU process, serve-mtp outside
# the guest. It prints the times and the ratios (QEMU's time / serve-mtp's:
# the aim is 5x for the listing and 2x for the read). Needs root (ip netns,
# a tap device).
#
# --in-guest runs serve-mtp inside the guest instead and imports both
# devices through usbip over the guest's loopback: the same path for both,
# but serve-mtp runs as emulated code there (TCG).
#
# --reference boots the guest with a QEMU usb-mtp device (readonly=off) on a
# tree like the serve-mtp cases' and runs tests/vm/cases/33 against it: the
# scenarios of the serve-mtp cases, passed by QEMU's device.
#
# DIR is a `make install DESTDIR=DIR` tree; the host needs libmtp-dev for
# the guest's mtp-client (bench/mtp-client.c).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
destdir='' files=10000 mib=64 reference=0 in_guest=0
while [ $# -gt 0 ]; do
    case $1 in
    --destdir) destdir=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --mib) mib=$2; shift 2 ;;
    --reference) reference=1; shift ;;
    --in-guest) in_guest=1; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) echo "mtp-bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -n "$destdir" ] || { echo "mtp-bench.sh: give --destdir DIR (make install DESTDIR=DIR)" >&2; exit 2; }
[ -x "$destdir/usr/sbin/usbip" ] || { echo "mtp-bench.sh: no usr/sbin/usbip in $destdir" >&2; exit 2; }
pkg-config --exists libmtp || { echo "mtp-bench.sh: needs libmtp-dev on the host" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mtp-bench.XXXXXX")
ns='' spid=''
cleanup() {
    if [ -n "$spid" ]; then
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
    fi
    [ -z "$ns" ] || ip netns delete "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
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

qemu_mtp="-device usb-mtp,bus=xhci.0,rootdir=$tree,readonly=on"
run_guest() { # COMMAND...: the guest half of the run, started through COMMAND
    "$@" VMTEST_MTP_BENCH_FILES="$files" VMTEST_MTP_BENCH_MIB="$mib" VMTEST_MTP_BENCH_SHA="$sha" \
        "$top/tests/vm/run.sh" --destdir "$destdir" --verbose --fail-exit --mem 1536 \
        --timeout 3000 --test-timeout 2700 "$top/bench/mtp-bench-guest.sh" | tee "$work/tap"
}
if [ "$in_guest" = 1 ]; then
    run_guest env VM_QEMU_EXTRA="$qemu_mtp"
else
    [ "$(id -u)" = 0 ] || { echo "mtp-bench.sh: needs root (a network namespace with a tap device)" >&2; exit 2; }
    command -v ip >/dev/null || { echo "mtp-bench.sh: needs iproute2's ip" >&2; exit 2; }
    # 10.213.0.0/24 lives only in this namespace: it cannot clash with the host's networks.
    ns=mtp-bench-$$ host_ip=10.213.0.1 guest_ip=10.213.0.2
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" tuntap add dev mtpbench0 mode tap
    ip -n "$ns" addr add "$host_ip/24" dev mtpbench0
    ip -n "$ns" link set mtpbench0 up
    # serve-mtp gives up root once listening: the tree must be readable by anyone.
    chmod -R a+rX "$work"
    ip netns exec "$ns" env LD_LIBRARY_PATH="$destdir/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        "$destdir/usr/sbin/usbip" serve-mtp --dir "$tree" --read-only -a "$host_ip" \
        >"$work/serve-mtp.log" 2>&1 &
    spid=$!
    for ((i = 0; i < 100; i++)); do
        grep -q '^serving' "$work/serve-mtp.log" && break
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.1
    done
    grep -q '^serving' "$work/serve-mtp.log" || {
        echo "mtp-bench.sh: serve-mtp did not start:" >&2
        cat "$work/serve-mtp.log" >&2
        exit 1
    }
    echo "mtp-bench: serve-mtp on this host at $host_ip, in network namespace $ns" >&2
    run_guest ip netns exec "$ns" env VMTEST_MTP_BENCH_HOST="$host_ip" \
        VMTEST_MTP_BENCH_GUEST_IP="$guest_ip" VM_MODULES_EXTRA="virtio_pci virtio_net" \
        VM_QEMU_EXTRA="$qemu_mtp -netdev tap,id=bench,ifname=mtpbench0,script=no,downscript=no -device virtio-net-pci,netdev=bench"
fi
echo
grep -h '^#   BENCH [lr]' "$work/tap" | sed 's/^#   //'
grep -q '^ok ' "$work/tap"
