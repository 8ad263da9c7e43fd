#!/bin/sh
# Debian's usbip/usbipd export QEMU's usb-kbd over loopback; imported through
# vhci_hcd it must bind to usbhid and register an input device, and go back
# to the local usbhid after detach + unbind.
# shellcheck source=lib.sh
. /tests/lib.sh

# input_on_vhci — an input device whose sysfs path runs through vhci_hcd
input_on_vhci() {
    for _i in /sys/class/input/input*; do
        case $(readlink -f "$_i") in */vhci_hcd.*) echo "${_i##*/} $(cat "$_i/name")"; return 0 ;; esac
    done
    return 1
}

b=$(usb_busid_local "$QEMU_HID_ID" Keyboard) || fail "no usb-kbd ($QEMU_HID_ID \"QEMU USB Keyboard\")"
log "usb-kbd busid: $b ($(usb_path "$b"))"
usb_if_driver_is "$b" usbhid || fail "$b:1.0 not bound to usbhid"
not input_on_vhci || fail "an input device on vhci before the test"

debian_usbipd_start
must "$DEBIAN_USBIP" bind -b "$b"
must_wait 10 "$b bound to usbip-host" usb_driver_is "$b" usbip-host
must "$DEBIAN_USBIP" list -r 127.0.0.1 >list-r.out
cat list-r.out
grep -q "$b: .*(0627:0001)" list-r.out || fail "usbip list -r does not show $b"

must "$DEBIAN_USBIP" attach -r 127.0.0.1 -b "$b"
must_wait 30 "the keyboard on vhci" usb_busid_vhci "$QEMU_HID_ID" Keyboard
vb=$(usb_busid_vhci "$QEMU_HID_ID" Keyboard)
log "imported: busid $vb ($(usb_path "$vb")), speed $(cat "/sys/bus/usb/devices/$vb/speed")"
must_wait 20 "$vb:1.0 bound to usbhid" usb_if_driver_is "$vb" usbhid
must_wait 20 "an input device on vhci" input_on_vhci
log "input device: $(input_on_vhci)"
ev=
for e in "$(readlink -f "/sys/class/input/$(input_on_vhci | cut -d' ' -f1)")"/event*; do
    [ -e "$e" ] && ev=${e##*/} && break
done
[ -n "$ev" ] || fail "no event node for the imported keyboard"
must_wait 5 "/dev/input/$ev" test -c "/dev/input/$ev"
port=$(vhci_port_of "$vb") || fail "$vb not in the vhci status files"
log "vhci port: $port"

must "$DEBIAN_USBIP" detach -p "$port"
must_wait 20 "the keyboard to leave vhci" not usb_busid_vhci "$QEMU_HID_ID" Keyboard
must_wait 10 "no input device on vhci" not input_on_vhci
must_wait 10 "usbip_status of $b back to 1" usbip_host_status_is "$b" 1
must "$DEBIAN_USBIP" unbind -b "$b"
must_wait 20 "$b back on usbhid" usb_if_driver_is "$b" usbhid
debian_usbipd_stop
