#!/bin/sh
# usbipa keeps serving whatever its peers send: after each kind of bad peer
# the daemon must be alive and answer a well-formed OP_REQ_EXPORT with a
# proper OP_REP_EXPORT (a refusal here: the build host has no vhci-hcd).
# Runs on the build host and so also under ASan/UBSan. Prints TAP.
set -u
builddir=${top_builddir:-.}
bad_peer=$builddir/tests/tools/bad_peer
log=$(mktemp)
pid=
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT

good_request() {
	"$bad_peer" 127.0.0.1 "$port" export && "$bad_peer" ::1 "$port" unexport
}

. "${top_srcdir:-.}/tests/daemon/lib.sh"
daemon_start "$log" "$builddir/src/usbipa" -t 0 -d
pid=$daemon_pid port=$daemon_port
. "${top_srcdir:-.}/tests/daemon/bad_peers.inc"
run_bad_peers
