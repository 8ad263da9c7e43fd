#!/bin/sh
# A pool of usbipa found through DNS SRV (dnsmasq), capacity and draining:
#   weights 1:3 within one priority give roughly 1:3 of the first tries;
#   the priority-10 host gets everything while it has room, and a full one
#   (--max-imports) answers status 2, the node going on at once;
#   a drained host (SIGUSR1) moves its device to the other, which keeps it
#   when the drain ends (no flapping), and a device whose connection drops
#   while its host lives goes back there, not where the priority says;
#   a host that dies (killed, its address silent) has its device usable on
#   the other within 30 s.
. /tests/lib.sh

[ -n "${VMTEST_DISK_SHA256:-}" ] || skip "no test disk"
command -v nft >/dev/null 2>&1 || skip "nft is not in the guest"
net_need dnsmasq
mtp_need_tools
b=$(usb_busid_local "$QEMU_STORAGE_ID") || fail "no usb-storage device"
trap 'rc=$?; [ $rc = 0 ] || { net_logs; for f in a1 a2 w1 w3 connect m1 m2; do [ -s $f.log ] && { echo "--- $f.log"; tail -n 25 $f.log; }; done; }' EXIT

# devnode 10.99.0.1 (nothing in); appnode: DNS on .2, hosts a1 .3 and a2 .4
two_nodes
must ip netns exec appnode ip addr add 10.99.0.3/24 dev vapp
must ip netns exec appnode ip addr add 10.99.0.4/24 dev vapp
start_dnsmasq_srv appnode 10.99.0.2 \
    _usbipa._tcp.wt.test,w1.pool.test,3243,10,1 \
    _usbipa._tcp.wt.test,w3.pool.test,3244,10,3 \
    w1.pool.test,10.99.0.2 w3.pool.test,10.99.0.2 \
    _usbipa._tcp.prio.test,a1.pool.test,3241,10,1 \
    _usbipa._tcp.prio.test,a2.pool.test,3242,20,1 \
    a1.pool.test,10.99.0.3 a2.pool.test,10.99.0.4 \
    _usbip._tcp.list.test,a1.pool.test,3250,10,1 \
    _usbip._tcp.list.test,d.pool.test,3240,20,1 d.pool.test,10.99.0.2
ns_resolver devnode 10.99.0.2
mtp_make_tree /tmp/mtpdir

# usbipa NAME ADDR PORT ARGS... — a usbipa in appnode, logging to NAME.log,
# its status socket in /run/st-NAME
usbipa_at() {
    _n=$1 _a=$2 _p=$3
    shift 3
    USBIP_STATUS_DIR=/run/st-$_n bg_ns appnode "$_n.pid" usbipa -a "$_a" -t "$_p" "$@" >"$_n.log" 2>&1
    must_wait 10 "$_n listening" ns_tcp_listening appnode "$_p"
}
attached_count() { grep -c "attached $2 " "$1.log"; }
# for wait_for, which runs its command again (a $(...) in its arguments would not be)
attached_count_is() { [ "$(attached_count "$1" "$2")" -eq "$3" ]; }
attached_count_over() { [ "$(attached_count "$1" "$2")" -gt "$3" ]; }
vhci_used_count_is() { [ "$(vhci_used_ports | wc -l)" -eq "$1" ]; }

# --- weights: two usbipa that refuse everything; the first one tried is the draw
usbipa_at w1 10.99.0.2 3243
usbipa_at w3 10.99.0.2 3244
first1=0 runs=60 i=0
while [ $i -lt $runs ]; do
    ip netns exec devnode usbip serve-mtp --dir /tmp/mtpdir --remote srv:wt.test -b 9-9 \
        >wt.out 2>&1 && fail "an export was taken by a usbipa that allows nothing"
    first=$(grep -m1 -o ':324[34]: refused' wt.out) || fail "no refusal: $(cat wt.out)"
    grep -q ':3243: refused' wt.out && grep -q ':3244: refused' wt.out ||
        fail "not both targets tried: $(cat wt.out)"
    case $first in *3243*) first1=$((first1 + 1)) ;; esac
    i=$((i + 1))
done
log "weights 1:3: weight 1 tried first $first1 of $runs times (expect about $((runs / 4)))"
# binomial(60, 1/4): 6..24 holds with 99 %; an even draw (30) is outside
[ "$first1" -ge 6 ] && [ "$first1" -le 24 ] || fail "weights 1:3 gave $first1 of $runs first"
kill "$(cat w1.pid)" "$(cat w3.pid)"

# no such service: one line, no export
ip netns exec devnode usbip serve-mtp --dir /tmp/mtpdir --remote srv:none.test -b 9-9 >none.out 2>&1 &&
    fail "an export to a name without SRV records succeeded"
[ "$(grep -c 'SRV' none.out)" -eq 1 ] || fail "not one line for no records: $(cat none.out)"

