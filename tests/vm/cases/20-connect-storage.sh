#!/bin/sh
# Connect mode on the kernel's drivers: usbipa on the application side,
# `usbip connect` on the device side (over loopback here). The disk reads
# back through vhci-hcd; `usbip port` shows where it came from; disconnect
# removes it on both sides and gives it back to usb-storage.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"

must usbipa -D --allow-any -t 3250 -P /run/usbipa.pid
must_wait 10 "usbipa listening" tcp_listening 3250
must usbip -t 3250 connect --json -r 127.0.0.1 -b "$b" >connect.out
cat connect.out
grep -q '^{"result":"exported","busid":"'"$b"'","vendor":"46f4","product":"0001","serial":"VMTEST0001","host":"127.0.0.1"}$' connect.out ||
    fail "connect --json did not say it exported $b: $(cat connect.out)"
usb_driver_is "$b" usbip-host || fail "connect did not bind $b to usbip-host"
usbip_host_status_is "$b" 2 || fail "usbip_status is $(usbip_host_status "$b"), want 2"
vhci_disk_intact "exported with connect"
vb=$(usb_busid_vhci "$QEMU_STORAGE_ID") || fail "no imported device"
port=$(vhci_port_of "$vb")
must usbip port >port.out
cat port.out
grep -q "Port $(printf %02d "$port"): <Port in Use>" port.out || fail "port does not show port $port"
grep -q -- "-> usbip://127.0.0.1:[0-9]*/$b" port.out || fail "port does not show the exporting host"

# A second connect of the same device is refused locally: it is in use.
usbip -t 3250 connect -r 127.0.0.1 -b "$b" --timeout 0 >again.out 2>&1 && fail "second connect succeeded"
cat again.out

must usbip -t 3250 disconnect -r 127.0.0.1 -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
must_wait 30 "local disk back" disk_of_busid "$b"
[ -z "$(vhci_used_ports)" ] || fail "a vhci port is still in use"

# Unexport of a device that is not attached: refused, exit 5.
usbip -t 3250 disconnect -r 127.0.0.1 -b "$b" >dis.out 2>&1
rc=$?
cat dis.out
[ $rc -eq 5 ] || fail "disconnect of a device not attached exited $rc, want 5"
kill "$(cat /run/usbipa.pid)"
