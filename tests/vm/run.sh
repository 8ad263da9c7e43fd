#!/bin/bash
# run.sh — boot the test VM once, run the test cases inside, print TAP.
#
# usage: tests/vm/run.sh [options] [CASE.sh | CASEDIR]...
#
#   --destdir DIR       `make install DESTDIR=DIR` tree copied into the guest at /
#   --cases DIR|FILE    test cases (repeatable; default: tests/vm/cases)
#   --timeout SECS      overall limit for QEMU (default 1200; 32 cases take
#                       ~10 min on 2 busy cores)
#   --test-timeout SECS limit for each case inside the guest (default 120)
#   --verbose           show the output of passing cases too
#   --fail-exit         exit 1 if any case failed (default: only on harness
#                       errors, as automake's tap-driver.sh expects)
#   --keep              keep the work directory (initramfs, disk image)
#   --smp N / --mem MB  guest CPUs (default 1) / memory (default 512)
#   --host-tool T       copy the host's program T into the guest (repeatable;
#                       see mkinitramfs.sh), e.g. --host-tool ip
#
# Environment: VMTEST_* variables are passed into the guest's environment;
# VM_QEMU_EXTRA (more QEMU arguments, word-split), VM_APPEND_EXTRA (more
# kernel command line), VM_CACHE (cache directory, default tests/vm/.cache),
# VM_HPDISK_KIB (size of each spare hot-plug drive, default 2048).
#
# Hot-plug: the guest's /dev/ttyS1 is a control channel to a relay here
# (vm_hotplug_relay in common.sh) that runs device_add/device_del/info usb on
# QEMU's monitor for the cases (lib.sh: qemu_monitor, qemu_plug_disk, ...).
# An HMP monitor for humans is on WORK/monitor.sock (with --keep:
# socat - UNIX-CONNECT:WORK/monitor.sock).
#
# stdout is only TAP (for tap-driver.sh); progress goes to stderr.  The full
# serial console is kept in $VM_CACHE/logs/ (its path is printed as a TAP
# comment).  Exit status: 0 if the guest ran to its end and printed a plan,
# 1 on any harness failure (QEMU timeout or crash, no plan, build failure).
set -euo pipefail
. "$(dirname "$0")/common.sh"

destdir='' timeout=1200 test_timeout=120 verbose=0 fail_exit=0 keep=0 smp=1 mem=512
cases=() tools=()
while [ $# -gt 0 ]; do
    case $1 in
    --destdir) destdir=$2; shift 2 ;;
    --cases) cases+=("$2"); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --test-timeout) test_timeout=$2; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --fail-exit) fail_exit=1; shift ;;
    --keep) keep=1; shift ;;
    --smp) smp=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --host-tool) tools+=(--host-tool "$2"); shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    -*) vm_die "run.sh: unknown option $1 (see --help)" ;;
    *) cases+=("$1"); shift ;;
    esac
done
[ ${#cases[@]} -gt 0 ] || cases=("$VM_DIR/cases")
# The network cases need iproute2's ip (busybox's has no netns) and nft; the
# TLS cases openssl (fresh certificates) and tcpdump (a capture to search);
# the proxy case Debian's tinyproxy (it needs only libc and a config file);
# the real-network cases (50-55) iproute2's tc, for netem.
for t in ip nft tc openssl tcpdump tinyproxy; do
    command -v "$t" >/dev/null 2>&1 && tools+=(--host-tool "$t")
done

t_start=$(date +%s%N)

"$VM_DIR/fetch.sh" || vm_harness_fail "fetch.sh failed (see stderr)"
# shellcheck source=/dev/null
. "$VM_CACHE/env"
command -v qemu-system-x86_64 >/dev/null || vm_harness_fail "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

vm_work_dir vmtest

# ------------------------------------------------------------------ disk image
# 16 MiB (VM_DISK_MIB) of random data; the first 64 KiB zeroed so that no partition table
# parser ever finds anything in it.
disk=$work/disk0.img
disk_bytes=$((${VM_DISK_MIB:-16} * 1024 * 1024)) # VM_DISK_MIB: a bigger disk for benchmarks
disk_sha=$(vm_random_disk "$disk" "$disk_bytes")
disk_serial=VMTEST0001

# Spare drives for the hot-plug cases (plugged with device_add while the
# guest runs), the same kind of contents, small: behind QEMU's usb-hub a disk
# runs at full speed (12 Mbit/s).  -blockdev, not -drive: a -drive's backend
# is deleted with the device on device_del, a -blockdev node stays and can
# be plugged again.
hp_bytes=$((${VM_HPDISK_KIB:-2048} * 1024))
hp_drives="hpdisk1 hpdisk2 hpdisk3"
hp_hub_port=5
hp_env='' hp_qemu=()
for d in $hp_drives; do
    hp_env+="VMTEST_${d^^}_SHA256=$(vm_random_disk "$work/$d.img" "$hp_bytes")"$'\n'
    hp_qemu+=(-blockdev "driver=raw,node-name=$d,file.driver=file,file.filename=$work/$d.img")
done
# the QMP monitor (the relay's) and the guest's control channel: pipe
# chardevs, each a pair of FIFOs (see vm_hotplug_relay)
mkfifo "$work/qmp.in" "$work/qmp.out" "$work/ctl.in" "$work/ctl.out"

mkdir -p "$work/data"
cat >"$work/data/env" <<EOF
VMTEST_DISK_SHA256=$disk_sha
VMTEST_DISK_BYTES=$disk_bytes
VMTEST_DISK_SERIAL=$disk_serial
VMTEST_TEST_TIMEOUT=$test_timeout
VMTEST_VERBOSE=$verbose
VMTEST_EXPECT_USB="46f4:0001 0627:0001 0409:55aa"
VMTEST_HP_DRIVES="$hp_drives"
VMTEST_HPDISK_BYTES=$hp_bytes
VMTEST_HP_HUB_PORT=$hp_hub_port
EOF
printf '%s' "$hp_env" >>"$work/data/env"
# pass the caller's VMTEST_* variables on (single-quoted for the guest's sh)
while IFS='=' read -r -d '' name value; do
    case $name in VMTEST_[A-Za-z0-9_]*) ;; *) continue ;; esac
    q="'\\''"
    printf "%s='%s'\n" "$name" "${value//\'/$q}" >>"$work/data/env"
