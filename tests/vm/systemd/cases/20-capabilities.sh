#!/bin/sh
# vmtest-enable: vmtest-appnode.service usbipa.service usbip-agent.service usbipd.service
# vmtest-setup: 10-boot-agent.setup
# vmtest-setup: 20-capabilities.setup
# The units' CapabilityBoundingSet= under Debian's systemd: every unit
# does its work with only what its line lists, and needs each of it.
#  - usbipd, usbipa and the agent run; the main process of each has the
#    unit's list as its bounding set (and as its effective set: it is
#    root), its network process nothing; its /dev and /proc are its own
#    (PrivateDevices=, ProcSubset=pid, ProtectProc=invisible);
#  - the work, each daemon on a port below 1024: the agent exports the boot
#    disk to usbipa (another network namespace, port 443), usbipd binds a
#    spare disk plugged now (--auto-bind) and serves it on port 443, the
#    agent's attach rule imports it; both read back by sha256 through vhci;
#  - each capability of usbipd's list taken away in turn (a drop-in with
#    CapabilityBoundingSet=~CAP): CAP_SETUID, CAP_SETGID, CAP_SYS_CHROOT
#    and CAP_NET_BIND_SERVICE, and it does not start, saying why;
#    CAP_KILL, and it can no longer kill a network process that does not
#    stop (SIGSTOPped, then the daemon SIGTERMed): it hangs, where with the
#    whole list it kills it and exits. usbipa and the agent make their
#    network process with the same code (privsep_split).
# shellcheck disable=SC1091
. /tests/lib.sh
. /tests/sdlib.sh

qemu_monitor_available || fail "no QEMU monitor channel (run.sh's hot-plug relay)"
units="usbipd.service usbipa.service usbip-agent.service"
spare_serial=HPCAPS1

# cap_mask NAME... — the mask of these capabilities as /proc/PID/status shows it
cap_mask() {
    _m=0
    for _c in "$@"; do
        _c=$(echo "$_c" | tr '[:upper:]' '[:lower:]')
        _n=$(systemd-analyze capability 2>/dev/null | awk -v c="$_c" '$1 == c { print $2 }')
        [ -n "$_n" ] || { echo "unknown capability $_c" >&2; return 1; }
        _m=$((_m | (1 << _n)))
    done
    printf '%016x\n' "$_m"
}
proc_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; } # PID FIELD
unit_caps() { sed -n 's/^CapabilityBoundingSet=//p' "$(unit_prop "$1" FragmentPath)"; }
network_pid_of() { # MAINPID: its one child
    for _s in /proc/[0-9]*/stat; do awk -v p="$1" '$4 == p { print $1 }' "$_s" 2>/dev/null; done
}

# bounded UNIT: the main process's bounding and effective sets are the unit's list
bounded() {
    _list=$(unit_caps "$1")
    [ -n "$_list" ] || fail "$1 has no CapabilityBoundingSet="
    # shellcheck disable=SC2086
    _want=$(cap_mask $_list) || fail "$1: CapabilityBoundingSet=$_list"
    _pid=$(unit_main_pid "$1")
    _bnd=$(proc_field "$_pid" CapBnd)
    _eff=$(proc_field "$_pid" CapEff)
    [ "$_bnd" = "$_want" ] || fail "$1: main process $_pid has CapBnd $_bnd, its unit's list ($_list) is $_want"
    [ "$_eff" = "$_want" ] || fail "$1: main process $_pid has CapEff $_eff, not $_want"
    _net=$(network_pid_of "$_pid")
    if [ -z "$_net" ] || [ "$(proc_field "$_net" CapEff)" != 0000000000000000 ]; then
        fail "$1: its network process '$_net' has capabilities or is not there"
    fi
    log "$1: main process $_pid CapBnd = CapEff = $_bnd ($_list); network process $_net: none"
    # PrivateDevices=, ProcSubset=pid, ProtectProc=invisible: what it sees
    _root=/proc/$_pid/root
    if [ ! -b /dev/vda ] || [ -e "$_root/dev/vda" ] || [ ! -c "$_root/dev/null" ]; then
        fail "$1: its /dev is not private: $(echo "$_root"/dev/*)"
    fi
    # (hidepid= is judged by the reader, so the mount's options tell)
    _procopts=$(awk '$5 == "/proc" { o = $NF } END { print o }' "/proc/$_pid/mountinfo")
    case ,$_procopts, in *,hidepid=invisible,*subset=pid,* | *,subset=pid,*hidepid=invisible,*) ;;
    *) fail "$1: its /proc is mounted with '$_procopts', not hidepid=invisible and subset=pid" ;;
    esac
    [ ! -e "$_root/proc/sys" ] || fail "$1: its /proc has sys"
    log "$1: its /dev has no disk (vda), its /proc is $_procopts"
}

