#!/bin/sh
# vUDC mode with Debian's own tools: a configfs mass-storage gadget (a file of
# random data behind it) bound to the usbip-vudc UDC is served by Debian's
# `usbipd --device`, imported with `usbip attach` through vhci_hcd over
# loopback and read back by sha256.  The reference for the project's
# `usbipd --device`; it also records what the vudc looks like in sysfs and on
# the wire (see tests/vm/README, "vUDC").
# shellcheck source=lib.sh
. /tests/lib.sh

g=vmtest-ms
img=/tmp/vudc-backing.img
bytes=$((4 * 1024 * 1024))

gadget_modules || skip "usbip-vudc, libcomposite or usb_f_mass_storage not available"
udc=$(vudc_udc) || fail "no usbip-vudc UDC in /sys/class/udc"
plat=$(vudc_platform "$udc")
log "UDC $udc, platform device $plat"

# --- the vudc before a gadget is bound
log "--- $plat"
ls -l "$plat"
log "usbip_status: $(cat "$plat/usbip_status")"
log "dev_desc without a gadget: $(vudc_dev_desc_hex "$plat" 2>&1 || echo "(unreadable)")"
log "--- /sys/class/udc/$udc"
ls "/sys/class/udc/$udc/"
cat "/sys/class/udc/$udc/uevent"
log "current_speed: $(cat "/sys/class/udc/$udc/current_speed")," \
    "maximum_speed: $(cat "/sys/class/udc/$udc/maximum_speed")," \
    "state: $(cat "/sys/class/udc/$udc/state")," \
    "function: '$(cat "/sys/class/udc/$udc/function")'"

# Debian's usbipd --device with no gadget bound: nothing to export
debian_usbipd_start --device
must "$DEBIAN_USBIP" list -r 127.0.0.1 >list-empty.out 2>&1
cat list-empty.out
grep -q "$udc" list-empty.out && fail "usbipd --device lists $udc before a gadget is bound"
debian_usbipd_stop

# --- the backing file: random data, first 64 KiB zero (no partition table
# can ever be recognised in it, so the disk is the whole device)
dd if=/dev/zero of="$img" bs=65536 count=1 2>/dev/null || fail "dd"
dd if=/dev/urandom bs=65536 count=$((bytes / 65536 - 1)) 2>/dev/null >>"$img" || fail "dd"
[ "$(wc -c <"$img")" -eq "$bytes" ] || fail "backing file is $(wc -c <"$img") bytes, want $bytes"
want=$(sha256sum <"$img" | cut -d' ' -f1)
log "backing file $img: $bytes bytes, sha256 $want"

trap 'gadget_remove "$g"; rm -f "$img"' EXIT
must gadget_create_mass_storage "$g" "$img" "$VUDC_GADGET_ID" VMTESTVUDC1
must gadget_bind "$g" "$udc"
must_wait 10 "$udc to have a gadget (usbip_status 1)" vudc_status_is "$plat" 1
log "--- with the gadget bound"
cat "/sys/class/udc/$udc/uevent"
log "current_speed: $(cat "/sys/class/udc/$udc/current_speed")," \
    "state: $(cat "/sys/class/udc/$udc/state")," \
    "function: '$(cat "/sys/class/udc/$udc/function")'"
desc=$(vudc_dev_desc_hex "$plat") || fail "dev_desc unreadable with a gadget bound"
log "dev_desc: $desc"
case $desc in "12 01 "*) ;; *) fail "dev_desc is not a device descriptor: $desc" ;; esac

# Debian's `usbip list -d` (local gadgets on usbip-vudc); it prints the ids
# wrongly ("(0x1d:0x1d)": "0x%4x" of idVendor twice, cut to 4 characters),
# the product line has them right
must "$DEBIAN_USBIP" list -d >list-d.out 2>&1
cat list-d.out
grep -q "busid $udc " list-d.out || fail "usbip list -d does not show $udc"
grep -q "($VUDC_GADGET_ID)" list-d.out || fail "usbip list -d does not show $VUDC_GADGET_ID"

