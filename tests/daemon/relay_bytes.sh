#!/bin/sh
# The relays count what they carry: tests/tools/relay_bytes makes the
# shared page as a daemon does, drives a TLS relay (the relay data path)
# and a WebSocket relay against a peer on loopback, and checks the
# counters exactly, by direction, started and ended; the peer's own relay,
# without the page, counts nothing (see there). Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
c=$work/pki
certs_or_bail "$c"
"$builddir/tests/tools/relay_bytes" "$c"