# vhci_disk_of SERIAL — the disk (sdX) imported through vhci with this USB serial
vhci_disk_of() {
    for _v in $(usb_busids "$QEMU_STORAGE_ID"); do
        is_vhci "$_v" || continue
        [ "$(cat "/sys/bus/usb/devices/$_v/serial" 2>/dev/null)" = "$1" ] || continue
        _d=$(disk_of_busid "$_v") && disk_ready "$_d" && echo "$_d" && return 0
    done
    return 1
}
# local_busid_of SERIAL — the busid of the emulated disk with this serial
local_busid_of() {
    for _v in $(usb_busids "$QEMU_STORAGE_ID"); do
        is_vhci "$_v" && continue
        [ "$(cat "/sys/bus/usb/devices/$_v/serial" 2>/dev/null)" = "$1" ] && echo "$_v" && return 0
    done
    return 1
}
# reads_back WHAT SERIAL SHA256 [BYTES] — it arrives on vhci and reads back
reads_back() {
    must_wait 60 "$1 on vhci" vhci_disk_of "$2"
    _d=$(vhci_disk_of "$2")
    _sum=$(disk_sha256 "$_d" "${4:-}")
    [ "$_sum" = "$3" ] || fail "$1 (/dev/$_d): sha256 through vhci $_sum != $3"
    log "$1: /dev/$_d read back through vhci, sha256 matches"
}

sd_booted 120
for u in $units; do unit_wait_active 30 "$u"; done
for u in $units; do bounded "$u"; done
reads_back "the boot disk, exported by the agent to usbipa on port 443" VMTEST0001 "$VMTEST_DISK_SHA256"
must_wait 10 "usbipd on port 443" tcp_listening 443
# (not qemu_plug: it expects the xhci's buses to be 1 and 2, and here
# vhci-hcd, loaded at boot, came first)
port=$(qemu_hub_free_port) || fail "no free port on the hot-plug hub"
must qemu_monitor device_add "usb-storage,bus=xhci.0,port=$port,id=hpcaps,drive=hpdisk1,serial=$spare_serial"
must_wait 30 "the spare disk in the guest" local_busid_of "$spare_serial"
spare=$(local_busid_of "$spare_serial")
must_wait 20 "$spare bound to usbip-host by usbipd's auto-bind" usb_driver_is "$spare" usbip-host
reads_back "the spare disk, from usbipd on port 443 by the agent's attach rule" "$spare_serial" \
    "$VMTEST_HPDISK1_SHA256" "$VMTEST_HPDISK_BYTES"

# ---- each capability of usbipd's list, taken away
dropin=/run/systemd/system/usbipd.service.d/vmtest-without.conf
without() { # CAP: usbipd restarted without it (and not restarted by systemd)
    mkdir -p "${dropin%/*}"
    printf '[Service]\nCapabilityBoundingSet=~%s\nRestart=no\n' "$1" >"$dropin"
    must systemctl daemon-reload
    journal_mark
    echo "+ systemctl restart usbipd.service, without $1"
    systemctl restart usbipd.service
}
with_all() {
    rm -f "$dropin"
    must systemctl daemon-reload
    systemctl reset-failed usbipd.service 2>/dev/null
    must systemctl restart usbipd.service
    unit_wait_active 30 usbipd.service
}
refused() { # CAP PATTERN: without CAP usbipd does not start, and says PATTERN
    if without "$1"; then fail "usbipd started without $1"; fi
    journal_wait 20 "$2" -u usbipd.service
    log "without $1: usbipd does not start: $(journal_since_mark -u usbipd.service | grep -E "$2" | head -n1)"
}
refused CAP_SETUID "cannot become usbip"
refused CAP_SETGID "cannot become usbip"
refused CAP_SYS_CHROOT "cannot make /run/usbip/empty the root"
refused CAP_NET_BIND_SERVICE "listen.*Permission denied"

# CAP_KILL: the network process SIGSTOPped (a process that does not end when
# told), then usbipd SIGTERMed directly (systemctl stop would SIGCONT it).
# Succeeds when usbipd, having said it kills its network process, is gone
# 10 s later; sets _main and _net.
stop_stuck_network() {
    _main=$(unit_main_pid usbipd.service)
    _net=$(network_pid_of "$_main")
    [ -n "$_net" ] || fail "usbipd has no network process"
    journal_mark
    must kill -STOP "$_net"
    must kill -TERM "$_main"
    must_wait 15 "usbipd to say it kills its network process" \
        _journal_has "did not stop: killing it" -u usbipd.service
    wait_for 10 not kill -0 "$_main"
}
without CAP_KILL || fail "usbipd did not start without CAP_KILL"
unit_wait_active 30 usbipd.service
if stop_stuck_network; then
    fail "usbipd ended its stopped network process without CAP_KILL"
fi
kill -0 "$_net" 2>/dev/null || fail "the network process is gone without CAP_KILL"
log "without CAP_KILL: usbipd $_main cannot kill its network process $_net and hangs"
kill -9 "$_main" "$_net"
must_wait 10 "the hung usbipd to go" not kill -0 "$_main"

with_all
stop_stuck_network || fail "usbipd with its whole list did not end after killing its network process"
wait_for 5 not kill -0 "$_net" || fail "the network process $_net is still there"
log "with CAP_KILL: usbipd killed its stopped network process $_net and exited"

# and with the whole list again, usbipd serves the spare disk to the agent anew
must systemctl start usbipd.service
unit_wait_active 30 usbipd.service
bounded usbipd.service
reads_back "the spare disk, again from the restarted usbipd" "$spare_serial" \
    "$VMTEST_HPDISK1_SHA256" "$VMTEST_HPDISK_BYTES"
exit 0
