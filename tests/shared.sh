# shared.sh: helpers of the build host's shell suites (tests/lib.sh
# sources this file) and of the guest cases (in the guest /tests/shared.sh,
# sourced by /tests/lib.sh): definitions only, for sh and busybox ash.
# shellcheck shell=sh

# ------------------------------------------------------------------ processes
# listener_pids PORT — the processes holding a socket that listens on TCP PORT
listener_pids() {
    _hex=$(printf '%04X' "$1")
    _inodes=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$_hex" '
        { n = split($2, a, ":"); if (a[n] == p && $4 == "0A") print $10 }')
    [ -n "$_inodes" ] || return 1
    for _fd in /proc/[0-9]*/fd/*; do
        _l=$(readlink "$_fd" 2>/dev/null) || continue
        for _i in $_inodes; do
            [ "$_l" = "socket:[$_i]" ] && { _p=${_fd#/proc/}; echo "${_p%%/*}"; }
        done
    done | sort -u
}

# children PID — its child processes
children() {
    for _s in /proc/[0-9]*/stat; do
        awk -v p="$1" '$4 == p { print $1 }' "$_s" 2>/dev/null
    done
}

# ------------------------------------------------------------------ TLS
# make_certs DIR — a fresh test PKI with the openssl command line:
#   ca.pem/ca.key              the CA
#   server.pem/server.key      CN=localhost, SAN localhost, 127.0.0.1, ::1, 10.99.0.2
#   client.pem/client.key      CN=node1, signed by the CA
#   other-ca.pem, stranger.pem/stranger.key   another CA and a client of it
#   expired.pem/expired.key    a server certificate that expired in 2020
# and server.sha256: the server certificate's SHA-256 fingerprint.
make_certs() {
    _d=$1
    mkdir -p "$_d" || return 1
    (
        cd "$_d" || exit 1
        export OPENSSL_CONF=/dev/null RANDFILE=/dev/null
        _ossl() { openssl "$@" 2>ossl.err || { cat ossl.err >&2; exit 1; }; }
        _ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
            -subj "/CN=usbip-ng test CA" -keyout ca.key -out ca.pem \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign
        _ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
            -subj "/CN=some other CA" -keyout other-ca.key -out other-ca.pem \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,IP:10.99.0.2\n' >server.ext
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        _cert() { # NAME SUBJECT CA EXTFILE DAYS
            _ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" \
                -keyout "$1.key" -out "$1.csr"
            _ossl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial \
                -days "$5" -extfile "$4" -out "$1.pem"
        }
        _cert server /CN=localhost ca server.ext 30
        _cert client /CN=node1/O=usbip-ng ca client.ext 30
        _cert stranger /CN=stranger other-ca client.ext 30
        # Expired: a CA-signed certificate whose validity ended in 2020.
        mkdir -p ca.db && : >ca.db/index && echo 1000 >ca.db/serial
        cat >ca.cnf <<CNF
[ca]
default_ca = testca
[testca]
database = ca.db/index
serial = ca.db/serial
new_certs_dir = ca.db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
copy_extensions = copy
[anything]
commonName = supplied
CNF
        _ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
            -keyout expired.key -out expired.csr -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
        _ossl ca -batch -config ca.cnf -startdate 20200101000000Z -enddate 20200102000000Z \
            -in expired.csr -out expired.pem
        openssl x509 -in server.pem -noout -fingerprint -sha256 | sed 's/.*=//' >server.sha256
    )
}

# make_name_cert DIR NAME [IP...] — in make_certs' DIR, a server certificate
# for the host name NAME (and the IPs), signed by DIR's CA: NAME.pem,
# NAME.key, and NAME.both.pem (certificate then key, as HAProxy takes them)
make_name_cert() {
    _d=$1 _n=$2
    shift 2
    _san=DNS:$_n
    for _ip; do _san=$_san,IP:$_ip; done
    (
        cd "$_d" || exit 1
        export OPENSSL_CONF=/dev/null RANDFILE=/dev/null
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$_san" >"$_n.ext"
        if ! openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$_n" \
            -keyout "$_n.key" -out "$_n.csr" 2>ossl.err ||
            ! openssl x509 -req -in "$_n.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
                -days 30 -extfile "$_n.ext" -out "$_n.pem" 2>>ossl.err; then
            cat ossl.err >&2
            exit 1
        fi
        cat "$_n.pem" "$_n.key" >"$_n.both.pem"
    )
}
