#!/bin/sh
# Benchmark case (not a test), run in the guest by bench/pool-scale:
#   one    N virtual devices (serve-mtp --remote, the cheapest exporter:
#          no hardware, one process each) export at once to one usbipa:
#          the time until the last is attached and configured on vhci-hcd,
#          usbipa's RSS and CPU time, refusals (none while ports are free)
#   pool   the same N to three usbipa behind DNS SRV (dnsmasq, equal
#          weights) with --max-imports 40 each: how they spread, and
#          whether any export was lost (a full one answers status 2 and the
#          node goes on to the next at once)
#   failover the same N, now serve-mtp --persist --dead-peer-timeout 5, to
#          three usbipa with --max-imports M = max(40, N/2 rounded up): two
#          hosts must hold all N once one is gone (with 40, 2 x 40 = 80 <
#          100: 20 would find no room whatever the nodes did). The
#          fullest is killed (kill -9, its address silent with nft drop
#          rules, its vhci ports detached as its machine's death would:
#          all usbipa share this guest's vhci-hcd): the time until all N
#          are usable again, on the other two, and how many were lost.
#          It is started again (empty; none moves back to it), then the
#          fullest other one drained (SIGUSR1): the time until all its
#          devices moved, how many were lost, how many attached more than
#          once on the way, and how many went back to it when the drain
#          ended.
# Prints "BENCH key value" lines.
. /tests/lib.sh

N=${VMTEST_BENCH_DEVICES:-100}
net_need dnsmasq
mkdir -p /tmp/scale
mtp_own /tmp/scale

# configured serve-mtp devices (1d6b:0100: on vhci-hcd only), few processes a look
configured() {
    grep -l '^0100$' /sys/bus/usb/devices/*/idProduct 2>/dev/null |
        sed 's#/idProduct$#/bConfigurationValue#' | xargs cat 2>/dev/null | grep -c .
}
# wait_until SECONDS N — until N are configured or SECONDS pass (by the clock:
# a look takes long with 100 devices under TCG)
wait_until() {
    _end=$(($(_hp_cs) + $1 * 100))
    while [ "$(configured)" -lt "$2" ] && [ "$(_hp_cs)" -lt "$_end" ]; do sleep 1; done
}
# the pids of PID's children (no pgrep in the guest)
children() { awk -v p="$1" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null; }
# KB of RSS and centiseconds of CPU of a process and its children
rss_kb() { for _p in "$1" $(children "$1"); do awk '/^VmRSS/ { print $2 }' "/proc/$_p/status"; done | awk '{ s += $1 } END { print s }'; }
cpu_cs() { for _p in "$1" $(children "$1"); do awk '{ print $14 + $15 }' "/proc/$_p/stat"; done | awk '{ s += $1 } END { print s }'; }
exporter_pids() { grep -l '[s]erve-mtp' /proc/[0-9]*/cmdline 2>/dev/null | sed 's#/proc/\([0-9]*\)/cmdline#\1#'; }

exporters_gone() { [ -z "$(exporter_pids)" ]; }
vhci_empty() { [ -z "$(vhci_used_ports)" ]; }

# start_exporters REMOTE PREFIX [OPTIONS] — N serve-mtp in devnode at once
start_exporters() {
    _i=1
    while [ $_i -le "$N" ]; do
        # shellcheck disable=SC2086 # OPTIONS are words
        ip netns exec devnode usbip serve-mtp --dir /tmp/scale --remote "$1" -b "$2-$_i" ${3:-} \
            >"exp-$2-$_i.log" 2>&1 &
        _i=$((_i + 1))
    done
}
stop_exporters() {
    kill $(exporter_pids) 2>/dev/null
    must_wait 120 "the exporters gone" exporters_gone
    must_wait 120 "vhci empty" vhci_empty
}

two_nodes
for a in 3 4 5 6; do must ip netns exec appnode ip addr add 10.99.0.$a/24 dev vapp; done

