#!/bin/sh
# A HID device (QEMU's usb-kbd) exported by our usbipd and attached by our
# usbip is enumerated by the guest kernel: usbhid binds and an input device
# appears below vhci_hcd. Unbind gives the keyboard back to usbhid.
. /tests/lib.sh

b=$(usb_busid_local "$QEMU_HID_ID" Keyboard) || fail "no usb-kbd device"
must usbipd -D -P /run/usbipd.pid
must_wait 10 "usbipd listening" tcp_listening 3240
must usbip bind -b "$b"
must_wait 10 "$b on usbip-host" usb_driver_is "$b" usbip-host

must usbip list -r 127.0.0.1 >list.out
cat list.out
grep -q "Human Interface Device" list.out || fail "list -r does not name the HID class"
must usbip attach -r 127.0.0.1 -b "$b"
must_wait 30 "a keyboard on vhci_hcd" usb_busid_vhci "$QEMU_HID_ID" Keyboard
vb=$(usb_busid_vhci "$QEMU_HID_ID" Keyboard)
must_wait 20 "usbhid on $vb:1.0" usb_if_driver_is "$vb" usbhid
vhci_input() {
    for i in /sys/class/input/input*; do
        case $(readlink -f "$i") in */vhci_hcd.*/"$vb"/*) return 0 ;; esac
    done
    return 1
}
must_wait 20 "an input device below vhci" vhci_input
log "keyboard enumerated as $vb: $(cat "/sys/bus/usb/devices/$vb/product")"
must usbip detach --all
must_wait 20 "vhci keyboard gone" not usb_busid_vhci "$QEMU_HID_ID" Keyboard
must usbip unbind -b "$b"
must_wait 20 "$b back on usbhid" usb_if_driver_is "$b" usbhid
