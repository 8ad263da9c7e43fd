#!/bin/sh
# HTTP CONNECT proxies on the build host: usbip list -r to our usbipd
# through Debian's tinyproxy, with and without Basic authentication (right
# and wrong credentials, on the command line, from a file), https_proxy and
# HTTPS_PROXY, no_proxy and --no-proxy, TLS through the tunnel, and every
# failure a clear line with its exit status: the proxy down, refusing the
# port (403), unable to reach the server (500), a peer that is no proxy,
# one that never answers. Prints TAP; skips when tinyproxy is missing.
. "${top_srcdir:-.}/tests/lib.sh"
if ! command -v tinyproxy >/dev/null; then
	skip_all "tinyproxy is not installed (Debian: tinyproxy)"
fi
# The tests decide which proxy the environment names.
unset https_proxy HTTPS_PROXY http_proxy all_proxy ALL_PROXY no_proxy NO_PROXY
c=$work/pki
certs_or_bail "$c"

# A free port: tinyproxy cannot listen on port 0, so a usbipd on port 0
# finds one and gives it back; a port taken meanwhile makes start_proxy try again.
# (A log of its own each time: daemon_start must not read an old one's port.)
free_port() {
	_log=$(mktemp "$work/free.XXXXXX")
	daemon_start "$_log" "$usbipd" -a 127.0.0.1 -t 0
	kill "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	echo "$daemon_port"
}

# start_proxy NAME CONFIG-LINES: tinyproxy on 127.0.0.1 in the foreground,
# logging to $work/NAME.log; sets $port_NAME and $pid_NAME. CONNECT is
# allowed to the ports in $connect_ports only (tinyproxy's own default
# config allows 443 and 563: a real proxy is that narrow).
start_proxy() {
	_name=$1 _extra=$2 _try=0
	while :; do
		_port=$(free_port)
		{
			echo "Port $_port"
			echo "Listen 127.0.0.1"
			echo "Timeout 30"
			echo "LogLevel Info"
			echo "MaxClients 20"
			for _p in $connect_ports; do echo "ConnectPort $_p"; done
			[ -z "$_extra" ] || printf '%s\n' "$_extra"
		} >"$work/$_name.conf"
		tinyproxy -d -c "$work/$_name.conf" >"$work/$_name.log" 2>&1 &
		_pid=$!
		_i=0
		while kill -0 $_pid 2>/dev/null && ! grep -q "Accepting connections" "$work/$_name.log" &&
			[ $_i -lt 50 ]; do
			_i=$((_i + 1))
			sleep 0.1
		done
		if grep -q "Accepting connections" "$work/$_name.log"; then
			break
		fi
		kill $_pid 2>/dev/null
		_try=$((_try + 1))
		if [ $_try -ge 5 ]; then
			echo "Bail out! tinyproxy did not start: $(tr '\n' ' ' <"$work/$_name.log")"
			exit 1
		fi
	done
	pids="$pids $_pid"
	eval "port_$_name=$_port pid_$_name=$_pid"
}

# start NAME ARGS...: a usbipd on a port the kernel picks; sets $port_NAME
start() {
	_name=$1
	shift
	daemon_start "$work/$_name.log" "$usbipd" -a 127.0.0.1 -t 0 "$@"
	pids="$pids $daemon_pid"
	eval "port_$_name=$daemon_port pid_$_name=$daemon_pid"
}

# tunnels NAME: how many tunnels the proxy NAME has opened so far
tunnels() {
	grep -c "Established connection to host" "$work/$1.log"
}

# expect_ok NAME [VAR=VALUE...] -- CLIENT-ARGS...: list -r works
expect_ok() {
	_name=$1
	shift
	_env=""
	while [ "$1" != "--" ]; do
		_env="$_env $1"
		shift
	done
	shift
	# shellcheck disable=SC2086
	_out=$(env $_env "$usbip" "$@" 2>&1)
	echo "$_out" | grep -q "no exportable devices found"
	result "$_name" $? "$_out"
}

