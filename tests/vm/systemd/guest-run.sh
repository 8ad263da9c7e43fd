#!/bin/sh
# /tests/run.sh of the systemd guest: vmtest.service runs it once the boot
# has reached multi-user.target.  It waits for systemd to finish booting
# (`systemctl is-system-running --wait`) and for udev's coldplug, runs each
# /tests/cases/*.sh about the way tests/vm/guest-init.sh does (`bash CASE` in
# its own directory /tmp/vmtest/NAME, stdin /dev/null, killed after
# $VMTEST_TEST_TIMEOUT s with its processes shown), writes TAP lines prefixed
# "VMTAP: " to /dev/ttyS2 (numbered from $VMTEST_TAP_FIRST, no plan: run.sh
# prints the plan), then "VMTEST-DONE" and powers the guest off.
# Unlike guest-init.sh it resets nothing between cases: a case owns its boot.
# shellcheck disable=SC1091
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LC_ALL=C SYSTEMD_PAGER=cat SYSTEMD_COLORS=0 SYSTEMD_LESS=
umask 022

exec 3>/dev/ttyS2
tap() { printf 'VMTAP: %s\n' "$*" >&3; }
diag() { sed 's/^/VMTAP: #   /' >&3; }
uptime_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
fmt_cs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

finish() {
    tap "# guest: finished after $(fmt_cs "$(uptime_cs)") s of uptime"
    echo "VMTEST-DONE" >&3
    # when a case failed (or VMTEST_JOURNAL_DUMP=1): the whole journal
    # after the live part (journald forwards only what does not come from
    # the kernel, and only once it runs); a few seconds under TCG
    if [ "${failed:-1}" != 0 ] || [ "${VMTEST_JOURNAL_DUMP:-0}" = 1 ]; then
        {
            printf '\n----- journalctl -b (the whole journal of this boot) -----\n'
            journalctl -b -q --no-pager -o short-monotonic
        } >/dev/ttyS3 2>&1
    fi
    sync
    # the case is over: no clean shutdown (VMTEST_CLEAN_SHUTDOWN=1 for one)
    if [ "${VMTEST_CLEAN_SHUTDOWN:-0}" = 1 ]; then
        systemctl --no-block poweroff
    else
        systemctl --force poweroff
    fi
    exit 0
}

set -a
[ -r /tests/data/env ] && . /tests/data/env
set +a
: "${VMTEST_TEST_TIMEOUT:=120}" "${VMTEST_VERBOSE:=0}" "${VMTEST_TAP_FIRST:=1}"
# the cases' shell: bash, which is closer to the main suite's busybox ash
# than dash is (lib.sh's qemu_monitor needs read -t; echo leaves
# backslashes alone); the cases are written in POSIX sh all the same
: "${VMTEST_SHELL:=bash}"

t_start=$(uptime_cs)
tap "# guest: kernel $(uname -r), PID 1 $(readlink /proc/1/exe) ($(systemctl --version | head -n1)), runner started at $(fmt_cs "$t_start") s"
state=$(timeout 120 systemctl is-system-running --wait 2>&1)
tap "# guest: system $state at $(fmt_cs "$(uptime_cs)") s; $(systemd-analyze time 2>&1 | head -n1)"
# VMTEST_BOOT_ANALYZE=1: where the boot's time went (~10-20 s more under TCG)
[ "${VMTEST_BOOT_ANALYZE:-0}" != 1 ] || {
    echo "critical chain:"
    systemd-analyze critical-chain --no-pager 2>&1 | tail -n +3
    echo "slowest units:"
    systemd-analyze blame --no-pager 2>&1 | head -n 8
} | diag
if [ "$state" != running ]; then
    systemctl --failed --no-legend --plain 2>&1 | diag
fi

# udev's coldplug done (the case waits for what else it needs: a device
# may well be bound to usbip-host by the units already)
udevadm settle -t 30 || tap "# warning: udevadm settle timed out"
tap "# guest: udev settled at $(fmt_cs "$(uptime_cs)") s"
. /tests/lib.sh
# the hot-plug control channel (lib.sh's qemu_monitor), as guest-init.sh
if command -v qemu_monitor_available >/dev/null 2>&1 && qemu_monitor_available; then
    stty raw -echo <"$QEMU_CTL" || tap "# warning: cannot set up $QEMU_CTL"
fi

n=$((VMTEST_TAP_FIRST - 1)) failed=0 count=0
for t in /tests/cases/*.sh; do
    [ -e "$t" ] || continue
    n=$((n + 1)) count=$((count + 1))
    name=${t##*/}
    name=${name%.sh}
    wd=/tmp/vmtest/$name
    mkdir -p "$wd"
    log=/tmp/vmtest/$name.log
    cursor=$(journalctl -q -n 0 --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p')
    t0=$(uptime_cs)
    tap "# $name: starting at $(fmt_cs "$t0") s"
    # in a process group of its own; at the time limit the group's process
    # tree is kept for the report, then the group is killed
    (cd "$wd" && exec setsid "$VMTEST_SHELL" "$t" </dev/null >"$log" 2>&1) &
    cpid=$!
    limit=$((t0 + VMTEST_TEST_TIMEOUT * 100)) timed_out=0
    while kill -0 "$cpid" 2>/dev/null; do
        if [ "$(uptime_cs)" -ge "$limit" ]; then
            timed_out=1
            {
                echo "--- still running after $VMTEST_TEST_TIMEOUT s (ps of the case's process group):"
                ps -o pid,ppid,etime,stat,wchan:24,args -g "$cpid" 2>&1
            } >"$log.ps"
            kill -KILL -- "-$cpid" 2>/dev/null || kill -KILL "$cpid" 2>/dev/null
            break
        fi
        sleep 0.2
    done
    wait "$cpid"
    rc=$?
    [ "$timed_out" = 0 ] || rc=137
    el=$(($(uptime_cs) - t0))
    case $rc in
    0) tap "ok $n - $name"; show=$VMTEST_VERBOSE ;;
    77) tap "ok $n - $name # SKIP $(grep -m1 '^SKIP: ' "$log" | cut -c7-)"; show=$VMTEST_VERBOSE ;;
    *)
        failed=$((failed + 1))
        if [ "$timed_out" = 1 ]; then
            tap "not ok $n - $name (timed out after $VMTEST_TEST_TIMEOUT s)"
        else
            tap "not ok $n - $name (exit $rc)"
        fi
        show=1
        ;;
    esac
    if [ "$show" = 1 ]; then
        diag <"$log"
        [ ! -s "$log.ps" ] || diag <"$log.ps"
        if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
            tap "#   --- the journal during $name (last 60 lines):"
            if [ -n "$cursor" ]; then
                journalctl -q --no-pager -o short-monotonic --after-cursor="$cursor" 2>&1 | tail -n 60 | diag
            else
                journalctl -q --no-pager -o short-monotonic -b 2>&1 | tail -n 60 | diag
            fi
        fi
    fi
    tap "# $name: $(fmt_cs "$el") s"
done
[ "$count" -gt 0 ] || tap "Bail out! no case in /tests/cases"
tap "# guest: $count case(s), $failed failed"
finish