# --- one usbipa, N devices at once
USBIP_STATUS_DIR=/run/st-one bg_ns appnode one.pid usbipa -a 10.99.0.6 -t 3240 --allow-any >one.log 2>&1
must_wait 10 "usbipa listening" ns_tcp_listening appnode 3240
cpu0=$(cpu_cs "$(cat one.pid)")
t0=$(_hp_cs)
start_exporters 10.99.0.6 8
wait_until 600 "$N"
echo "BENCH one_devices $(configured)"
echo "BENCH one_attached $(grep -c ' attached ' one.log)"
echo "BENCH one_last_usable_s $(_hp_fmt $(($(_hp_cs) - t0)))"
echo "BENCH one_rss_kb $(rss_kb "$(cat one.pid)")"
echo "BENCH one_cpu_s $(_hp_fmt $(($(cpu_cs "$(cat one.pid)") - cpu0)))"
echo "BENCH one_refused $(grep -c 'refused' one.log)"
stop_exporters
kill "$(cat one.pid)"

# --- three usbipa behind SRV, --max-imports 40 each
start_dnsmasq_srv appnode 10.99.0.2 \
    _usbipa._tcp.pool.test,p1.pool.test,3241,10,1 \
    _usbipa._tcp.pool.test,p2.pool.test,3241,10,1 \
    _usbipa._tcp.pool.test,p3.pool.test,3241,10,1 \
    p1.pool.test,10.99.0.3 p2.pool.test,10.99.0.4 p3.pool.test,10.99.0.5
ns_resolver devnode 10.99.0.2
for p in 1 2 3; do
    USBIP_STATUS_DIR=/run/st-p$p bg_ns appnode p$p.pid usbipa -a 10.99.0.$((p + 2)) -t 3241 \
        --allow-any --max-imports 40 >p$p.log 2>&1
done
must_wait 10 "the pool listening" ns_tcp_listening appnode 3241
t0=$(_hp_cs)
start_exporters srv:pool.test 7
wait_until 600 "$N"
echo "BENCH pool_devices $(configured)"
echo "BENCH pool_last_usable_s $(_hp_fmt $(($(_hp_cs) - t0)))"
for p in 1 2 3; do
    echo "BENCH pool_p${p}_attached $(grep -c ' attached ' p$p.log)"
    echo "BENCH pool_p${p}_refused_full $(grep -c 'max-imports reached' p$p.log)"
done
echo "BENCH pool_exports_failed $(grep -L 'took' exp-7-*.log | wc -l)"
stop_exporters
for p in 1 2 3; do kill "$(cat p$p.pid)"; done

# --- failover and drain: --persist exporters, room for N on two hosts
M=$(((N + 1) / 2))
[ "$M" -ge 40 ] || M=40
echo "BENCH failover_max_imports $M"
# a usbipa's status, one line of JSON; what it holds (its own ports only)
status_of() { USBIP_STATUS_DIR=/run/st-$1 usbip status --json 2>/dev/null; }
attached_of() { status_of "$1" | sed 's/.*"attached":\[//; s/\]}\],"imported".*//'; }
imports_of() { status_of "$1" | grep -o '"imports":[0-9]*' | head -1 | cut -d: -f2; }
busids_of() { attached_of "$1" | grep -o '"busid":"[^"]*"' | cut -d'"' -f4; }
ports_of() { attached_of "$1" | grep -o '"port":[0-9]*' | cut -d: -f2; }
# the host of the pool holding the most, of those given
fullest() {
    for _h; do echo "$(imports_of "$_h") $_h"; done | sort -n | tail -1 | cut -d' ' -f2
}
# how many of the busids in FILE the hosts given hold now
held_by() {
    _f=$1
    shift
    for _h; do busids_of "$_h"; done | grep -cxF -f "$_f"
}
others_than() { for _h in f1 f2 f3; do [ $_h = "$1" ] || echo $_h; done; }
# report_moved KEY FILE HOSTS: how many of FILE's busids HOSTS hold, lost, usable
report_moved() {
    # shellcheck disable=SC2086 # HOSTS are words
    _moved=$(held_by "$2" $3)
    echo "BENCH $1_moved $_moved"
    echo "BENCH $1_lost $(($(grep -c . "$2") - _moved))"
    echo "BENCH $1_devices_usable $(configured)"
}
failover_host() { # NAME ADDRESS-SUFFIX
    USBIP_STATUS_DIR=/run/st-$1 bg_ns appnode "$1.pid" usbipa -a "10.99.0.$2" -t 3241 \
        --allow-any --max-imports "$M" >"$1.log" 2>&1
}
for p in 1 2 3; do failover_host f$p $((p + 2)); done
must_wait 10 "the pool listening" ns_tcp_listening appnode 3241
start_exporters srv:pool.test 6 "--persist --dead-peer-timeout 5"
wait_until 600 "$N"
echo "BENCH failover_devices $(configured)"
for p in 1 2 3; do echo "BENCH failover_f${p}_imports $(imports_of f$p)"; done