# expect_fail NAME STATUS PATTERN [VAR=VALUE...] -- CLIENT-ARGS...: exits STATUS, one line
expect_fail() {
	_name=$1 _want=$2 _pat=$3
	shift 3
	_env=""
	while [ "$1" != "--" ]; do
		_env="$_env $1"
		shift
	done
	shift
	# shellcheck disable=SC2086
	_out=$(env $_env "$usbip" "$@" 2>&1)
	_rc=$?
	[ $_rc -eq "$_want" ] && echo "$_out" | grep -q "$_pat" && [ "$(echo "$_out" | wc -l)" -eq 1 ]
	result "$_name" $? "exit $_rc (want $_want): $_out"
}

start plain
start tls --tls --cert "$c/server.pem" --key "$c/server.key"
start ws --ws
start wss --wss --cert "$c/server.pem" --key "$c/server.key"
u=$port_plain ut=$port_tls
connect_ports="$u $ut $port_ws $port_wss"
start_proxy open ""
start_proxy auth "BasicAuth alice w0nder.land"
px=http://127.0.0.1:$port_open pa=127.0.0.1:$port_auth
dead=$(free_port)

# Through the proxy, and it was the proxy that connected.
before=$(tunnels open)
expect_ok "list -r through --proxy" -- --proxy "$px" -t "$u" list -r 127.0.0.1
[ "$(tunnels open)" -eq $((before + 1)) ]
result "the proxy opened the tunnel to usbipd" $? "$(tail -5 "$work/open.log")"
grep -q "CONNECT.*Connect (file descriptor [0-9]*): .*127.0.0.1" "$work/open.log" ||
	grep -q "Established connection to host \"127.0.0.1\"" "$work/open.log"
result "tinyproxy logged the CONNECT" $? "$(tail -5 "$work/open.log")"
expect_ok "list -r through --proxy to localhost (name sent to the proxy)" -- \
	--proxy "$px" -t "$u" list -r localhost
expect_ok "TLS through the tunnel, the certificate checked against the name" -- \
	--tls --ca "$c/ca.pem" --proxy "$px" -t "$ut" list -r localhost
# WebSocket: CONNECT, then the upgrade (and the outer TLS for wss://) inside the tunnel.
expect_ok "ws:// through --proxy" -- --proxy "$px" list -r "ws://127.0.0.1:$port_ws/usbip"
expect_ok "wss:// through --proxy" -- --ca "$c/ca.pem" --proxy "$px" \
	list -r "wss://localhost:$port_wss/usbip"

# What a proxy can say no with.
expect_fail "a port the proxy does not allow: 403, exit 5" 5 \
	"proxy 127.0.0.1:$port_open refused CONNECT 127.0.0.1:$dead: 403" -- \
	--proxy "$px" -t "$dead" list -r 127.0.0.1
connect_ports="$dead"
start_proxy far ""
expect_fail "the proxy cannot reach the server: 500, exit 4" 4 \
	"proxy 127.0.0.1:$port_far could not reach 127.0.0.1:$dead: 500" -- \
	--proxy "http://127.0.0.1:$port_far" -t "$dead" list -r 127.0.0.1

# Authentication.
printf 'alice:w0nder.land\n' >"$work/auth"
chmod 600 "$work/auth"
printf 'alice:wrong\n' >"$work/wrong"
chmod 600 "$work/wrong"
expect_ok "Basic authorization from --proxy-auth-file" -- \
	--proxy "http://$pa" --proxy-auth-file "$work/auth" -t "$u" list -r 127.0.0.1
expect_ok "Basic authorization from the URL (percent-encoded)" -- \
	--proxy "http://alice:w0nder%2Eland@$pa" -t "$u" list -r 127.0.0.1
expect_fail "no credentials: exit 5, says what the proxy wants" 5 \
	"proxy $pa wants a user and password .*407 Proxy Authentication Required" -- \
	--proxy "http://$pa" -t "$u" list -r 127.0.0.1
expect_fail "wrong credentials: exit 5" 5 "proxy $pa refused the credentials of 'alice'" -- \
	--proxy "http://$pa" --proxy-auth-file "$work/wrong" -t "$u" list -r 127.0.0.1
expect_fail "wrong credentials in the URL: exit 5" 5 "refused the credentials of 'alice'" -- \
	--proxy "http://alice:nope@$pa" -t "$u" list -r 127.0.0.1
