#!/bin/sh
# vmtest-enable: vmtest-appnode.service usbipa.service usbip-agent.service
# vmtest-setup: 10-boot-agent.setup
# Boot-time operation under Debian's systemd: with the units enabled and
# /etc/usbip/usbip.conf in place, the device node's agent exports the disk
# to the application node's usbipa (its own network namespace) at boot,
# with no command typed, and it reads back by sha256. kill -9 of the agent:
# systemd restarts it and the disk is back. A reload that adds a rule
# exports the new device and leaves the disk on its vhci port. Both units
# run separated: root's main process, the network one as the usbip user.
# A broken config: the reload is refused, and usbip status and the journal
# say why. systemctl stop: every export withdrawn, the devices local again.
. /tests/lib.sh
. /tests/sdlib.sh

id=$QEMU_STORAGE_ID
b=$(usb_busid_local "$id") || fail "no usb-storage disk"
conf=/etc/usbip/usbip.conf

# the disk through vhci is the one QEMU was given
vhci_port_of_serial() { # SERIAL: the vhci port of the imported disk with it
    for _v in $(usb_busids "$id"); do
        is_vhci "$_v" || continue
        [ "$(cat "/sys/bus/usb/devices/$_v/serial" 2>/dev/null)" = "$1" ] && vhci_port_of "$_v" && return 0
    done
    return 1
}
disk_back() { vhci_port_of_serial VMTEST0001 >/dev/null && vhci_disk >/dev/null; }

sd_booted 120
unit_wait_active 30 usbipa.service
unit_wait_active 30 usbip-agent.service
must_wait 60 "the disk exported at boot" disk_back
vhci_disk_intact "exported at boot, no command typed"
port1=$(vhci_port_of_serial VMTEST0001)
log "at boot: the disk on vhci port $port1"
usbip status --json >status.json || fail "usbip status failed"
grep -q '"state":"exported"' status.json || fail "usbip status does not say exported: $(cat status.json)"
grep -q '"daemon":"usbipa"' status.json || fail "usbip status does not show usbipa"

# The units run the separated daemons: in each unit, the main process is
# root and its one child (the network process) the usbip system user.
separated_unit() { # UNIT
    _main=$(unit_main_pid "$1")
    _kids=$(for _s in /proc/[0-9]*/stat; do awk -v p="$_main" '$4 == p { print $1 }' "$_s" 2>/dev/null; done)
    [ "$(awk '$1 == "Uid:" { print $3 }' "/proc/$_main/status")" = 0 ] || fail "$1: its main process is not root"
    [ -n "$_kids" ] && [ "$(echo "$_kids" | wc -l)" = 1 ] || fail "$1: not one network process: '$_kids'"
    _uid=$(awk '$1 == "Uid:" { print $3 }' "/proc/$_kids/status")
    [ "$_uid" = "$(id -u usbip)" ] && [ "$_uid" != 0 ] || fail "$1: its network process has uid $_uid, not usbip's"
    [ "$(awk '$1 == "CapEff:" { print $2 }' "/proc/$_kids/status")" = 0000000000000000 ] ||
        fail "$1: its network process has capabilities"
    log "$1: main pid $_main root, network process $_kids as usbip (uid $_uid), no capabilities"
}
id -u usbip >/dev/null 2>&1 || fail "no usbip system user (sysusers.d/usbip.conf)"
separated_unit usbipa.service
separated_unit usbip-agent.service

# kill -9: systemd restarts the agent, the new one takes the export back.
old=$(unit_main_pid usbip-agent.service)
must kill -9 "$old"
new=$(unit_wait_new_pid 30 usbip-agent.service "$old") || fail "systemd did not restart the agent"
log "agent restarted by systemd: pid $old -> $new ($(unit_restarts usbip-agent.service) restart)"
must_wait 60 "the disk back after the restart" sh -c "journalctl -b -q -u usbip-agent.service -o cat | grep -q 'taking it back'"
must_wait 60 "the disk readable again" disk_back
vhci_disk_intact "after kill -9 and the restart"
port1=$(vhci_port_of_serial VMTEST0001)

# A reload that adds a rule (QEMU's usb-tablet, by its port); the disk stays put.
tab=$(usb_busid_local "$QEMU_HID_ID" Tablet) || fail "no usb-tablet"
cat >>"$conf" <<CONF

[export tablet]
busid = $tab
remote = 10.99.0.2
CONF
must systemctl reload usbip-agent.service
tablet_on_vhci() { _t=$(usb_busid_vhci "$QEMU_HID_ID") && usb_if_driver_is "$_t" usbhid; }
must_wait 60 "the tablet exported after the reload, usbhid on it" tablet_on_vhci
[ "$(vhci_port_of_serial VMTEST0001)" = "$port1" ] || fail "the first disk moved from port $port1"
journalctl -b -q -u usbip-agent.service -o cat | grep -q "1 rules unchanged, 1 started, 0 stopped" ||
    fail "the reload did not keep the first rule: $(journalctl -b -q -u usbip-agent.service -o cat | tail -5)"
log "reload: the tablet exported, the disk still on port $port1"

# A broken file: refused, the running rules go on, status and journal say why.
printf '\n[export broken]\nbogus = 1\n' >>"$conf"
must systemctl reload usbip-agent.service
must_wait 20 "usbip status to show the refused reload" sh -c 'usbip status --json | grep -q reload_refused'
usbip status >status.txt
grep -q "bogus: unknown key" status.txt || fail "usbip status does not say why: $(cat status.txt)"
journalctl -b -q -u usbip-agent.service -o cat | grep -q "reload of $conf refused" ||
    fail "the journal does not say the reload was refused"
unit_active usbip-agent.service || fail "the agent stopped on a broken file"
[ "$(vhci_port_of_serial VMTEST0001)" = "$port1" ] || fail "a refused reload moved the first disk"

# systemctl stop: every export withdrawn, the disks back on usb-storage.
must systemctl stop usbip-agent.service
must_wait 30 "the imported disks to go" not vhci_disk
must_wait 30 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
must_wait 30 "$tab back on usbhid" usb_if_driver_is "$tab" usbhid
log "stop: withdrawn, the disk and the tablet local again"
