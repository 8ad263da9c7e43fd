#!/bin/sh
# Our usbipd and our usbip, end to end on the kernel's drivers: QEMU's
# usb-storage disk is bound, listed, attached through vhci-hcd over IPv4 and
# IPv6 and read back with the expected sha256; detach frees it for another
# attach; unbind gives it back to usb-storage.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"

must usbip list -l >list-l.out
cat list-l.out
grep -q "busid $b (46f4:0001)" list-l.out || fail "list -l does not show $b"
grep -q "0 - Mass Storage / SCSI / Bulk-Only (08/06/50)" list-l.out || fail "list -l does not show the interface"
grep -q "driver: usb, speed 5Gbps" list-l.out || fail "list -l does not show driver and speed"
hub=$(usb_busids 0409:55aa | head -n1)
if [ -n "$hub" ]; then
    usbip bind -b "$hub" >hub.out 2>&1 && fail "bind of hub $hub succeeded"
    grep -q "is a hub" hub.out || fail "bind of a hub did not say why: $(cat hub.out)"
    usb_driver_is "$hub" usb && usb_if_driver_is "$hub" hub || fail "the refused hub lost its driver"
fi
must usbip list -l --json >list-l.json
grep -q "\"busid\":\"$b\"" list-l.json || fail "list -l --json does not show $b"
grep -q '"driver":"usb"' list-l.json || fail "list -l --json lacks the driver"

must usbipd -D -P /run/usbipd.pid
must_wait 10 "usbipd listening" tcp_listening 3240

must usbip bind -b "$b"
must_wait 10 "$b on usbip-host" usb_driver_is "$b" usbip-host
usbip_host_status_is "$b" 1 || fail "usbip_status is $(usbip_host_status "$b"), want 1"
mustfail usbip bind -b "$b"
must_wait 10 "local disk gone" not disk_of_busid "$b"
usbip list -l | grep -A6 "busid $b " | grep -q "state: bound" || fail "list -l does not say $b is bound"

must usbip list -r 127.0.0.1 >list-r.out
cat list-r.out
grep -q "$b: .*(46f4:0001)" list-r.out || fail "list -r 127.0.0.1 does not show $b"
grep -q "Mass Storage" list-r.out || fail "list -r does not name the interface class"
must usbip list -r ::1 --json >list-r.json
cat list-r.json
grep -q "\"busid\":\"$b\"" list-r.json || fail "list -r ::1 --json does not show $b"

# Errors a user can make: each is one line and a non-zero exit.
usbip attach -r 127.0.0.1 -b 9-9 >err.out 2>&1
rc=$?
cat err.out
[ $rc -eq 5 ] || fail "attach of an unknown busid exited $rc, want 5 (refused)"
[ "$(wc -l <err.out)" -eq 1 ] || fail "attach of an unknown busid printed more than one line"
mustfail usbip attach -r 127.0.0.1 -b "../../etc"
mustfail usbip detach -p 3
mustfail usbip detach -p notaport
mustfail usbip bind -b 99-99

# Import over IPv4.
must usbip attach -r 127.0.0.1 -b "$b" >attach.out
cat attach.out
port=$(sed -n 's/.* to port \([0-9]*\)$/\1/p' attach.out)
[ -n "$port" ] || fail "attach did not say which port"
vhci_disk_intact "first attach"
usbip_host_status_is "$b" 2 || fail "usbip_status is $(usbip_host_status "$b"), want 2 (used)"
# usbip list shows what each device is doing: exported there, attached here.
must usbip list -l >state.out
cat state.out
grep -A6 "busid $b " state.out | grep -q "state: exported" || fail "list -l does not say $b is exported"
grep -q "state: attached here from 127.0.0.1 busid $b, vhci port $port" state.out ||
    fail "list -l does not show the disk attached here from 127.0.0.1"
must usbip list -l --json >state.json
grep -q '"state":"attached","from_host":"127.0.0.1","from_busid":"'"$b"'","port":'"$port" state.json ||
    fail "list -l --json lacks the attached disk: $(cat state.json)"
vb=$(usb_busid_vhci "$QEMU_STORAGE_ID") || fail "no imported device"
[ "$(vhci_port_of "$vb")" = "$port" ] || fail "attach said port $port, vhci says $(vhci_port_of "$vb")"

# An imported device cannot be exported again (it would loop).
usbip bind -b "$vb" >loop.out 2>&1 && fail "bind of the imported $vb succeeded"
grep -q "would loop" loop.out || fail "bind of an imported device did not say why: $(cat loop.out)"
must usbip list -l >list-l2.out
# listed only as what it is: attached here, not offered
if grep -q "busid $vb " list-l2.out; then
    grep -A6 "busid $vb " list-l2.out | grep -q "state: attached here" || fail "list -l offers the imported $vb"
fi
usbip list -l -p | grep -q "busid=$vb#" && fail "list -l -p offers the imported $vb"

must usbip port >port.out
cat port.out
grep -q "Port $(printf %02d "$port"): <Port in Use> at 5Gbps" port.out || fail "port does not show port $port"
grep -q -- "-> usbip://127.0.0.1:3240/$b" port.out || fail "port does not show where $vb came from"
must usbip port --json >port.json
grep -q "\"remote_busid\":\"$b\"" port.json || fail "port --json lacks the remote busid"
# The kernel tools read the same record.
must "$DEBIAN_USBIP" port >port-debian.out
grep -q "usbip://127.0.0.1:3240/$b" port-debian.out || fail "Debian's usbip port does not see our record"

# A device in use is not offered again.
must usbip list -r 127.0.0.1 >list-busy.out
grep -q "no exportable devices" list-busy.out || fail "list -r still offers $b while in use"

must usbip detach -p "$port"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 10 "usbip_status back to 1" usbip_host_status_is "$b" 1
[ ! -e "/var/run/vhci_hcd/port$port" ] || fail "detach left /var/run/vhci_hcd/port$port"

# Import again, over IPv6 as [::1]:3240, the result in JSON; then detach --all.
must usbip attach --json -r "[::1]:3240" -b "$b" >attach.json
cat attach.json
grep -q '^{"result":"attached","busid":"'"$b"'","vendor":"46f4","product":"0001","serial":"VMTEST0001","host":"\[::1\]:3240","port":[0-9]*}$' attach.json ||
    fail "attach --json: $(cat attach.json)"
usbip port | grep -q -- "-> usbip://::1:3240/$b" || fail "the record of [::1]:3240 is not host ::1, port 3240: $(usbip port)"
vhci_disk_intact "second attach, over IPv6"
must usbip detach --all
must_wait 20 "vhci disk gone" not vhci_disk

must usbip unbind --json -b "$b" >unbind.json
grep -q '^{"result":"unbound","busid":"'"$b"'","vendor":"46f4","product":"0001",' unbind.json ||
    fail "unbind --json: $(cat unbind.json)"
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
must_wait 30 "local disk back" disk_of_busid "$b"
d=$(disk_of_busid "$b")
must_wait 10 "/dev/$d ready" disk_ready "$d"
sum=$(disk_sha256 "$d")
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "after unbind: sha256 $sum != $VMTEST_DISK_SHA256"
mustfail usbip unbind -b "$b"
kill "$(cat /run/usbipd.pid)"
must_wait 5 "usbipd gone" tcp_not_listening 3240
