#!/bin/sh
# shellcheck disable=SC1091
# /init of the VM test initramfs (busybox ash, PID 1).
#
# Sets the guest up, runs /tests/cases/*.sh in order, one at a time, and
# prints TAP on the console.  Every line meant for the host starts with
# "VMTAP: " so kernel messages can never be taken for TAP; run.sh strips it.
# Always ends with the line "VMTEST-DONE" and poweroff -f (and, should this
# script die, the kernel panics and panic=-1 + -no-reboot stop QEMU).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C
umask 022

tap() { printf 'VMTAP: %s\n' "$*"; }
diag() { sed 's/^/VMTAP: #   /'; }
uptime_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; } # centiseconds
fmt_cs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

finish() {
    tap "# guest: finished after $(fmt_cs "$(uptime_cs)") s of uptime"
    echo "VMTEST-DONE"
    sync
    poweroff -f
    sleep 5
    echo o >/proc/sysrq-trigger
}

bail() {
    tap "Bail out! $*"
    finish
}

# ------------------------------------------------------------------ setup
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
hostname vmtest
# keep kernel messages off the console (they stay in dmesg)
echo 1 >/proc/sys/kernel/printk

set -a
[ -r /tests/data/env ] && . /tests/data/env
set +a
: "${VMTEST_TEST_TIMEOUT:=120}"
: "${VMTEST_VERBOSE:=0}"
if [ -r /etc/vmtest/ld_library_path ]; then
    LD_LIBRARY_PATH=$(cat /etc/vmtest/ld_library_path)
    export LD_LIBRARY_PATH
fi

tap "# guest: kernel $(uname -r), up $(fmt_cs "$(uptime_cs)") s"

ip link set lo up || bail "cannot bring up lo"
ip addr add 127.0.0.1/8 dev lo 2>/dev/null
ip -6 addr add ::1/128 dev lo 2>/dev/null

for m in $(cat /etc/vmtest/modules); do
    out=$(modprobe "$m" 2>&1) || bail "modprobe $m failed: $out"
done

. /tests/lib.sh

# The hot-plug control channel (lib.sh: qemu_monitor): raw, no echo, so that
# nothing the host sends comes back to it
if qemu_monitor_available; then
    stty raw -echo <"$QEMU_CTL" || bail "cannot set up $QEMU_CTL"
fi

# Wait for the emulated USB devices QEMU was given (VMTEST_EXPECT_USB, a list
# of VID:PID), and for the usb-storage disk, so every case starts from a
# settled system.
settled() {
    for id in ${VMTEST_EXPECT_USB:-}; do
        usb_busid_local "$id" >/dev/null || return 1
    done
    if [ -n "${VMTEST_DISK_SHA256:-}" ]; then
        b=$(usb_busid_local "$QEMU_STORAGE_ID") || return 1
        d=$(disk_of_busid "$b") || return 1
        disk_ready "$d" || return 1
    fi
    if [ -n "${VMTEST_HP_HUB_PORT:-}" ]; then # the hot-plug hub (run.sh)
        usb_if_driver_is "$QEMU_HP_HUB_BUSID" hub 1.0 || return 1
    fi
    return 0
}
if ! wait_for 30 settled; then
    tap "# USB devices present:"
    for d in /sys/bus/usb/devices/*; do
        [ -r "$d/idVendor" ] && echo "${d##*/} $(cat "$d/idVendor"):$(cat "$d/idProduct") $(cat "$d/product" 2>/dev/null)"
    done | diag
    dmesg | tail -n 30 | diag
    bail "emulated USB devices did not show up within 30 s"
fi
tap "# guest: devices settled at $(fmt_cs "$(uptime_cs)") s"

# ------------------------------------------------------------------ cases
# kill_strays — kill every user-space process but this one (kernel threads
# have no /proc/PID/exe)
kill_strays() {
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" = 1 ] || [ "$pid" = "$$" ] && continue
        readlink "$p/exe" >/dev/null 2>&1 && kill -9 "$pid" 2>/dev/null
    done
    return 0
}

set -- /tests/cases/*.sh
[ -e "$1" ] || set --
tap "1..$#"
n=0 failed=0
for t in "$@"; do
    n=$((n + 1))
    name=${t##*/}
    name=${name%.sh}
    wd=/tmp/vmtest/$name
    mkdir -p "$wd"
    log=/tmp/vmtest/$name.log
    dm0=$(dmesg | wc -l)
    t0=$(uptime_cs)
    (cd "$wd" && exec timeout -s KILL "$VMTEST_TEST_TIMEOUT" sh "$t" </dev/null >"$log" 2>&1)
    rc=$?
    el=$(($(uptime_cs) - t0))
    kill_strays
    usbip_reset
    # devices the case hot-plugged and left (after usbip_reset: nothing of
    # theirs is exported or imported any more)
    hpout=$(qemu_hotplug_reset 2>&1) || hpout="hot-plug reset failed: $hpout"
    for ns in /run/netns/*; do # network namespaces made with ip netns
        [ -e "$ns" ] || continue
        umount "$ns" 2>/dev/null
        rm -f "$ns"
    done
    rm -rf /etc/netns # their hosts/resolv.conf (lib.sh's ns_hosts_add, ns_resolver)
    sleep 0.2
    case $rc in
    0) tap "ok $n - $name"; show=$VMTEST_VERBOSE ;;
    77) tap "ok $n - $name # SKIP $(grep -m1 '^SKIP: ' "$log" | cut -c7-)"; show=$VMTEST_VERBOSE ;;
    *)
        failed=$((failed + 1))
        if [ "$rc" = 137 ] && [ "$el" -ge $((VMTEST_TEST_TIMEOUT * 100)) ]; then
            tap "not ok $n - $name (timed out after $VMTEST_TEST_TIMEOUT s)"
        else
            tap "not ok $n - $name (exit $rc)"
        fi
        show=1
        ;;
    esac
    if [ "$show" = 1 ]; then
        diag <"$log"
        if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
            tap "#   --- kernel messages during $name:"
            dmesg | tail -n +$((dm0 + 1)) | tail -n 40 | diag
        fi
    fi
    case $hpout in "hot-plug reset failed"*) printf '%s\n' "$hpout" | diag ;; esac
    tap "# $name: $(fmt_cs "$el") s"
done
tap "# guest: $n case(s), $failed failed"
finish
