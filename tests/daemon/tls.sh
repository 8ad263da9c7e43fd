#!/bin/sh
# TLS between usbip and usbipd on the build host, with a PKI made fresh by
# the openssl command line: verification by CA and name, by pinned
# fingerprint, client certificates and allowed subjects, and every kind of
# mismatch (wrong CA, expired, unknown client, plaintext on a TLS port and
# the reverse), each a clear error on both ends. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
c=$work/pki
certs_or_bail "$c"

# start NAME ARGS...: a usbipd in the background on a port the kernel picks,
# logging to $work/NAME.log; sets $port_NAME
start() {
	_name=$1
	shift
	daemon_start "$work/$_name.log" "$usbipd" -t 0 "$@"
	pids="$pids $daemon_pid"
	eval "port_$_name=$daemon_port"
}

start tls --tls --cert "$c/server.pem" --key "$c/server.key"
start plain
start expired --tls --cert "$c/expired.pem" --key "$c/expired.key"
start mutual --tls --cert "$c/server.pem" --key "$c/server.key" --ca "$c/ca.pem"
start subject --tls --cert "$c/server.pem" --key "$c/server.key" --ca "$c/ca.pem" \
	--allow-subject node2 --allow-subject "CN=node3"
p1=$port_tls p2=$port_plain p3=$port_expired p4=$port_mutual p5=$port_subject

list_ok "CA and name (localhost)" --tls --ca "$c/ca.pem" -t $p1 list -r localhost
list_ok "CA and name (127.0.0.1 in the certificate's SAN)" --tls --ca "$c/ca.pem" -t $p1 list -r 127.0.0.1
list_ok "CA and name over IPv6 (::1)" --tls --ca "$c/ca.pem" -t $p1 list -r ::1
list_ok "pinned fingerprint, no CA" --tls --pin "$(cat "$c/server.sha256")" -t $p1 list -r 127.0.0.1
list_fails "wrong pin" "does not match --pin" --tls --pin "$(cat "$c/server.sha256" | tr 0-9 1-90)" \
	-t $p1 list -r 127.0.0.1
list_fails "wrong CA" "certificate" --tls --ca "$c/other-ca.pem" -t $p1 list -r localhost
list_fails "no CA: the system's CAs do not know ours" "certificate" --tls -t $p1 list -r localhost
list_fails "expired server certificate" "certificate has expired" --tls --ca "$c/ca.pem" \
	-t $p3 list -r localhost
list_fails "plain client on a TLS port" "add --tls" -t $p1 list -r 127.0.0.1
daemon_logged "the TLS daemon says why the plain client failed" tls "TLS handshake failed"
list_fails "TLS client on a plain port" "TLS handshake failed" --tls --ca "$c/ca.pem" \
	-t $p2 list -r localhost
daemon_logged "the plain daemon recognizes a TLS client" plain "start the daemon with --tls"
list_fails "client certificate required" "TLS handshake failed" --tls --ca "$c/ca.pem" \
	-t $p4 list -r localhost
list_ok "client certificate accepted" --tls --ca "$c/ca.pem" --cert "$c/client.pem" \
	--key "$c/client.key" -t $p4 list -r localhost
daemon_logged "the daemon logs the client's identity" mutual "peer O=usbip-ng,CN=node1"
list_fails "client certificate of another CA" "TLS handshake failed" --tls --ca "$c/ca.pem" \
	--cert "$c/stranger.pem" --key "$c/stranger.key" -t $p4 list -r localhost
list_fails "subject not allowed" "TLS handshake failed" --tls --ca "$c/ca.pem" --cert "$c/client.pem" \
	--key "$c/client.key" -t $p5 list -r localhost
daemon_logged "the daemon logs the refused subject" subject "is not an allowed subject"
list_fails "a missing key file is one clear line" "key" --tls --ca "$c/ca.pem" \
	--cert "$c/client.pem" --key "$work/nonexistent.key" -t $p4 list -r localhost
! "$usbipd" --tls -t 0 >"$work/nocert.log" 2>&1 && grep -q "needs --cert and --key" "$work/nocert.log"
result "a TLS daemon without a certificate refuses to start" $? "$(cat "$work/nocert.log")"
list_ok "the daemons still serve after all that" --tls --ca "$c/ca.pem" -t $p1 list -r localhost
finish
