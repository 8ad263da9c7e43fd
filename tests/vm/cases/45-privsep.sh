#!/bin/sh
# The network never talks to root (#14): usbipd, usbipa and connect
# --persist, started as root, each read from peers in a process of their
# own that runs as nobody (the guest has no usbip user), with no effective
# capabilities and no_new_privs; usbipd's and usbipa's have an empty
# directory for their root. That process holds the listening socket; the
# parent, still root, does not. Read from /proc. The devices still go
# through: the disk is read back by sha256 in classic and connect mode,
# and over TLS with the relay, which runs unprivileged too.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"

status_of() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # PID KEY

# unprivileged WHAT PID [ROOT]: uid (all four) 65534, no capabilities, no_new_privs, root ROOT
unprivileged() {
    _uids=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$2/status")
    [ "$_uids" = "65534 65534 65534 65534" ] || fail "$1 (pid $2) has uids $_uids"
    [ "$(status_of "$2" CapEff)" = 0000000000000000 ] || fail "$1 has capabilities $(status_of "$2" CapEff)"
    [ "$(status_of "$2" NoNewPrivs)" = 1 ] || fail "$1 lacks no_new_privs"
    if [ -n "${3:-}" ]; then
        _root=$(readlink "/proc/$2/root")
        [ "$_root" = "$3" ] || fail "$1's root is $_root, not $3"
        [ -z "$(ls -A "$3")" ] || fail "$3 is not empty: $(ls -A "$3")"
    fi
    log "$1 (pid $2): uid 65534, CapEff 0, NoNewPrivs 1${3:+, root $3}"
}

# separated NAME PIDFILE PORT: the listener is the daemon's only child, unprivileged; the daemon is root
separated() {
    _parent=$(cat "$2")
    _net=$(listener_pids "$3") || fail "nothing listens on $3"
    [ "$(echo "$_net" | wc -l)" = 1 ] || fail "$1: several processes hold port $3: $_net"
    [ "$_net" != "$_parent" ] || fail "$1: the root process itself holds the listening socket"
    [ "$(children "$_parent")" = "$_net" ] || fail "$1: the listener $_net is not the daemon's child"
    [ "$(awk '$1 == "Uid:" { print $3 }' "/proc/$_parent/status")" = 0 ] || fail "$1's parent is not root"
    unprivileged "$1's network process" "$_net" /run/usbip/empty
}

# Classic mode: usbipd.
must usbip bind -b "$b"
must usbipd -D -t 3290 -P /run/ps-usbipd.pid
must_wait 10 "usbipd listening" tcp_listening 3290
separated usbipd /run/ps-usbipd.pid 3290
must usbip -t 3290 attach -r 127.0.0.1 -b "$b"
vhci_disk_intact "imported from the separated usbipd"
port=$(vhci_port_of "$(usb_busid_vhci 46f4:0001)") || fail "no vhci port"
must usbip detach -p "$port"
must_wait 20 "vhci disk gone" not vhci_disk
kill "$(cat /run/ps-usbipd.pid)"
must_wait 10 "usbipd stopped" not test -e /run/ps-usbipd.pid

# Connect mode: usbipa, and connect --persist's dialer.
must usbipa -D --allow-any -t 3291 -P /run/ps-usbipa.pid
must_wait 10 "usbipa listening" tcp_listening 3291
separated usbipa /run/ps-usbipa.pid 3291
must usbip -t 3291 connect --persist -D -P /run/ps-connect.pid -r 127.0.0.1 -b "$b"
vhci_disk_intact "exported by the separated connect --persist to the separated usbipa"
agent=$(cat /run/ps-connect.pid)
dialer=$(children "$agent")
[ -n "$dialer" ] && [ "$(echo "$dialer" | wc -l)" = 1 ] || fail "connect --persist has no single dialer child: '$dialer'"
[ "$(awk '$1 == "Uid:" { print $3 }' "/proc/$agent/status")" = 0 ] || fail "the agent is not root"
unprivileged "connect --persist's network process" "$dialer"
kill "$agent"
must_wait 20 "vhci disk gone after SIGTERM" not vhci_disk
must_wait 20 "$b back on usb-storage" usb_if_driver_is "$b" usb-storage
kill "$(cat /run/ps-usbipa.pid)"
must_wait 10 "usbipa stopped" not test -e /run/ps-usbipa.pid

# Over TLS with the relay: the handshake and the relay are the dialer's
# (unprivileged) work; the agent gets the relay's socket to hand over.
must make_certs "$PWD/pki"
pki=$PWD/pki
must usbipa -D --allow-any -t 3292 -P /run/ps-usbipa.pid --tls --cert "$pki/server.pem" \
    --key "$pki/server.key" --tls-datapath relay
must_wait 10 "usbipa --tls listening" tcp_listening 3292
separated "usbipa --tls" /run/ps-usbipa.pid 3292
must usbip -t 3292 --tls --ca "$pki/ca.pem" --tls-datapath relay connect --persist -D \
    -P /run/ps-connect.pid -r localhost -b "$b"
vhci_disk_intact "exported over TLS (relay) by the separated connect --persist"
agent=$(cat /run/ps-connect.pid)
dialer=$(children "$agent")
relay=$(children "$dialer")
[ -n "$relay" ] || fail "no relay process under the dialer ($dialer)"
for r in $relay; do unprivileged "connect --persist's relay" "$r"; done
kill "$agent"
must_wait 20 "vhci disk gone after SIGTERM" not vhci_disk
kill "$(cat /run/ps-usbipa.pid)"
must_wait 10 "usbipa stopped" not test -e /run/ps-usbipa.pid
