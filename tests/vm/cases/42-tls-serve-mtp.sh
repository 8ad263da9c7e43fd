#!/bin/sh
# serve-mtp over TLS: imported with our usbip attach over kernel TLS (vhci
# gets the socket, serve-mtp reads the kernel's plaintext) and over the
# relay (serve-mtp decrypts in user space with TLS 1.3); libmtp's tools
# then list, get, send, rename and delete through it.
. /tests/lib.sh
mtp_need_tools
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT
for m in tls gcm ctr ghash-generic; do must modprobe $m; done
modprobe aesni-intel 2>/dev/null || true
pki=$PWD/pki
must make_certs "$pki"

for path in ktls relay; do
    rm -rf /tmp/mtpdir
    mtp_make_tree /tmp/mtpdir
    echo "+ usbip --tls serve-mtp --dir /tmp/mtpdir ($path)"
    usbip --debug --tls --cert "$pki/server.pem" --key "$pki/server.key" --tls-datapath $path \
        --tcp-port 3240 serve-mtp --dir /tmp/mtpdir >serve-mtp.log 2>&1 &
    pid=$!
    must_wait 10 "serve-mtp listening" tcp_listening 3240
    must usbip --tls --ca "$pki/ca.pem" --tls-datapath $path list -r localhost
    must usbip --tls --ca "$pki/ca.pem" --tls-datapath $path attach -r localhost -b 1-1
    mtp_wait_device
    mtp_scenario /tmp/mtpdir || fail "scenario over TLS ($path)"
    grep -q "data path: $( [ $path = ktls ] && echo kernel || echo relay)" serve-mtp.log ||
        fail "serve-mtp did not use the $path data path: $(grep 'data path' serve-mtp.log)"
    must usbip detach --all
    kill $pid
    wait $pid
    log "serve-mtp over TLS ($path): all scenarios passed"
done
# A plain client is turned away by the TLS listener, with a reason.
usbip --tls --cert "$pki/server.pem" --key "$pki/server.key" -t 3240 serve-mtp --dir /tmp/mtpdir >serve2.log 2>&1 &
pid=$!
must_wait 10 "serve-mtp listening" tcp_listening 3240
usbip list -r 127.0.0.1 >plain.out 2>&1 && fail "a plain client listed a TLS serve-mtp"
cat plain.out
kill $pid
