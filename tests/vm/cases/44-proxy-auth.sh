#!/bin/sh
# The proxy of 43-proxy.sh wants a password (tinyproxy's BasicAuth): none
# and a wrong one are refused (exit 5, one line naming the proxy), the right
# one from a file gets the disk exported and read back by sha256;
# connect --persist started while the proxy is down tries again with
# pauses drawn within a growing window and exports once it is up; classic attach from the device
# node imports the disk from a usbipd through the proxy, and fails without it.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v tinyproxy >/dev/null 2>&1 || skip "tinyproxy is not in the guest (run.sh adds it when the host has it)"
command -v nft >/dev/null 2>&1 || fail "nft is not in the guest"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
dev() { ip netns exec devnode "$@"; }
secs() { awk '{ print int($1) }' /proc/uptime; }

proxy_nodes
must ip netns exec appnode usbipa -D --allow-any -P /run/usbipa.pid
proxy_start "BasicAuth node1 pr0xy-pass"
printf 'node1:pr0xy-pass\n' >auth
printf 'node1:wrong\n' >wrong
chmod 600 auth wrong

# refused NAME PATTERN USBIP-OPTIONS...: connect exits 5 with one line matching PATTERN
refused() {
    _n=$1 _p=$2
    shift 2
    dev usbip "$@" connect -r 10.99.0.2 -b "$b" >"$_n.out" 2>&1
    _rc=$?
    cat "$_n.out"
    [ $_rc -eq 5 ] && grep -q "$_p" "$_n.out" && [ "$(wc -l <"$_n.out")" -eq 1 ] ||
        fail "$_n: exit $_rc, want 5 and one line with '$_p'"
    [ -z "$(vhci_used_ports)" ] || fail "$_n: something got attached"
    usb_if_driver_is "$b" usb-storage || fail "$_n: $b was left off its driver"
}
refused noauth "proxy 10.98.0.2:3128 wants a user and password.*407" --proxy "$px"
refused wrong "proxy 10.98.0.2:3128 refused the credentials of 'node1'" \
    --proxy "$px" --proxy-auth-file wrong
chmod 644 auth
dev usbip --proxy "$px" --proxy-auth-file auth connect -r 10.99.0.2 -b "$b" >loose.out 2>&1
rc=$?
cat loose.out
[ $rc -eq 2 ] && grep -q "others can read or write it" loose.out ||
    fail "a credentials file others can read: exit $rc, want 2"
chmod 600 auth
must dev usbip --proxy "$px" --proxy-auth-file auth connect -r 10.99.0.2 -b "$b"
vhci_disk_intact "connect through the proxy with Basic authorization"
must dev usbip --proxy "$px" --proxy-auth-file auth disconnect -r 10.99.0.2 -b "$b"
must_wait 20 "vhci disk gone" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage

# --persist while the proxy is down: attempts with pauses drawn at random
# within a window that doubles up to 5 s (usbip(8), RETRIES), then the export.
proxy_stop
bg_ns devnode persist.pid usbip --proxy "$px" --proxy-auth-file auth connect --persist \
    -r 10.99.0.2 -b "$b" >persist.log 2>&1
persist=$!
must_wait 20 "two attempts and pauses while the proxy is down" \
    sh -c '[ "$(grep -c "cannot connect to proxy 10.98.0.2 port 3128" persist.log)" -ge 2 ] &&
        [ "$(grep -c "retrying in" persist.log)" -ge 2 ]'
pauses=$(sed -n 's/.*retrying in \([0-9.]*\) s$/\1/p' persist.log)
[ "$(echo "$pauses" | grep -c .)" -ge 2 ] && echo "$pauses" | awk '$1 < 0.1 || $1 > 5 { bad = 1 } END { exit bad }' ||
    fail "no pauses within the window (0.1 to 5 s) between attempts: $(cat persist.log)"
proxy_start "BasicAuth node1 pr0xy-pass"
t0=$(secs)
must_wait 35 "the device exported once the proxy is back" vhci_disk
vhci_disk_intact "--persist through the proxy, once it came back"
log "exported $(($(secs) - t0)) s after the proxy came back"
kill "$(cat persist.pid)"
wait "$persist" || fail "connect --persist ended with $? on SIGTERM"
must_wait 20 "vhci disk gone after SIGTERM" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
cat persist.log

# Classic attach from the device node: usbipd on appnode, the disk bound there.
usbipa=$(cat /run/usbipa.pid)
kill "$usbipa"
must_wait 10 "usbipa gone" not kill -0 "$usbipa"
must ip netns exec appnode usbipd -D -P /run/usbipd.pid
must usbip bind -b "$b"
dev usbip attach -r 10.99.0.2 -b "$b" >attach-direct.out 2>&1
rc=$?
cat attach-direct.out
[ $rc -eq 4 ] && grep -q "Connection refused" attach-direct.out ||
    fail "classic attach without the proxy: exit $rc, want 4 and the firewall's refusal"
must dev usbip --proxy "$px" --proxy-auth-file auth attach -r 10.99.0.2 -b "$b"
vhci_disk_intact "classic attach through the proxy"
must usbip detach --all
must_wait 20 "vhci disk gone" not vhci_disk
must usbip unbind -b "$b"
kill "$(cat /run/usbipd.pid)"
proxy_stop
