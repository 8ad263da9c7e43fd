#!/bin/sh
# Classic mode following a device by identity: `usbipd --auto-bind` binds
# the disk as it is plugged, `usbip attach --persist -i VID:PID:SERIAL`
# attaches it as soon as usbipd offers it; unplug and plug again: attached
# again; usbipd restarted: attached again; `usbip detach` of its port ends
# the follower; stopping usbipd gives the disk back to usb-storage.
. /tests/lib.sh
# On failure, what the agent said is the first thing to read.
trap '[ -f follow.log ] && sed "s/^/follow: /" follow.log' EXIT

qemu_monitor_available || skip "no QEMU monitor channel (run.sh's hot-plug)"
id=$QEMU_STORAGE_ID
want=$VMTEST_HPDISK3_SHA256

# vhci_reads WHAT: the disk imported through vhci reads back as the plugged one
vhci_reads() { vhci_disk_reads "$1" "$want" "$VMTEST_HPDISK_BYTES"; }
attaches_are() { [ "$(grep -c "attached .* from 127.0.0.1 to port" follow.log)" -ge "$1" ]; }

must usbipd -D -P /run/usbipd.pid --auto-bind "$id:HPSER3"
must_wait 10 "usbipd listening" tcp_listening 3240
usbip attach --persist -r 127.0.0.1 -i "$id:HPSER3" >follow.log 2>&1 &
follower=$!
must_wait 10 "the follower to say it waits" grep -q "waiting for a device matching" follow.log

t0=$(_hp_cs)
qemu_plug hpd3 "$(qemu_hub_free_port)" "usb-storage,drive=hpdisk3,serial=HPSER3" || fail "plug"
b=$HP_BUSID
must_wait 10 "$b bound to usbip-host by --auto-bind" usb_driver_is "$b" usbip-host
must_wait 40 "attached" attaches_are 1
vhci_reads "plugged as $b"
log "plug to readable through vhci (classic, follower): $(_hp_fmt $(($(_hp_cs) - t0))) s"

qemu_unplug hpd3 || fail "unplug"
must_wait 20 "the vhci disk to go" not vhci_disk
qemu_plug hpd3 "$(qemu_hub_free_port)" "usb-storage,drive=hpdisk3,serial=HPSER3" || fail "replug"
must_wait 10 "bound again" usb_driver_is "$HP_BUSID" usbip-host
must_wait 40 "attached again" attaches_are 2
vhci_reads "plugged again as $HP_BUSID"

kill "$(cat /run/usbipd.pid)"
must_wait 20 "the vhci disk to go with usbipd" not vhci_disk
must usbipd -D -P /run/usbipd.pid --auto-bind "$id:HPSER3"
must_wait 40 "attached again after usbipd came back" attaches_are 3
vhci_reads "after usbipd restarted"

vb=$(usb_busid_vhci "$id") || fail "no imported device"
port=$(vhci_port_of "$vb")
must usbip detach -p "$port"
# (a child that ended stays a zombie for kill -0 until it is waited for)
must_wait 10 "the follower to end with its port" grep -q "port $port was detached" follow.log
wait $follower
rc=$?
[ $rc -eq 0 ] || fail "the follower exited $rc after usbip detach"
b=$(qemu_port_busid "$(cat "$HP_STATE/dev/hpd3")")
kill "$(cat /run/usbipd.pid)"
must_wait 30 "$b back on usb-storage when usbipd stopped" usb_if_driver_is "$b" usb-storage
cat follow.log