done < <(env -0)

# ------------------------------------------------------------------ initramfs
t_build=$(date +%s%N)
mkargs=(-o "$work/initrd.gz" --data "$work/data")
[ -z "$destdir" ] || mkargs+=(--destdir "$destdir")
[ ${#tools[@]} = 0 ] || mkargs+=("${tools[@]}")
"$VM_DIR/mkinitramfs.sh" "${mkargs[@]}" "${cases[@]}" || vm_harness_fail "mkinitramfs.sh failed (see stderr)"
build_ms=$(vm_ms_since "$t_build")

# ------------------------------------------------------------------ boot
mkdir -p "$VM_CACHE/logs"
stamp=$(date +%Y%m%d-%H%M%S)-$$
log=$VM_CACHE/logs/console-$stamp.log
rlog=$VM_CACHE/logs/relay-$stamp.log # the hot-plug relay's transcript
: >"$log"
ln -sfn "$(basename "$log")" "$VM_CACHE/logs/latest.log"
# keep the 20 newest logs of each kind
for k in console relay; do
    find "$VM_CACHE/logs" -name "$k-*.log" -printf '%T@ %p\n' | sort -rn | tail -n +21 | cut -d' ' -f2- | xargs -r rm -f
done

# shellcheck disable=SC2054 # commas are QEMU syntax
qemu=(qemu-system-x86_64 -accel tcg -m "$mem" -smp "$smp"
    -nodefaults -no-reboot -display none -net none
    -monitor "unix:$work/monitor.sock,server=on,wait=off"
    -chardev "pipe,id=qmp,path=$work/qmp" -mon chardev=qmp,mode=control
    -chardev "file,id=con,path=$log" -serial chardev:con
    -chardev "pipe,id=ctl,path=$work/ctl" -serial chardev:ctl
    -kernel "$VM_VMLINUZ" -initrd "$work/initrd.gz"
    -append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic ${VM_APPEND_EXTRA:-}"
    -device qemu-xhci,id=xhci,p2=8,p3=8
    -drive "if=none,id=disk0,file=$disk,format=raw"
    -device "usb-storage,bus=xhci.0,drive=disk0,serial=$disk_serial"
    -device usb-kbd,bus=xhci.0
    -device usb-tablet,bus=xhci.0
    -device usb-hub,bus=xhci.0
    "${hp_qemu[@]}"
    -device "usb-hub,bus=xhci.0,port=$hp_hub_port,id=hphub")
# shellcheck disable=SC2206
qemu+=(${VM_QEMU_EXTRA:-})

echo "# console log: $log"
vm_log "booting kernel $VM_KVER (timeout ${timeout}s)"
t_boot=$(date +%s%N)
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >"$work/qemu.out" 2>&1 &
qpid=$!
vm_hotplug_relay "$work" "$hp_drives" "$qpid" >"$rlog" 2>&1 &
rpid=$!

# Stream the TAP lines while the guest runs.  tail exits once QEMU is gone.
# (in the background, so that a signal to run.sh is handled at once)
tail -n +1 -s 0.2 -f --pid="$qpid" "$log" |
    tr -d '\r' | sed -n 's/^VMTAP: //p' | tee "$work/tap" &
spid=$!

set +e
wait "$spid"
wait "$qpid"
qrc=$?
set -e
qpid=
kill "$rpid" 2>/dev/null || true
wait "$rpid" 2>/dev/null || true
rpid=
grep -q ' guest\[' "$rlog" && echo "# hot-plug relay log: $rlog"
boot_ms=$(vm_ms_since "$t_boot")

# ------------------------------------------------------------------ verdict
set +e
tap_tail() {
    echo "#   --- last console lines:"
    tr -d '\r' <"$log" | grep -v '^VMTAP: ' | tail -n 25 | sed 's/^/#   /' || true
    if [ -s "$work/qemu.out" ]; then
        echo "#   --- QEMU said:"
        tail -n 10 "$work/qemu.out" | sed 's/^/#   /'
    fi
}
status=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    tap_tail
    echo "Bail out! QEMU timed out after ${timeout}s and was killed"
    status=1
elif ! grep -q '^VMTEST-DONE' <(tr -d '\r' <"$log"); then
    tap_tail
    echo "Bail out! the guest stopped before finishing (QEMU exit $qrc)"
    status=1
elif ! grep -q '^1\.\.[0-9]' "$work/tap"; then
    tap_tail
    echo "Bail out! the guest printed no TAP plan"
    status=1
elif grep -q '^Bail out!' "$work/tap"; then
    status=1
fi
pass=$(grep -c '^ok ' "$work/tap" || true)
fail=$(grep -c '^not ok ' "$work/tap" || true)
skip=$(grep -c '^ok .*# SKIP' "$work/tap" || true)
echo "# host: initramfs ${build_ms} ms, QEMU ${boot_ms} ms, total $(vm_ms_since "$t_start") ms"
echo "# summary: $((pass - skip)) passed, $fail failed, $skip skipped"
if [ "$fail_exit" = 1 ] && [ "$fail" != 0 ]; then status=1; fi
exit "$status"
