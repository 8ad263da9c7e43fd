#!/bin/sh
# Benchmark case (not a test), run in the guest by bench/hotplug-latency:
# the time from QEMU's device_add of a usb-storage disk to the disk being
# readable, ROUNDS times each,
#   local    no USB/IP: the guest's own usb-storage (the reference)
#   connect  the export agent (connect --persist -i) to usbipa; readable
#            through vhci-hcd
#   classic  usbipd --auto-bind and attach --persist -i; readable through
#            vhci-hcd
# and prints "BENCH <mode> <centiseconds>" for each plug.
. /tests/lib.sh

ROUNDS=${VMTEST_BENCH_ROUNDS:-5}
qemu_monitor_available || fail "no QEMU monitor channel"
id=$QEMU_STORAGE_ID
readable() { _d=$(vhci_disk) && disk_ready "$_d" && dd if="/dev/$_d" of=/dev/null bs=4096 count=1 2>/dev/null; }
local_readable() { _d=$(disk_of_busid "$1") && disk_ready "$_d" && dd if="/dev/$_d" of=/dev/null bs=4096 count=1 2>/dev/null; }

# plug_until MODE CONDITION...: plug hpdisk1, time until CONDITION holds, unplug
plug_until() {
    _mode=$1
    shift
    _t0=$(_hp_cs)
    qemu_plug hpd1 "$(qemu_hub_free_port)" "usb-storage,drive=hpdisk1,serial=BENCH1" || fail "plug"
    _b=$HP_BUSID
    must_wait 60 "$_mode: readable" "$@" "$_b"
    echo "BENCH $_mode $(($(_hp_cs) - _t0))"
    qemu_unplug hpd1 || fail "unplug"
    must_wait 30 "$_mode: gone" not vhci_disk
}
readable_any() { readable; }

i=0
while [ $i -lt "$ROUNDS" ]; do
    plug_until local local_readable
    i=$((i + 1))
done

must usbipa -D --allow-device "$id:BENCH1" -t 3290 -P /run/usbipa.pid
must_wait 10 "usbipa listening" tcp_listening 3290
usbip -t 3290 connect --persist -r 127.0.0.1 -i "$id:BENCH1" >agent.log 2>&1 &
agent=$!
must_wait 10 "the agent waiting" grep -q "waiting for a device" agent.log
i=0
while [ $i -lt "$ROUNDS" ]; do
    plug_until connect readable_any
    i=$((i + 1))
done
kill $agent
wait $agent
kill "$(cat /run/usbipa.pid)"

must usbipd -D -P /run/usbipd.pid --auto-bind "$id:BENCH1"
must_wait 10 "usbipd listening" tcp_listening 3240
usbip attach --persist -r 127.0.0.1 -i "$id:BENCH1" >follow.log 2>&1 &
follower=$!
i=0
while [ $i -lt "$ROUNDS" ]; do
    plug_until classic readable_any
    i=$((i + 1))
done
kill $follower
wait $follower
kill "$(cat /run/usbipd.pid)"
