#!/bin/sh
# WebSocket (net/ws.c) between usbip and usbipd on the build host: ws:// and
# wss:// (the outer TLS alone, and with --tls inside and client
# certificates), the ping that keeps an idle connection through a proxy
# that cuts idle ones, a peer that stops answering pings, and the bad
# WebSocket peers of both sides (tests/tools/ws_peer): one line, the
# connection closed, the daemon still serving. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
ws_peer=$builddir/tests/tools/ws_peer
ws_hold=$builddir/tests/tools/ws_hold
c=$work/pki
certs_or_bail "$c"

# start NAME ARGS...: a usbipd on a port the kernel picks; sets $port_NAME
start() {
	_name=$1
	shift
	daemon_start "$work/$_name.log" "$usbipd" -a 127.0.0.1 -t 0 "$@"
	pids="$pids $daemon_pid"
	eval "port_$_name=$daemon_port"
}
# background NAME CMD...: CMD in the background, its output in $work/NAME.out,
# until it says "ready PORT"; sets $port_NAME
background() {
	_name=$1
	shift
	"$@" >"$work/$_name.out" 2>&1 &
	pids="$pids $!"
	started $! "$_name" "$work/$_name.out" grep -q "^ready" "$work/$_name.out"
	eval "port_$_name=$(sed -n 's/^ready //p' "$work/$_name.out")"
}

start ws --ws --ws-ping 1
start quiet --ws
start wss --wss --cert "$c/server.pem" --key "$c/server.key"
start inner --wss --wss-cert "$c/server.pem" --wss-key "$c/server.key" \
	--tls --cert "$c/server.pem" --key "$c/server.key" --ca "$c/ca.pem" --allow-subject node1
w=$port_ws
# --listen alone: the daemon listens there only.
daemon_start "$work/listen.log" "$usbipd" --listen "ws://127.0.0.1:0/custom"
pids="$pids $daemon_pid" port_listen=$daemon_port
daemon_start "$work/listen_wss.log" "$usbipd" --listen "wss://127.0.0.1:0" \
	--cert "$c/server.pem" --key "$c/server.key"
pids="$pids $daemon_pid" port_listen_wss=$daemon_port

list_ok "list -r ws://127.0.0.1:PORT/usbip" list -r "ws://127.0.0.1:$w/usbip"
list_ok "ws:// without a path: /usbip" list -r "ws://127.0.0.1:$w"
list_fails "an upgrade on another path: one line" "answered 'HTTP/1.1 404" \
	list -r "ws://127.0.0.1:$w/other"
daemon_logged "the daemon says which path was refused" ws "upgrade refused (404): upgrade on path /other"
list_ok "--listen ws://127.0.0.1:0/custom: on its path" list -r "ws://127.0.0.1:$port_listen/custom"
list_fails "--listen ws://...: not on /usbip" "answered 'HTTP/1.1 404" \
	list -r "ws://127.0.0.1:$port_listen/usbip"
list_ok "--listen wss://127.0.0.1:0" --ca "$c/ca.pem" list -r "wss://localhost:$port_listen_wss"
list_ok "wss:// with --ca (no --tls: the certificate options are the outer TLS's)" \
	--ca "$c/ca.pem" list -r "wss://localhost:$port_wss/usbip"
list_fails "wss:// with another CA: one line" "certificate" \
	--ca "$c/other-ca.pem" list -r "wss://localhost:$port_wss/usbip"
list_fails "plain ws:// on a wss:// port" "no answer to the WebSocket upgrade\|without a reply\|closed" \
	list -r "ws://127.0.0.1:$port_wss/usbip"
list_ok "wss:// outside, --tls with a client certificate inside" --wss-ca "$c/ca.pem" \
	--tls --ca "$c/ca.pem" --cert "$c/client.pem" --key "$c/client.key" \
	list -r "wss://localhost:$port_inner/usbip"
daemon_logged "the inner TLS names the client" inner "peer O=usbip-ng,CN=node1"
list_fails "inside, a subject not allowed" "TLS handshake failed" --wss-ca "$c/ca.pem" \
	--tls --ca "$c/ca.pem" --cert "$c/stranger.pem" --key "$c/stranger.key" \
	list -r "wss://localhost:$port_inner/usbip"

# serve-mtp on a ws:// listener: its virtual device in the list.
mkdir "$work/mtp"
daemon_start "$work/mtp.log" "$usbip" serve-mtp --listen "ws://127.0.0.1:0/mtp" --dir "$work/mtp::ro"
pids="$pids $daemon_pid"
out=$("$usbip" list -r "ws://127.0.0.1:$daemon_port/mtp" 2>&1)
echo "$out" | grep -q "1-1: .*PTP Gadget"
result "serve-mtp --listen ws://: list -r shows its device" $? "$out"

# A proxy that cuts connections idle for 2.5 s (a reverse proxy's read timeout).
# The daemon pings every 20 s: what keeps it alive here is the client's ping.
background cut "$ws_peer" idle-proxy "$port_quiet" 2500
out=$("$ws_hold" "ws://127.0.0.1:$port_cut/usbip" 6 1 2>&1)
result "idle 6 s through it, pinging every second: still there" $? "$out"
! out=$("$ws_hold" "ws://127.0.0.1:$port_cut/usbip" 6 10 2>&1)
result "idle 6 s through it, pinging every 10 s: cut (the check can fail)" $? "$out"

# Bad clients of the daemon: each closed at once (no-pong within 2 pings), one line each.
for m in text unmasked big-ping frag-ping wrong-path huge-header no-pong; do
	out=$("$ws_peer" client "$w" /usbip $m 2>&1)
	ms=$(echo "$out" | sed -n 's/^closed after \([0-9]*\) ms$/\1/p')
	[ -n "$ms" ] && [ "$ms" -lt 4000 ]
	result "bad client ($m): the daemon closed it (${ms:-never} ms)" $? "$out"
done
# One that never sends its upgrade: closed once the upgrade's 5 s are over.
out=$("$ws_peer" client "$w" /usbip silent 2>&1)
ms=$(echo "$out" | sed -n 's/^closed after \([0-9]*\) ms$/\1/p')
[ -n "$ms" ] && [ "$ms" -ge 4500 ] && [ "$ms" -lt 9000 ]
result "a client that never sends the upgrade: closed after 5 s (${ms:-never} ms)" $? "$out"
daemon_logged "... in one line" ws "no WebSocket upgrade: Connection timed out"
daemon_logged "text frame: one line" ws "a text frame (USB/IP is binary)"
daemon_logged "bad frames: one line" ws "WebSocket protocol error from the peer"
daemon_logged "a header over 8 KiB: one line" ws "header longer than 8 KiB"
daemon_logged "a peer that answers no ping: dropped after 2 s" ws "no answer to pings for 2 s"
list_ok "the daemon still serves after all that" list -r "ws://127.0.0.1:$w/usbip"

# Bad servers: the client says one line and fails.
for m in bad-accept:"wrong Sec-WebSocket-Accept" text:"closed" no-pong:"closed" \
	silent:"no answer to the WebSocket upgrade: Connection timed out"; do
	mode=${m%%:*}
	var=$(echo "$mode" | tr - _)
	background "srv_$var" "$ws_peer" server "$mode"
	eval "sp=\$port_srv_$var"
	list_fails "a server with $m" "${m#*:}" --ws-ping 1 list -r "ws://127.0.0.1:$sp/usbip"
done
finish
