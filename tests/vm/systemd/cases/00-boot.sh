#!/bin/sh
# The systemd guest itself: Debian's systemd is PID 1 and the boot finished
# (running, or degraded with the failed units named); the journal works;
# udev runs and its events arrive; the usbip modules load; the emulated USB
# disk is there with the data QEMU was given; systemd-analyze verify runs;
# only lo, and network namespaces work.
# shellcheck disable=SC1091
. /tests/lib.sh
. /tests/sdlib.sh

exe=$(readlink /proc/1/exe)
case $exe in */systemd) log "PID 1 is $exe" ;; *) fail "PID 1 is $exe, not systemd" ;; esac
[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1's comm is $(cat /proc/1/comm)"
sd_booted 60
st=$(sd_state)
log "system state: $st"
if [ "$st" = degraded ]; then
    systemctl --failed --no-legend --plain
    fail "degraded: a unit failed at boot"
fi
must systemctl -q is-active multi-user.target
must systemctl -q is-active systemd-journald.service systemd-udevd.service dbus.socket

# the journal: this boot's lines, and a line of ours comes back
n=$(journalctl -b -q --no-pager | wc -l)
[ "$n" -gt 50 ] || fail "journalctl -b has only $n lines"
log "journalctl -b: $n lines"
tag=vmtest-$$-$(date +%s)
must logger -t vmtest "hello $tag"
must_wait 10 "our line in the journal" sh -c "journalctl -b -q -t vmtest -o cat | grep -q 'hello $tag'"

# udev: running, the database knows the USB disk, and events come through
must udevadm control --ping
must_wait 30 "the emulated usb-storage device" usb_busid_local "$QEMU_STORAGE_ID"
b=$(usb_busid_local "$QEMU_STORAGE_ID")
must_wait 30 "usb-storage on $b" usb_if_driver_is "$b" usb-storage
log "usb-storage: $b, driver $(usb_driver "$b"), interface $(usb_if_driver "$b")"
must_wait 30 "a disk behind $b" disk_of_busid "$b"
d=$(disk_of_busid "$b")
must_wait 30 "/dev/$d ready" disk_ready "$d"
must udevadm info --query=property --name="/dev/$d" >udev.txt
grep -q '^ID_BUS=usb' udev.txt || fail "udev has no ID_BUS=usb for /dev/$d: $(cat udev.txt)"
grep -q '^ID_SERIAL_SHORT=VMTEST0001' udev.txt || fail "udev has not the disk's serial: $(cat udev.txt)"
[ -e "/dev/disk/by-id/usb-QEMU_QEMU_HARDDISK_VMTEST0001-0:0" ] || ls -l /dev/disk/by-id/
sum=$(disk_sha256 "$d")
[ "$sum" = "$VMTEST_DISK_SHA256" ] || fail "/dev/$d: sha256 $sum != $VMTEST_DISK_SHA256"
log "/dev/$d: $VMTEST_DISK_BYTES bytes, sha256 matches"
# a change event, seen by udevadm monitor (libudev's netlink socket)
timeout 10 udevadm monitor --udev --subsystem-match=block >monitor.txt 2>&1 &
mon=$!
sleep 1
must udevadm trigger --action=change "/sys/class/block/$d"
must_wait 10 "the change event in udevadm monitor" grep -q "change .*/$d (block)" monitor.txt
kill "$mon" 2>/dev/null
must udevadm settle -t 30

# the usbip modules, by name as in the issue
must modprobe usbip-core
must modprobe usbip-host
must modprobe vhci-hcd
[ -d /sys/bus/usb/drivers/usbip-host ] || fail "no usbip-host driver after modprobe"
[ -e /sys/devices/platform/vhci_hcd.0/status ] || fail "no vhci_hcd.0 after modprobe"
log "modules: $(lsmod | awk '$1 ~ /^(usbip|vhci)/ { printf "%s ", $1 }')"

# systemd-analyze verify on stock units
must systemd-analyze verify --man=no systemd-journald.service systemd-udevd.service dbus.service
# and on the project's, when the installed tree has them
ours=''
for u in /usr/lib/systemd/system/usbip*.service /etc/systemd/system/usbip*.service; do
    [ -f "$u" ] && ours="$ours $u"
done
if [ -n "$ours" ]; then
    # shellcheck disable=SC2086
    must systemd-analyze verify --man=no $ours
    log "verified:$ours"
fi

# network: only lo; network namespaces and veth
links=$(ip -o link show | awk -F': ' '{ print $2 }' | tr '\n' ' ')
[ "$links" = "lo " ] || fail "links other than lo: $links"
must ip netns add nsa
must ip netns add nsb
must ip link add va type veth peer name vb
must ip link set va netns nsa
must ip link set vb netns nsb
must ip netns exec nsa ip addr add 10.98.0.1/24 dev va
must ip netns exec nsb ip addr add 10.98.0.2/24 dev vb
must ip netns exec nsa ip link set va up
must ip netns exec nsb ip link set vb up
must_wait 10 "ping across the veth" ip netns exec nsb ping -c1 -W1 10.98.0.1
must ip netns exec nsa nft add table inet t
must ip netns del nsa
must ip netns del nsb

# the tools a case relies on
for t in openssl sha256sum dd timeout nft ip ss ps lsusb nc; do
    command -v "$t" >/dev/null || fail "$t missing"
done
if command -v usbip >/dev/null; then log "usbip: $(command -v usbip)"; fi
exit 0
