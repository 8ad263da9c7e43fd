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
# expect_ok NAME CLIENT-ARGS...: list -r works
expect_ok() {
	_name=$1
	shift
	_out=$("$usbip" "$@" 2>&1)
	echo "$_out" | grep -q "no exportable devices found"
	result "$_name" $? "$_out"
}
# expect_fail NAME PATTERN CLIENT-ARGS...: fails, one line matching PATTERN
expect_fail() {
	_name=$1 _pat=$2
	shift 2
	_out=$("$usbip" "$@" 2>&1)
	_rc=$?
	[ $_rc -ne 0 ] && echo "$_out" | grep -q "$_pat" && [ "$(echo "$_out" | wc -l)" -eq 1 ]
	result "$_name" $? "exit $_rc: $_out"
}
daemon_logged() { # NAME LOG PATTERN
	grep -q "$3" "$work/$2.log"
	result "$1" $? "$(tail -5 "$work/$2.log")"
}

start tls --tls --cert "$c/server.pem" --key "$c/server.key"
start plain
start expired --tls --cert "$c/expired.pem" --key "$c/expired.key"
start mutual --tls --cert "$c/server.pem" --key "$c/server.key" --ca "$c/ca.pem"
start subject --tls --cert "$c/server.pem" --key "$c/server.key" --ca "$c/ca.pem" \
	--allow-subject node2 --allow-subject "CN=node3"
p1=$port_tls p2=$port_plain p3=$port_expired p4=$port_mutual p5=$port_subject

expect_ok "CA and name (localhost)" --tls --ca "$c/ca.pem" -t $p1 list -r localhost
expect_ok "CA and name (127.0.0.1 in the certificate's SAN)" --tls --ca "$c/ca.pem" -t $p1 list -r 127.0.0.1
expect_ok "CA and name over IPv6 (::1)" --tls --ca "$c/ca.pem" -t $p1 list -r ::1
expect_ok "pinned fingerprint, no CA" --tls --pin "$(cat "$c/server.sha256")" -t $p1 list -r 127.0.0.1
expect_fail "wrong pin" "does not match --pin" --tls --pin "$(cat "$c/server.sha256" | tr 0-9 1-90)" \
	-t $p1 list -r 127.0.0.1
expect_fail "wrong CA" "certificate" --tls --ca "$c/other-ca.pem" -t $p1 list -r localhost
expect_fail "no CA: the system's CAs do not know ours" "certificate" --tls -t $p1 list -r localhost
expect_fail "expired server certificate" "certificate has expired" --tls --ca "$c/ca.pem" \
	-t $p3 list -r localhost
expect_fail "plain client on a TLS port" "add --tls" -t $p1 list -r 127.0.0.1
daemon_logged "the TLS daemon says why the plain client failed" tls "TLS handshake failed"
expect_fail "TLS client on a plain port" "TLS handshake failed" --tls --ca "$c/ca.pem" \
	-t $p2 list -r localhost
daemon_logged "the plain daemon recognizes a TLS client" plain "start the daemon with --tls"
expect_fail "client certificate required" "TLS handshake failed" --tls --ca "$c/ca.pem" \
	-t $p4 list -r localhost
expect_ok "client certificate accepted" --tls --ca "$c/ca.pem" --cert "$c/client.pem" \
	--key "$c/client.key" -t $p4 list -r localhost
daemon_logged "the daemon logs the client's identity" mutual "peer O=usbip-ng,CN=node1"
expect_fail "client certificate of another CA" "TLS handshake failed" --tls --ca "$c/ca.pem" \
	--cert "$c/stranger.pem" --key "$c/stranger.key" -t $p4 list -r localhost
expect_fail "subject not allowed" "TLS handshake failed" --tls --ca "$c/ca.pem" --cert "$c/client.pem" \
	--key "$c/client.key" -t $p5 list -r localhost
daemon_logged "the daemon logs the refused subject" subject "is not an allowed subject"
expect_fail "a missing key file is one clear line" "key" --tls --ca "$c/ca.pem" \
	--cert "$c/client.pem" --key "$work/nonexistent.key" -t $p4 list -r localhost
! "$usbipd" --tls -t 0 >"$work/nocert.log" 2>&1 && grep -q "needs --cert and --key" "$work/nocert.log"
result "a TLS daemon without a certificate refuses to start" $? "$(cat "$work/nocert.log")"
expect_ok "the daemons still serve after all that" --tls --ca "$c/ca.pem" -t $p1 list -r localhost
finish
