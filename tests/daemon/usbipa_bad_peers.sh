#!/bin/sh
# usbipa keeps serving whatever its peers send (bad_peers.inc: after each
# malformed input the daemon runs, a well-formed OP_REQ_EXPORT and
# OP_REQ_UNEXPORT get proper replies, refusals here: the build host has no
# vhci-hcd, and its descriptors and memory are back where they started),
# plain and with --tls. Runs on the build host and so also under
# ASan/UBSan. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

. "$srcdir/tests/daemon/bad_peers.inc"

good_request() {
	"$bad_peer" $tls_client 127.0.0.1 "$port" export && "$bad_peer" $tls_client ::1 "$port" unexport
}

log=$work/usbipa.log tls_client=
daemon_start "$log" "$usbipa" -t 0 -d --allow-any
pid=$daemon_pid port=$daemon_port
begin usbipa
run_cases usbipa ""
run_idle ""
logged "idle peers were timed out (10 s)" "no complete request within"
logged "the oldest idle peer was dropped when all slots were taken" "dropping the oldest"
logged "garbage was refused with a reason" "bad request: version"
logged "a bad export request was refused with the field named" "bad export request: busid"
stop ""

certs_or_bail "$work/pki"
log=$work/usbipa-tls.log tls_client=--tls
daemon_start "$log" "$usbipa" -t 0 -d --allow-any --tls --cert "$work/pki/server.pem" --key "$work/pki/server.key"
pid=$daemon_pid port=$daemon_port
begin "usbipa --tls"
run_cases tls "--tls, raw: "
run_cases usbipa "--tls, inside TLS: " --tls
stop "--tls: "
finish