# list: _usbip._tcp, the first target (nothing listens there) refuses, the next answers
must ip netns exec appnode usbipd -D -P /run/usbipd-srv.pid -a 10.99.0.2
must_wait 10 "usbipd listening" ns_tcp_listening appnode 3240
must ip netns exec devnode usbip list -r srv:list.test
kill "$(cat /run/usbipd-srv.pid)"

# --- priority and capacity: a1 (priority 10, room for 2) before a2 (priority 20)
usbipa_at a1 10.99.0.3 3241 --allow-any --max-imports 2
usbipa_at a2 10.99.0.4 3242 --allow-any
bg_ns devnode connect.pid usbip connect --persist --dead-peer-timeout 5 -r srv:prio.test -b "$b" \
    >connect.log 2>&1
vhci_disk_intact "exported through srv:prio.test"
[ "$(attached_count a1 "$b")" -eq 1 ] || fail "the disk did not go to a1 (priority 10)"
bg_ns devnode m1.pid usbip serve-mtp --dir /tmp/mtpdir --remote srv:prio.test -b 9-1 >m1.log 2>&1
must_wait 30 "9-1 on a1" grep -q "attached 9-1 " a1.log
t=$(now_cs)
bg_ns devnode m2.pid usbip serve-mtp --dir /tmp/mtpdir --remote srv:prio.test -b 9-2 --persist \
    >m2.log 2>&1
must_wait 30 "9-2 on a2" grep -q "attached 9-2 " a2.log
log "a full a1 (status 2): 9-2 on a2 in $(since "$t") s"
grep -q "refused 9-2 .*--max-imports reached" a1.log || fail "a1 did not refuse 9-2 as full"
grep -q "no free virtual port" m2.log || fail "the node did not hear status 2"
grep -q "retrying" m2.log && fail "the node waited its backoff after status 2"
[ "$(grep -c " attached " a2.log)" -eq 1 ] || fail "a2 took more than the one a1 had no room for"

# --- no flapping: a1 has room again, and 9-2's connection drops while a2
# lives (its port detached on the application side): 9-2 goes back to a2,
# where it was, not to a1 that SRV's priority would choose
kill "$(cat m1.pid)"
must_wait 30 "9-1 gone" vhci_used_count_is 2
port=$(grep -l " 9-2\$" /var/run/vhci_hcd/port* | sed 's#.*/port##') || fail "no record of 9-2's port"
t=$(now_cs)
must usbip detach -p "$port"
must_wait 30 "9-2 back on a2" attached_count_is a2 9-2 2
log "9-2 dropped while a2 lived: back on a2 in $(since "$t") s"
grep -q "attached 9-2 " a1.log && fail "9-2 moved to a1 when its connection dropped (flapping)"
kill "$(cat m2.pid)"
# (in one kernel each usbipa sees the other's ports: either may detach a withdrawn one)
must_wait 30 "the MTP devices gone" vhci_used_count_is 1

# --- drain a1: the disk moves to a2, none lost
t=$(now_cs)
must kill -USR1 "$(cat a1.pid)"
must_wait 40 "the disk on a2" grep -q "attached $b " a2.log
vhci_disk_intact "moved off the drained a1"
log "drain: the disk on a2 and read back in $(since "$t") s"
must_wait 10 "a1 drained" grep -q "drained: no imports left" a1.log
USBIP_STATUS_DIR=/run/st-a1 usbip status --json >st-a1.json
grep -q '"draining": *"yes"' st-a1.json || fail "usbip status does not say draining: $(cat st-a1.json)"
grep -q '"imports": *0' st-a1.json || fail "usbip status says imports left: $(cat st-a1.json)"
grep -q "draining: detached $b " a1.log || fail "a1 did not say what it moved"

# the drain ends: the disk stays on a2 while a2 lives (no flapping)
must kill -USR1 "$(cat a1.pid)"
must_wait 10 "a1 taking exports again" grep -q "no longer draining" a1.log
if wait_for 5 attached_count_over a1 "$b" 1; then fail "the disk moved back to a1"; fi

# --- a2 dies: killed, its address silent, its vhci port gone with it
old=$(vhci_used_ports)
must ip netns exec appnode nft add table inet dead
must ip netns exec appnode nft add chain inet dead in '{ type filter hook input priority 0; }'
must ip netns exec appnode nft add chain inet dead out '{ type filter hook output priority 0; }'
must ip netns exec appnode nft add rule inet dead in ip daddr 10.99.0.4 drop
must ip netns exec appnode nft add rule inet dead out ip saddr 10.99.0.4 drop
t=$(now_cs)
kill -9 "$(cat a2.pid)"
echo "$old" >"$VHCI/detach"
must_wait 30 "the disk back on a1" attached_count_is a1 "$b" 2
vhci_disk_intact "after a2 died"
log "a2 died: the disk usable on a1 after $(since "$t") s"
kill "$(cat connect.pid)" "$(cat a1.pid)"
vhci_empty() { [ -z "$(vhci_used_ports)" ]; }
must_wait 20 "vhci ports free" vhci_empty
