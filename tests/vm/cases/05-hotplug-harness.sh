#!/bin/sh
# The hot-plug harness itself (lib.sh "hot-plug", run.sh's relay): USB disks
# plugged and unplugged through QEMU's monitor while the guest runs, behind
# the hot-plug hub and on a root port, read back by sha256; two disks with
# the same VID:PID and different serials side by side; the relay's refusals;
# a disk unplugged while bound to usbip-host and usbip_reset after it.
# Debian's kernel only, no usbip tools.  Leaves nothing plugged.
# shellcheck disable=SC2153 # VMTEST_HPDISKn_SHA256 come from /tests/data/env
. /tests/lib.sh

qemu_monitor_available || skip "no hot-plug control channel (run.sh gives it)"
[ -n "${VMTEST_HPDISK1_SHA256:-}" ] || skip "no spare drives"
trap 'qemu_unplug_all >/dev/null 2>&1' EXIT

# check_disk ID SHA256 — the disk just plugged (HP_BUSID, HP_DISK) reads back
check_disk() {
    _t0=$(_hp_cs)
    _sum=$(disk_sha256 "$HP_DISK")
    [ "$_sum" = "$2" ] || fail "$1 on $HP_BUSID ($HP_DISK): sha256 $_sum, want $2"
    t_read=$(($(_hp_cs) - _t0))
    log "$1 on $HP_BUSID ($HP_DISK): $VMTEST_HPDISK_BYTES bytes, sha256 matches ($(_hp_fmt "$t_read") s)"
}
# gone BUSID SERIAL — no such USB device, no disk with that serial
gone() {
    [ ! -e "/sys/bus/usb/devices/$1" ] || return 1
    for _s in /sys/bus/usb/devices/*/serial; do
        [ "$(cat "$_s" 2>/dev/null)" = "$2" ] && return 1
    done
    return 0
}

# ---- the hub, as the guest and QEMU see it
hub=$QEMU_HP_HUB_BUSID
usb_if_driver_is "$hub" hub 1.0 || fail "no hub at $hub"
[ "$(cat /sys/bus/usb/devices/"$hub"/idVendor):$(cat /sys/bus/usb/devices/"$hub"/idProduct)" = "$QEMU_HUB_ID" ] ||
    fail "$hub is not QEMU's usb-hub"
log "hot-plug hub: $hub, speed $(cat /sys/bus/usb/devices/"$hub"/speed), $(cat /sys/bus/usb/devices/"$hub"/maxchild) ports"
t0=$(_hp_cs)
must qemu_usb_info >info0.txt
t_rtt=$(($(_hp_cs) - t0))
cat info0.txt
grep -qx "$QEMU_HP_HUB_PORT $QEMU_HP_HUB_ID" info0.txt || fail "info usb does not show $QEMU_HP_HUB_ID on port $QEMU_HP_HUB_PORT"
grep -q '^4\.' info0.txt && fail "something is behind the first hub"

# ---- what the relay and the monitor refuse, and how it is reported
qemu_monitor quit >refused.out 2>&1 && fail "quit was accepted"
cat refused.out
grep -q "refused by the host's relay" refused.out || fail "quit: no refusal message"
for bad in "device_add usb-storage,bus=xhci.0,port=4.1,drive=hpdisk1,id=hpx" \
    "device_add usb-storage,bus=xhci.0,port=5.1,drive=disk0,id=hpx" \
    "device_add usb-storage,bus=xhci.0,drive=hpdisk1,id=hpx" \
    "device_add usb-storage,bus=xhci.0,port=5.1,drive=hpdisk1,id=hpx,pcap=x" \
    "device_del usb-kbd" "drive_add 0 if=none,file=/etc/passwd" "info block"; do
    # shellcheck disable=SC2086 # the words of the command
    qemu_monitor $bad 2>refused.out && fail "the relay ran: $bad"
    [ $? = 2 ] || fail "$bad: exit is not 2 (refused): $(cat refused.out)"
done
qemu_monitor device_add "usb-storage,bus=xhci.0,port=$QEMU_HP_HUB_PORT,drive=hpdisk1,id=hpx" 2>err.out &&
    fail "device_add on the hub's own port succeeded"
cat err.out
grep -q "Error: .*port $QEMU_HP_HUB_PORT" err.out || fail "the monitor's error is not shown"
qemu_monitor device_del hpnosuch 2>err.out && fail "device_del of an unknown id succeeded"
grep -q "Error: Device 'hpnosuch' not found" err.out || fail "device_del: $(cat err.out)"

# ---- a disk behind the hub; unplug; plug again on another hub port and on
# a root port (SuperSpeed there)
qemu_plug_disk hpdisk1 VMTESTHP01 "$QEMU_HP_HUB_PORT.1" || fail "plug hpdisk1"
t_plug1=$HP_CS
[ "$HP_BUSID" = "$hub.1" ] || fail "hpdisk1 at $HP_BUSID, want $hub.1"
[ "$(cat /sys/bus/usb/devices/"$HP_BUSID"/idVendor):$(cat /sys/bus/usb/devices/"$HP_BUSID"/idProduct)" = "$QEMU_STORAGE_ID" ] ||
    fail "$HP_BUSID is not a QEMU usb-storage"
usb_if_driver_is "$HP_BUSID" usb-storage || fail "$HP_BUSID:1.0 is not on usb-storage"
log "$HP_BUSID: speed $(cat /sys/bus/usb/devices/"$HP_BUSID"/speed), product '$(cat /sys/bus/usb/devices/"$HP_BUSID"/product)'"
check_disk hpdisk1 "$VMTEST_HPDISK1_SHA256"
t_read_fs=$t_read
must qemu_usb_info >info1.txt
grep -qx "$QEMU_HP_HUB_PORT.1 hpdisk1" info1.txt || fail "info usb does not show hpdisk1"
# the same drive twice: QEMU says no
qemu_monitor device_add "usb-storage,bus=xhci.0,port=$QEMU_HP_HUB_PORT.2,drive=hpdisk1,id=hptwice" 2>err.out &&
    fail "the same drive was plugged twice"
grep -q "Error: " err.out || fail "no monitor error for the same drive twice"

must qemu_unplug hpdisk1
t_unplug1=$HP_CS
gone "$hub.1" VMTESTHP01 || fail "$hub.1 / VMTESTHP01 still there after unplug"
disk_of_busid "$hub.1" >/dev/null && fail "its disk is still there"
must qemu_usb_info >info2.txt
grep -q ' hpdisk1$' info2.txt && fail "info usb still shows hpdisk1"

qemu_plug_disk hpdisk1 VMTESTHP01 "$QEMU_HP_HUB_PORT.3" || fail "plug hpdisk1 again"
[ "$HP_BUSID" = "$hub.3" ] || fail "hpdisk1 at $HP_BUSID, want $hub.3"
check_disk hpdisk1 "$VMTEST_HPDISK1_SHA256"
must qemu_unplug hpdisk1
must_wait 10 "hpdisk1 gone" gone "$hub.3" VMTESTHP01

qemu_plug_disk hpdisk1 VMTESTHP01 6 || fail "plug hpdisk1 on root port 6"
[ "$HP_BUSID" = 2-6 ] || fail "hpdisk1 on root port 6 at $HP_BUSID, want 2-6 (SuperSpeed)"
t_plug_ss=$HP_CS
log "$HP_BUSID: speed $(cat /sys/bus/usb/devices/"$HP_BUSID"/speed)"
check_disk hpdisk1 "$VMTEST_HPDISK1_SHA256"
must qemu_unplug hpdisk1

# ---- two disks, the same VID:PID, different serials; the default port is
# the hub's first free one
qemu_plug_disk hpdisk2 VMTESTHP02 || fail "plug hpdisk2"
b2=$HP_BUSID d2=$HP_DISK
check_disk hpdisk2 "$VMTEST_HPDISK2_SHA256"
qemu_plug_disk hpdisk3 VMTESTHP03 || fail "plug hpdisk3"
b3=$HP_BUSID d3=$HP_DISK
check_disk hpdisk3 "$VMTEST_HPDISK3_SHA256"
[ "$b2 $b3" = "$hub.1 $hub.2" ] || fail "default ports gave $b2 $b3, want $hub.1 $hub.2"
[ "$d2" != "$d3" ] || fail "both on $d2"
ids=$(usb_busids "$QEMU_STORAGE_ID" | tr '\n' ' ')
log "usb-storage devices ($QEMU_STORAGE_ID): $ids"
for b in "$b2" "$b3"; do
    case " $ids " in *" $b "*) ;; *) fail "usb_busids $QEMU_STORAGE_ID lacks $b" ;; esac
done
[ "$(cat /sys/bus/usb/devices/"$b2"/serial)" = VMTESTHP02 ] || fail "$b2 serial"
[ "$(cat /sys/bus/usb/devices/"$b3"/serial)" = VMTESTHP03 ] || fail "$b3 serial"
# what a selector -b '1-5.*' has to pick: the devices behind the hub
behind=$(cd /sys/bus/usb/devices && for d in "$hub".*; do case $d in *:*) ;; *) echo "$d" ;; esac; done | tr '\n' ' ')
[ "$behind" = "$hub.1 $hub.2 " ] || fail "behind the hub: '$behind'"
log "behind $hub: $behind"

# ---- a hot-plugged disk bound to usbip-host (by hand, as the tools do it)
# and unplugged while bound: usbip_reset (what /init runs after each case)
# copes; the kernel keeps the busid in match_busid (it cannot drop it without
# the device), and the next disk at that port goes to usb-storage all the
# same.  Bound and reset while plugged, the entry goes.
hd=/sys/bus/usb/drivers/usbip-host
bind_host() {
    printf 'add %s' "$1" >"$hd/match_busid" || return 1
    printf '%s' "$1" >/sys/bus/usb/drivers/usb/unbind || return 1
    printf '%s' "$1" >"$hd/bind"
}
in_match_busid() { grep -qw "$1" "$hd/match_busid"; }
must bind_host "$b3"
must_wait 10 "$b3 on usbip-host" usb_driver_is "$b3" usbip-host
must_wait 10 "its disk gone" not disk_of_busid "$b3"
must qemu_unplug hpdisk3
usbip_reset
in_match_busid "$b3" && log "after unplug while bound and usbip_reset: $b3 stays in match_busid"
qemu_plug_disk hpdisk3 VMTESTHP03 "$QEMU_HP_HUB_PORT.2" || fail "plug hpdisk3 again"
usb_driver_is "$HP_BUSID" usb || fail "$HP_BUSID went to $(usb_driver "$HP_BUSID")"
check_disk hpdisk3 "$VMTEST_HPDISK3_SHA256"
must bind_host "$b3"
must_wait 10 "$b3 on usbip-host" usb_driver_is "$b3" usbip-host
usbip_reset
must_wait 10 "$b3 back on usb" usb_driver_is "$b3" usb
in_match_busid "$b3" && fail "usbip_reset left $b3 in match_busid: $(cat "$hd/match_busid")"
must_wait 30 "its disk back" _hp_disk_ready "$b3"

# ---- the hub unplugged with a disk behind it, and put back by
# qemu_unplug_all (what /init does after each case), with hpdisk3 left
must qemu_unplug "$QEMU_HP_HUB_ID"
must_wait 10 "the disks behind the hub gone" gone "$b2" VMTESTHP02
must qemu_unplug_all
usb_if_driver_is "$hub" hub 1.0 || fail "the hub did not come back at $hub"
must qemu_usb_info >info9.txt
grep ' hp' info9.txt | grep -qv " $QEMU_HP_HUB_ID\$" && fail "left plugged: $(cat info9.txt)"
[ -z "$(cd /sys/bus/usb/devices && ls -d "$hub".* 2>/dev/null)" ] || fail "devices behind $hub remain"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "the fixed disk is gone"
[ "$b" = 2-1 ] || fail "the first usb-storage device is $b, want 2-1"

log "timings: info usb round trip $(_hp_fmt "$t_rtt") s; plug behind the hub to disk ready" \
    "$(_hp_fmt "$t_plug1") s, on a root port $(_hp_fmt "$t_plug_ss") s; unplug to gone" \
    "$(_hp_fmt "$t_unplug1") s; sha256 of the disk behind the hub $(_hp_fmt "$t_read_fs") s"
