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

# start_exporters REMOTE PREFIX — N serve-mtp in devnode at once
start_exporters() {
    _i=1
    while [ $_i -le "$N" ]; do
        ip netns exec devnode usbip serve-mtp --dir /tmp/scale --remote "$1" -b "$2-$_i" \
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
