#!/bin/sh
# vUDC mode with the project's tools: the same configfs mass-storage gadget
# as 03-debian-vudc (Debian's usbipd --device is the reference there), bound
# to usbip-vudc, listed by `usbip list -d`, served by our `usbipd --device`
# (its device list byte for byte as Debian's), imported with our attach and
# with Debian's, and exported with `usbip connect --device` to our usbipa.
# Each import reads the backing file back by sha256.
# shellcheck source=lib.sh
. /tests/lib.sh

g=vmtest-ours
img=/tmp/vudc-ours.img
bytes=$((4 * 1024 * 1024))

gadget_modules || skip "usbip-vudc, libcomposite or usb_f_mass_storage not available"
udc=$(vudc_udc) || fail "no usbip-vudc UDC in /sys/class/udc"
plat=$(vudc_platform "$udc")

dd if=/dev/zero of="$img" bs=65536 count=1 2>/dev/null || fail "dd"
dd if=/dev/urandom bs=65536 count=$((bytes / 65536 - 1)) 2>/dev/null >>"$img" || fail "dd"
want=$(sha256sum <"$img" | cut -d' ' -f1)
trap 'gadget_remove "$g"; rm -f "$img"' EXIT
# No serial number: our device list would carry it after the path's zero
# (for attach -i VID:PID:SERIAL), which Debian's does not, and the byte for
# byte comparison below is the point here.
must gadget_create_mass_storage "$g" "$img" "$VUDC_GADGET_ID" ""
must gadget_bind "$g" "$udc"
must_wait 10 "$udc to have a gadget (usbip_status 1)" vudc_status_is "$plat" 1

# read_back WHAT: the vhci disk's sha256 is the backing file's
read_back() {
    must_wait 30 "a disk on vhci_hcd" vhci_disk
    _d=$(vhci_disk)
    must_wait 30 "/dev/$_d ready" disk_ready "$_d"
    _sum=$(disk_sha256 "$_d")
    [ "$_sum" = "$want" ] || fail "$1: sha256 $_sum != backing file's $want"
    log "$1: $bytes bytes read back, sha256 matches"
}
detach_all() {
    _vb=$(usb_busid_vhci "$VUDC_GADGET_ID") || fail "no $VUDC_GADGET_ID on vhci_hcd"
    must usbip detach -p "$(vhci_port_of "$_vb")"
    must_wait 20 "the vhci disk to go away" not vhci_disk
    must_wait 10 "usbip_status of $udc back to 1" vudc_status_is "$plat" 1
}

# --- usbip list -d
must usbip list -d >list-d.out
cat list-d.out
grep -q "busid $udc ($VUDC_GADGET_ID)" list-d.out || fail "usbip list -d does not show $udc ($VUDC_GADGET_ID)"
must usbip list -d --json >list-d.json
grep -q "\"busid\": *\"$udc\"" list-d.json || fail "usbip list -d --json does not show $udc"
must usbip list -l >list-l.out
grep -q "$udc" list-l.out && fail "usbip list -l shows the gadget: it is not a usbip-host device"

# --- the device list, byte for byte as Debian's usbipd --device sends it
req='\001\021\200\005\000\000\000\000'
debian_usbipd_start --device
printf "$req" | timeout 10 nc 127.0.0.1 3240 >devlist-debian.bin
debian_usbipd_stop
must usbipd --device -D -P /run/usbipd.pid
must_wait 10 "usbipd --device listening" tcp_listening 3240
printf "$req" | timeout 10 nc 127.0.0.1 3240 >devlist-ours.bin
[ "$(wc -c <devlist-ours.bin)" -eq $((8 + 4 + 312)) ] ||
    fail "our OP_REP_DEVLIST is $(wc -c <devlist-ours.bin) bytes, want 324"
cmp devlist-debian.bin devlist-ours.bin || {
    hexdump -C devlist-debian.bin; hexdump -C devlist-ours.bin
    fail "our usbipd --device's device list differs from Debian's"
}
log "OP_REP_DEVLIST identical to Debian's usbipd --device ($(wc -c <devlist-ours.bin) bytes)"
must usbip list -r 127.0.0.1 >list-r.out
cat list-r.out
grep -q "$udc" list-r.out || fail "usbip list -r does not show $udc"

# --- our attach, then Debian's, from our usbipd --device
must usbip attach -r 127.0.0.1 -b "$udc"
must_wait 10 "usbip_status of $udc 2 (used)" vudc_status_is "$plat" 2
read_back "our attach from our usbipd --device"
# while imported it is not offered, and a second import is refused as busy
must usbip list -r 127.0.0.1 >list-used.out
grep -q "$udc" list-used.out && fail "the imported gadget is still offered"
detach_all
must "$DEBIAN_USBIP" attach -r 127.0.0.1 -b "$udc"
read_back "Debian's attach from our usbipd --device"
detach_all
kill "$(cat /run/usbipd.pid)"
must_wait 10 "usbipd gone" tcp_not_listening 3240

# --- connect --device to our usbipa
must usbipa -D --allow-any -t 3250 -P /run/usbipa.pid
must_wait 10 "usbipa listening" tcp_listening 3250
must usbip -t 3250 connect -r 127.0.0.1 --device -b "$udc" >connect.out
cat connect.out
grep -q "exported $udc to 127.0.0.1" connect.out || fail "connect --device did not say it exported $udc"
read_back "connect --device to usbipa"
must usbip -t 3250 disconnect -r 127.0.0.1 --device -b "$udc"
must_wait 20 "the vhci disk to go away" not vhci_disk
must_wait 10 "usbip_status of $udc back to 1" vudc_status_is "$plat" 1
vudc_has_gadget "$udc" || fail "disconnect --device took the gadget off its UDC"
kill "$(cat /run/usbipa.pid)"

must gadget_remove "$g"
trap - EXIT
rm -f "$img"
must_wait 5 "$udc without a gadget" not vudc_has_gadget "$udc"
