#!/bin/sh
# usbipd keeps serving whatever its peers send (bad_peers.inc: after each
# malformed input the daemon runs, a good `usbip list -r` over IPv4 and
# IPv6 is served, and its descriptors and memory are back where they
# started), plain and with --tls. Runs on the build host (no USB needed:
# the device list is empty) and so also under ASan/UBSan. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

. "$srcdir/tests/daemon/bad_peers.inc"

good_request() {
	"$usbip" $tls_client -t "$port" list -r $host4 | grep -q "no exportable devices found on $host4" &&
		"$usbip" $tls_client -t "$port" list -r ::1 | grep -q "no exportable devices found on ::1"
}

log=$work/usbipd.log tls_client= host4=127.0.0.1
daemon_start "$log" "$usbipd" -t 0 -d
pid=$daemon_pid port=$daemon_port
begin usbipd
run_cases usbipd ""
run_idle ""
logged "idle peers were timed out (10 s)" "no complete request within"
logged "the oldest idle peer was dropped when all slots were taken" "dropping the oldest"
logged "garbage was refused with a reason" "bad request: version"
logged "a TLS client on the plain port was told to use --tls" "start the daemon with --tls"
stop ""

certs_or_bail "$work/pki"
log=$work/usbipd-tls.log tls_client="--tls --ca $work/pki/ca.pem" host4=localhost
daemon_start "$log" "$usbipd" -t 0 -d --tls --cert "$work/pki/server.pem" --key "$work/pki/server.key"
pid=$daemon_pid port=$daemon_port
begin "usbipd --tls"
run_cases tls "--tls, raw: "
run_cases usbipd "--tls, inside TLS: " --tls
stop "--tls: "
finish
