#!/bin/sh
# bench/mtp-throughput.sh -- serve-mtp's file streaming on the build host,
# no guest: bench/mtp-urb-bench speaks USB/IP and MTP to `usbip serve-mtp`
# over loopback and reads one file with several URB patterns (16 KiB one at
# a time as libmtp issues them, 512 KiB one at a time and four in flight,
# 64 KiB eight in flight, 16 MiB two in flight). It prints MB/s and the
# responder's CPU time per MiB, with ratios to 512 KiB one at a time in the
# same run, for three placements of the two processes on the CPUs. Not a
# test: prints numbers, asserts none.
#
# usage: bench/mtp-throughput.sh [BUILDDIR (default build-bench)] [MIB (256)] [ROUNDS (4)]
# BUILDDIR is configured and built here when it has no Makefile yet.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-$top/build-bench}
mib=${2:-256}
rounds=${3:-4}
if [ ! -f "$builddir/Makefile" ]; then
	"$top/scripts/build.sh" "$builddir" --prefix=/usr --sysconfdir=/etc \
		--localstatedir=/var --runstatedir=/run
fi
make -s -C "$builddir" src/usbip bench/mtp-urb-bench >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/mtp-throughput.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/dir"
head -c $((mib << 20)) /dev/urandom >"$work/dir/big.bin"
# Correctness first (every byte compared with the file), then the numbers.
"$builddir/bench/mtp-urb-bench" -r 1 -v "$builddir/src/usbip" "$work/dir" >"$work/verify" 2>&1 ||
	{ cat "$work/verify"; exit 1; }
echo "mtp-throughput: ${mib} MiB file, data checked byte for byte; $(nproc) CPUs, $(uname -r)"
# Where the two processes run changes the cost of each wake-up: as the
# scheduler likes, sharing one CPU, and on two.
for cpus in "" 0,0 0,1; do
	[ "$cpus" = 0,1 ] && [ "$(nproc)" -lt 2 ] && continue
	echo
	"$builddir/bench/mtp-urb-bench" -r "$rounds" ${cpus:+-c "$cpus"} "$builddir/src/usbip" \
		"$work/dir" 2>>"$work/log" || { tail -20 "$work/log"; exit 1; }
done

# The same over a Unix socket (serve-mtp --listen unix:PATH) against TCP
# loopback, placed alike (on two CPUs where there are two): each pattern's
# MB/s and responder CPU per MiB as ratios Unix/TCP.
cpus=0,1
[ "$(nproc)" -lt 2 ] && cpus=0,0
for over in tcp unix; do
	"$builddir/bench/mtp-urb-bench" -r "$rounds" -c "$cpus" $([ $over = unix ] && echo -u) \
		"$builddir/src/usbip" "$work/dir" >"$work/$over.out" 2>>"$work/log" ||
		{ tail -20 "$work/log"; exit 1; }
done
echo
echo "Unix socket against TCP loopback (CPUs $cpus), ratios Unix/TCP:"
printf '%-11s %9s %9s %12s %12s %9s %9s\n' URBs "TCP MB/s" "Unix MB/s" "TCP CPU/MiB" \
	"Unix CPU/MiB" "MB/s" "CPU/MiB"
awk 'FNR == NR && /^[0-9]/ { rate[$1 " " $2] = $3; cpu[$1 " " $2] = $4; next }
	/^[0-9]/ && (($1 " " $2) in rate) {
		k = $1 " " $2
		printf "%-11s %9.0f %9.0f %12.3f %12.3f %9.2f %9.2f\n", k, rate[k], $3, cpu[k], $4,
			$3 / rate[k], (cpu[k] > 0 ? $4 / cpu[k] : 0)
	}' "$work/tcp.out" "$work/unix.out"