# --- export
debian_usbipd_start --device
must "$DEBIAN_USBIP" list -r 127.0.0.1 >list-r.out 2>&1
cat list-r.out
grep -q "$udc: .*($VUDC_GADGET_ID)" list-r.out || fail "usbip list -r does not show $udc ($VUDC_GADGET_ID)"
# the raw OP_REP_DEVLIST reply (OP_REQ_DEVLIST: version 0x0111, code 0x8005, status 0)
printf '\001\021\200\005\000\000\000\000' | timeout 10 nc 127.0.0.1 3240 >devlist.bin
log "OP_REP_DEVLIST: $(wc -c <devlist.bin) bytes"
hexdump -C devlist.bin
[ "$(wc -c <devlist.bin)" -eq $((8 + 4 + 312)) ] || fail "OP_REP_DEVLIST is not 8 + 4 + 312 bytes (one device, no interfaces)"

# --- import
must "$DEBIAN_USBIP" attach -r 127.0.0.1 -d "$udc"
must_wait 10 "usbip_status of $udc 2 (used)" vudc_status_is "$plat" 2
must_wait 30 "a disk on vhci_hcd" vhci_disk
d=$(vhci_disk)
must_wait 30 "/dev/$d ready" disk_ready "$d"
vb=$(usb_busid_vhci "$VUDC_GADGET_ID") || fail "no $VUDC_GADGET_ID on vhci_hcd"
log "imported: busid $vb ($(usb_path "$vb")), disk $d, speed $(cat "/sys/bus/usb/devices/$vb/speed")," \
    "serial $(cat "/sys/bus/usb/devices/$vb/serial" 2>/dev/null)"
vhci_status | grep -v ' 004 ' || true
port=$(vhci_port_of "$vb") || fail "$vb not in the vhci status files"
log "vhci port $port; Debian's state file: $(cat "/var/run/vhci_hcd/port$port" 2>/dev/null)"
[ "$(($(cat "/sys/block/$d/size") * 512))" -eq "$bytes" ] ||
    fail "/dev/$d has $(cat "/sys/block/$d/size") sectors, want $((bytes / 512))"
t0=$(date +%s)
sum=$(disk_sha256 "$d")
log "sha256 through USB/IP: $sum ($(($(date +%s) - t0)) s)"
[ "$sum" = "$want" ] || fail "sha256 through USB/IP $sum != backing file's $want"
# a second export while attached is refused: usbip_status stays 2
must "$DEBIAN_USBIP" list -r 127.0.0.1 >list-used.out 2>&1
cat list-used.out

# --- detach
must "$DEBIAN_USBIP" detach -p "$port"
must_wait 20 "the vhci disk to go away" not vhci_disk
must_wait 10 "vhci port $port free" not vhci_port_of "$vb"
must_wait 10 "usbip_status of $udc back to 1" vudc_status_is "$plat" 1
log "after detach: usbip_status $(cat "$plat/usbip_status")"

# --- the raw OP_REP_IMPORT reply.  usbipd hands the socket to the vudc
# before it sends the reply, so nc must not end its side (stdin at EOF)
# until the reply is in: the vudc would take that as a disconnect and shut
# the socket down under usbipd's feet.  When timeout kills nc the vudc sees
# the disconnect and is available again.
{
    printf '\001\021\200\003\000\000\000\000%s' "$udc"
    head -c $((32 - ${#udc})) /dev/zero
    sleep 2
} | timeout 3 nc 127.0.0.1 3240 >import.bin
log "OP_REP_IMPORT: $(wc -c <import.bin) bytes"
hexdump -C import.bin
[ "$(wc -c <import.bin)" -eq $((8 + 312)) ] || fail "OP_REP_IMPORT is not 8 + 312 bytes"
must_wait 10 "usbip_status of $udc back to 1 after the raw import" vudc_status_is "$plat" 1
debian_usbipd_stop

# --- tear down: the next cases see no gadget
must gadget_remove "$g"
trap - EXIT
rm -f "$img"
must_wait 5 "$udc without a gadget" not vudc_has_gadget "$udc"
log "gadget removed, $udc free"
