#!/bin/sh
# Connect mode as an unattended node runs it: the export agent
# (`connect --persist -i VID:PID:SERIAL`) starts before its device exists and
# waits; QEMU's monitor plugs the disk behind a hub: exported by identity; a
# second disk with the same VID:PID and another serial is left alone;
# unplugged: withdrawn, the agent lives on; plugged again into another port:
# exported again; usbipa restarted: exported again; SIGTERM: withdrawn, the
# disk is a local disk again. Every import reads back by sha256.
. /tests/lib.sh
# On failure, what the agent said is the first thing to read.
trap '[ -f agent.log ] && sed "s/^/agent: /" agent.log; [ -f agent2.log ] && sed "s/^/agent2: /" agent2.log' EXIT

qemu_monitor_available || skip "no QEMU monitor channel (run.sh's hot-plug)"
id=$QEMU_STORAGE_ID
want=$VMTEST_HPDISK1_SHA256

# vhci_reads WHAT: the disk imported through vhci reads back as the plugged one
vhci_reads() { vhci_disk_reads "$1" "$want" "$VMTEST_HPDISK_BYTES"; }
exports() { grep -c "exported .* to 127.0.0.1" agent.log; }
exports_are() { [ "$(exports)" -ge "$1" ]; }

must usbipa -D -t 3251 -P /run/usbipa.pid --allow-device "$id:HPSER1"
must_wait 10 "usbipa listening" tcp_listening 3251

usbip -t 3251 connect --persist -r 127.0.0.1 -i "$id:HPSER1" >agent.log 2>&1 &
agent=$!
must_wait 10 "the agent to say it waits" grep -q "waiting for a device matching -i $id:HPSER1" agent.log

# plug: exported by identity, wherever it is
t0=$(_hp_cs)
qemu_plug hpd1 "$(qemu_hub_free_port)" "usb-storage,drive=hpdisk1,serial=HPSER1" || fail "plug"
b1=$HP_BUSID
must_wait 30 "$b1 exported" exports_are 1
vhci_reads "plugged behind the hub as $b1"
log "plug to readable through vhci: $(_hp_fmt $(($(_hp_cs) - t0))) s"

# the same VID:PID with another serial stays a local disk
qemu_plug_disk hpdisk2 HPSER2 || fail "plug of the second disk"
b2=$HP_BUSID
usb_if_driver_is "$b2" usb-storage || fail "$b2 (serial HPSER2) was taken from usb-storage"
grep -q "$b2" agent.log && fail "the agent touched $b2 (serial HPSER2)"

# unplug: withdrawn; the agent lives on
qemu_unplug hpd1 || fail "unplug"
must_wait 20 "the agent to see the unplug" grep -q "$b1 .*was unplugged" agent.log
must_wait 20 "the vhci disk to go" not vhci_disk
kill -0 $agent || fail "the agent died when its device was unplugged"

# plugged again into another port (a root port: SuperSpeed there)
qemu_plug hpd1 6 "usb-storage,drive=hpdisk1,serial=HPSER1" || fail "replug"
b1b=$HP_BUSID
[ "$b1b" != "$b1" ] || fail "the replug landed on the same busid $b1"
must_wait 30 "$b1b exported" exports_are 2
vhci_reads "plugged again as $b1b"

# usbipa restarted: exported again
kill "$(cat /run/usbipa.pid)"
must_wait 20 "the vhci disk to go with usbipa" not vhci_disk
must usbipa -D -t 3251 -P /run/usbipa.pid --allow-device "$id:HPSER1"
must_wait 40 "exported again after usbipa came back" exports_are 3
vhci_reads "after usbipa restarted"

# kill -9: the export stays with the kernel; a new agent takes it back and
# exports it again (usbipa replaces the stale import), as after a restart
# by systemd.
kill -9 $agent
wait $agent 2>/dev/null
usbip -t 3251 connect --persist -r 127.0.0.1 -i "$id:HPSER1" >agent2.log 2>&1 &
agent=$!
must_wait 20 "the new agent to take the export back" grep -q "taking it back" agent2.log
must_wait 40 "the new agent to export it" grep -q "exported $b1b" agent2.log
vhci_reads "after kill -9 and a new agent"

# SIGTERM: withdrawn, and a local disk again
kill $agent
wait $agent
must_wait 20 "the vhci disk to go" not vhci_disk
must_wait 30 "$b1b back on usb-storage" usb_if_driver_is "$b1b" usb-storage
grep -q "withdrew $b1b" agent2.log || fail "the agent did not say it withdrew $b1b"
cat agent.log
kill "$(cat /run/usbipa.pid)"