chmod 644 "$work/auth"
expect_fail "a credentials file others can read is refused: exit 2" 2 \
	"others can read or write it" -- \
	--proxy "http://$pa" --proxy-auth-file "$work/auth" -t "$u" list -r 127.0.0.1
chmod 600 "$work/auth"
expect_ok "https_proxy with the credentials file" "https_proxy=http://$pa" -- \
	--proxy-auth-file "$work/auth" -t "$u" list -r 127.0.0.1

# The environment, as curl reads it.
before=$(tunnels open)
expect_ok "https_proxy" "https_proxy=$px" -- -t "$u" list -r 127.0.0.1
expect_ok "HTTPS_PROXY" "HTTPS_PROXY=$px" -- -t "$u" list -r 127.0.0.1
[ "$(tunnels open)" -eq $((before + 2)) ]
result "both went through the proxy" $? "$(tail -5 "$work/open.log")"
expect_fail "https_proxy first, as for curl (HTTPS_PROXY would work)" 4 \
	"cannot connect to proxy 127.0.0.1 port $dead" \
	"https_proxy=http://127.0.0.1:$dead" "HTTPS_PROXY=$px" -- -t "$u" list -r 127.0.0.1
expect_ok "--no-proxy ignores https_proxy" "https_proxy=http://127.0.0.1:$dead" -- \
	--no-proxy -t "$u" list -r 127.0.0.1
expect_ok "no_proxy names the host: direct" "https_proxy=http://127.0.0.1:$dead" \
	"no_proxy=localhost,127.0.0.1" -- -t "$u" list -r 127.0.0.1
expect_ok "NO_PROXY a domain above the name: direct" "https_proxy=http://127.0.0.1:$dead" \
	"NO_PROXY=.localhost" -- -t "$u" list -r localhost
expect_ok "no_proxy applies to --proxy too (as curl)" "no_proxy=127.0.0.0/8" -- \
	--proxy "http://127.0.0.1:$dead" -t "$u" list -r 127.0.0.1
expect_fail "no_proxy=localhost does not cover 127.0.0.1 (names are not addresses)" 4 \
	"cannot connect to proxy" "no_proxy=localhost" -- \
	--proxy "http://127.0.0.1:$dead" -t "$u" list -r 127.0.0.1
expect_fail "--no-proxy with --proxy is a usage error" 2 "goes with neither" -- \
	--no-proxy --proxy "$px" -t "$u" list -r 127.0.0.1
expect_fail "a bad https_proxy is one line, exit 2" 2 "https_proxy: bad proxy URL" \
	"https_proxy=socks5://127.0.0.1:1080" -- -t "$u" list -r 127.0.0.1

# Clear failures.
expect_fail "the proxy is down: exit 4, one line naming it" 4 \
	"cannot connect to proxy 127.0.0.1 port $dead: Connection refused" -- \
	--proxy "http://127.0.0.1:$dead" -t "$u" list -r 127.0.0.1
expect_fail "a peer that is no proxy (usbipd): exit 4, one line" 4 \
	"proxy 127.0.0.1:$u" -- --proxy "http://127.0.0.1:$u" -t "$u" list -r 127.0.0.1
# A proxy that accepts and never answers: a stopped one. The client gives up
# after its 10 s, and meanwhile ps does not show the password it was given.
kill -STOP "$pid_open"
stopped=$pid_open
"$usbip" --proxy "http://alice:s3cret@127.0.0.1:$port_open" -t "$u" list -r 127.0.0.1 \
	>"$work/hang.out" 2>&1 &
hang=$!
sleep 1
tr '\0' ' ' <"/proc/$hang/cmdline" >"$work/cmdline"
! grep -q s3cret "$work/cmdline" && grep -q "alice:\*\*\*\*\*\*@" "$work/cmdline"
result "ps shows the password as stars" $? "$(cat "$work/cmdline")"
wait $hang
rc=$?
kill -CONT "$pid_open"
stopped=
[ $rc -eq 4 ] && grep -q "proxy 127.0.0.1:$port_open did not answer CONNECT 127.0.0.1:$u within 10000 ms" \
	"$work/hang.out" && [ "$(wc -l <"$work/hang.out")" -eq 1 ]
result "a proxy that never answers: exit 4 after the timeout, one line" $? \
	"exit $rc: $(cat "$work/hang.out")"

finish
