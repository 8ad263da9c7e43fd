#!/bin/sh
# The TLS relay holds no private key and nothing of another connection's
# session: tests/tools/relay_key forks a process of libusbip that loads an
# EC P-256 and an RSA identity, makes other TLS connections, relays one,
# and searches the relay's memory for either key, the other connections'
# session secrets and the session ticket keys (see there).
# The keys are made here with the openssl command line, as a user's are.
# Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
c=$work/pki
certs_or_bail "$c"
# The usbip process's identities, signed by the test CA for localhost (so
# that a peer verifies them as a server's and as a client's certificate).
if ! (
	cd "$c" && export OPENSSL_CONF=/dev/null RANDFILE=/dev/null &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
			-keyout lib-ec.key -out lib-ec.csr &&
		openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
			-keyout lib-rsa.key -out lib-rsa.csr &&
		for k in lib-ec lib-rsa; do
			openssl x509 -req -in $k.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
				-days 30 -extfile server.ext -out $k.pem || exit 1
		done
) >"$work/openssl.log" 2>&1; then
	echo "Bail out! cannot make the test keys: $(tr '\n' ' ' <"$work/openssl.log")"
	exit 1
fi
"$builddir/tests/tools/relay_key" "$c"