# kill the fullest: silent, killed, its ports gone
k=$(fullest f1 f2 f3)
ka=$((${k#f} + 2))
busids_of "$k" >killed.busids
ports_of "$k" >killed.ports
nk=$(grep -c . killed.busids)
echo "BENCH killed_host $k"
echo "BENCH killed_devices $nk"
must ip netns exec appnode nft add table inet dead
must ip netns exec appnode nft add chain inet dead in '{ type filter hook input priority 0; }'
must ip netns exec appnode nft add chain inet dead out '{ type filter hook output priority 0; }'
must ip netns exec appnode nft add rule inet dead in ip daddr 10.99.0.$ka drop
must ip netns exec appnode nft add rule inet dead out ip saddr 10.99.0.$ka drop
t0=$(_hp_cs)
kill -9 "$(cat $k.pid)"
while read -r port; do echo "$port" >"$VHCI/detach"; done <killed.ports
wait_until 120 "$N"
echo "BENCH killed_usable_elsewhere_s $(_hp_fmt $(($(_hp_cs) - t0)))"
survivors=$(others_than "$k")
report_moved killed killed.busids "$survivors"
for p in $survivors; do echo "BENCH killed_${p}_imports $(imports_of $p)"; done
echo "BENCH exporters_alive $(exporter_pids | grep -c .)"

# the killed host back, empty: none moves to it (no flapping)
must ip netns exec appnode nft delete table inet dead
mv "$k.log" "$k-killed.log"
failover_host "$k" "$ka"
must_wait 10 "$k listening again" grep -q ' ready' "$k.log"
holds_some() { [ "$(imports_of "$1")" -gt 0 ]; }
# a flap would come within 10 s (0.5 s after a drop, 5 s at most between attempts)
wait_for 10 holds_some "$k"
echo "BENCH restarted_imports_after_10s $(imports_of "$k")"

# drain the fullest of the other two
# shellcheck disable=SC2086
d=$(fullest $survivors)
busids_of "$d" >drained.busids
nd=$(grep -c . drained.busids)
echo "BENCH drained_host $d"
echo "BENCH drained_devices $nd"
before=$(cat f1.log f2.log f3.log | grep -c ' attached ')
t0=$(_hp_cs)
kill -USR1 "$(cat $d.pid)"
drained() { grep -q 'drained: no imports left' "$d.log" && [ "$(configured)" -ge "$N" ]; }
_end=$(($(_hp_cs) + 60000))
until drained || [ "$(_hp_cs)" -gt "$_end" ]; do sleep 1; done
echo "BENCH drain_all_moved_s $(_hp_fmt $(($(_hp_cs) - t0)))"
report_moved drain drained.busids "$(others_than "$d")"
echo "BENCH drain_attaches $(($(cat f1.log f2.log f3.log | grep -c ' attached ') - before))"
# the drain ends: nothing goes back
kill -USR1 "$(cat $d.pid)"
must_wait 10 "$d no longer draining" grep -q 'no longer draining' "$d.log"
wait_for 10 holds_some "$d"
echo "BENCH drain_back_after_end_10s $(imports_of "$d")"
for p in 1 2 3; do echo "BENCH drain_end_f${p}_imports $(imports_of f$p)"; done
stop_exporters
for p in 1 2 3; do kill "$(cat f$p.pid)"; done
