#!/bin/sh
# A hub selector: `connect --persist -b 'HUB.*'` exports what is plugged
# behind the emulated usb-hub, and only that: a disk on a root port and the
# disk that was there from boot stay local.
. /tests/lib.sh
# On failure, what the agent said is the first thing to read.
trap '[ -f agent.log ] && sed "s/^/agent: /" agent.log' EXIT

qemu_monitor_available || skip "no QEMU monitor channel (run.sh's hot-plug)"
hub=$QEMU_HP_HUB_BUSID
exported() { grep -q "exported $1 " agent.log; }

must usbipa -D -t 3252 -P /run/usbipa.pid --allow-device "$QEMU_STORAGE_ID"
must_wait 10 "usbipa listening" tcp_listening 3252
usbip -t 3252 connect --persist -r 127.0.0.1 -b "$hub.*" >agent.log 2>&1 &
agent=$!
must_wait 10 "the agent to say it waits" grep -q "waiting for a device matching -b $hub\.\*" agent.log

qemu_plug_disk hpdisk1 HUBSEL1 7 || fail "plug on a root port"
root=$HP_BUSID
qemu_plug hpd2 "$(qemu_hub_free_port)" "usb-storage,drive=hpdisk2,serial=HUBSEL2" || fail "plug behind the hub"
behind=$HP_BUSID
case $behind in "$hub".*) ;; *) fail "the disk behind the hub is $behind, not under $hub" ;; esac
must_wait 30 "$behind exported" exported "$behind"
must_wait 30 "a disk on vhci_hcd" vhci_disk
exported "$root" && fail "the disk on root port $root was exported"
usb_if_driver_is "$root" usb-storage || fail "$root left usb-storage"
[ "$(vhci_used_ports | wc -w)" -eq 1 ] || fail "more than one device imported: $(vhci_used_ports)"
kill $agent
wait $agent
must_wait 20 "the vhci disk to go" not vhci_disk
cat agent.log
kill "$(cat /run/usbipa.pid)"
