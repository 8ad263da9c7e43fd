#!/bin/sh
# usbip serve-mtp keeps serving whatever its peers send, in the control
# phase and in the URB phase after a real import of its MTP device
# (bad_peers.inc: after each malformed input it runs, `usbip list -r`
# offers the device again, a good client imports it and runs an MTP session
# over it, and its descriptors and memory are back where they started),
# plain and with --tls. On a temporary folder; also under ASan/UBSan.
# Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

. "$srcdir/tests/daemon/bad_peers.inc"

good_request() {
	"$usbip" $tls_client -t "$port" list -r $host4 | grep -q "1-1: " &&
		"$bad_peer" ${tls_client:+--tls} 127.0.0.1 "$port" mtp 1-1
}

mkdir -p "$work/dir/sub" && echo hello >"$work/dir/a.txt" && echo there >"$work/dir/sub/b.txt"
# Writable by the user serve-mtp runs as (checked before it says ready).
chmod -R a+rwX "$work/dir"
log=$work/serve-mtp.log tls_client= host4=127.0.0.1
daemon_start "$log" "$usbip" -d -t 0 serve-mtp --dir "$work/dir"
pid=$daemon_pid port=$daemon_port
begin serve-mtp
run_cases serve-mtp ""
run_idle ""
logged "idle peers were timed out (10 s)" "no complete request within"
logged "garbage was refused with a reason" "bad request: version"
logged "a bad URB header ended the session with the field named" "bad URB header: "
logged "a second import was refused: the device was busy" "import of 1-1 refused: device busy"
stop ""

certs_or_bail "$work/pki"
log=$work/serve-mtp-tls.log tls_client="--tls --ca $work/pki/ca.pem" host4=localhost
daemon_start "$log" "$usbip" -d -t 0 --tls --cert "$work/pki/server.pem" \
	--key "$work/pki/server.key" --tls-datapath relay serve-mtp --dir "$work/dir"
pid=$daemon_pid port=$daemon_port
begin "serve-mtp --tls"
run_cases tls "--tls, raw: "
run_cases serve-mtp "--tls, inside TLS: " --tls
stop "--tls: "
finish
