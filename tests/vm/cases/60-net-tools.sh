#!/bin/sh
# The guest's web proxies and DNS server, as the WebSocket (wss://) and DNS
# SRV cases use them through lib.sh's start_* helpers: nginx and then
# HAProxy on the application node terminate TLS for app.test and pass both
# a plain request and a WebSocket upgrade (101, then bytes both ways) to
# tests/tools/ws_echo, from a device node that may open TCP connections to
# port 443 only; tinyproxy's CONNECT to nginx's 443 works; dnsmasq answers
# SRV and A queries with the priority, weight and port it was given.
. /tests/lib.sh

command -v nft >/dev/null 2>&1 || skip "nft is not in the guest"
command -v openssl >/dev/null 2>&1 || skip "openssl is not in the guest"
net_need nginx haproxy tinyproxy dnsmasq curl ws_echo
t0=$(now_cs)
trap 'net_logs' EXIT

# devnode 10.99.0.1 --veth-- 10.99.0.2 appnode; devnode: nothing in, and out
# only TCP 443 and 3128 (the proxy) and DNS
two_nodes
fw_out_only devnode 443 3128 udp:53
ns_hosts_add devnode 10.99.0.2 app.test
ns_hosts_add appnode 10.99.0.2 app.test
start_ws_echo appnode 10.99.0.2 8080
log "setup: $(since "$t0") s"

# the firewall: the upstream itself is out of reach
mustfail ip netns exec devnode curl -sS -m 10 http://10.99.0.2:8080/usbip
[ "$(fw_out_refused devnode)" -gt 0 ] || fail "the firewall refused nothing"

# check_proxy WHAT — a request and an upgrade through the proxy on 443
check_proxy() {
    _t=$(now_cs)
    body=$(ip netns exec devnode curl -sS -m 20 --cacert pki/ca.pem https://app.test/usbip/plain) ||
        fail "$1: no answer to a request"
    [ "$body" = "ws_echo /usbip/plain" ] || fail "$1: the request came back as '$body'"
    code=$(ip netns exec devnode curl -s -o /dev/null -w '%{http_code}' -m 20 --cacert pki/ca.pem \
        https://app.test/other)
    [ "$code" = 404 ] || fail "$1: /other answered $code, want 404"
    ws_probe devnode /usbip -connect app.test:443 -CAfile pki/ca.pem ||
        fail "$1: no WebSocket upgrade and echo: $(cat ws-probe.out ws-probe.err)"
    grep -q "ws_echo: upgrade /usbip" ws_echo-8080.log || fail "$1: ws_echo saw no upgrade"
    log "$1: request, 404 and WebSocket upgrade + echo through TLS in $(since "$_t") s"
}

start_nginx_ws appnode 443 10.99.0.2:8080 15s
check_proxy nginx

# tinyproxy on appnode:3128, CONNECT to nginx's 443 (by name: tinyproxy
# resolves app.test in appnode)
start_tinyproxy appnode 3128 443
t=$(now_cs)
body=$(ip netns exec devnode curl -sS -m 20 --cacert pki/ca.pem -x http://10.99.0.2:3128 \
    https://app.test/usbip/proxied) || fail "no answer through tinyproxy"
[ "$body" = "ws_echo /usbip/proxied" ] || fail "through tinyproxy the request came back as '$body'"
ws_probe devnode /usbip -connect app.test:443 -proxy 10.99.0.2:3128 -CAfile pki/ca.pem ||
    fail "no WebSocket upgrade through tinyproxy and nginx: $(cat ws-probe.out ws-probe.err)"
grep -q 'CONNECT app.test:443' tinyproxy-3128.log || fail "tinyproxy logged no CONNECT"
mustfail ip netns exec devnode curl -sS -m 10 -x http://10.99.0.2:3128 https://10.99.0.2:8080/
log "tinyproxy: CONNECT to nginx (request and upgrade) in $(since "$t") s; CONNECT to 8080 refused"
net_stop nginx-443 appnode 443

start_haproxy_ws appnode 443 10.99.0.2:8080 15s
check_proxy haproxy
net_stop haproxy-443 appnode 443

# dnsmasq on appnode; devnode asks it
t=$(now_cs)
start_dnsmasq_srv appnode 10.99.0.2 \
    _usbipa._tcp.pool.test,app1.pool.test,3240,10,1 \
    _usbipa._tcp.pool.test,app2.pool.test,3241,20,3 \
    app1.pool.test,10.99.0.2 app2.pool.test,10.99.0.3
ns_resolver devnode 10.99.0.2
ip netns exec devnode nslookup -type=SRV _usbipa._tcp.pool.test >srv.out 2>&1 ||
    fail "no SRV answer: $(cat srv.out)"
cat srv.out
grep -Eq "10 1 3240 app1.pool.test" srv.out || fail "app1's SRV record (10 1 3240) missing"
grep -Eq "20 3 3241 app2.pool.test" srv.out || fail "app2's SRV record (20 3 3241) missing"
ip netns exec devnode nslookup app2.pool.test >a.out 2>&1 || fail "no A answer: $(cat a.out)"
grep -q "10.99.0.3" a.out || fail "app2.pool.test's address missing: $(cat a.out)"
grep -q "query\[SRV\] _usbipa._tcp.pool.test from 10.99.0.1" dnsmasq-appnode.log ||
    fail "dnsmasq logged no SRV query from devnode"
log "dnsmasq: SRV and A answers in $(since "$t") s"

# promtool, when run.sh had VM_PROMTOOL=1: it runs, and it can fail
if command -v promtool >/dev/null 2>&1; then
    printf '# HELP x_total A test.\n# TYPE x_total counter\nx_total 1\n' >good.prom
    printf '# TYPE x_total counter\nx_total{ 1\n' >bad.prom
    must promtool check metrics <good.prom
    mustfail promtool check metrics <bad.prom
else
    log "promtool: not in the guest (run.sh with VM_PROMTOOL=1 adds it)"
fi

trap - EXIT
log "60-net-tools: $(since "$t0") s"
