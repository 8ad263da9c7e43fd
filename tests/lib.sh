# lib.sh: sourced first by every shell suite of make check (tests/daemon,
# see tests/README):
#   . "${top_srcdir:-.}/tests/lib.sh"
# It sets builddir and srcdir (make check exports top_builddir and
# top_srcdir; by hand, run from the build folder with top_srcdir set), the
# programs $usbip $usbipd $usbipa $bad_peer, $work (a fresh folder) and the
# TAP counters; on exit it kills what the suite started ($pids, $pid and
# $peer, continuing what is in $stopped) and removes $work. Also the
# helpers of tests/shared.sh: make_certs, listener_pids, children.
# shellcheck shell=sh disable=SC2034
set -u
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
usbip=$builddir/src/usbip
usbipd=$builddir/src/usbipd
usbipa=$builddir/src/usbipa
bad_peer=$builddir/tests/tools/bad_peer
work=$(mktemp -d)
pids="" pid="" peer="" stopped=""
# $stopped: what the suite stopped (kill -STOP) and has not continued yet;
# such a process ends only once continued. (Only those: serve-mtp under
# ASan, sent SIGCONT as it exits, was seen to spin forever.)
# shellcheck disable=SC2086 # lists of process ids
cleanup() {
	kill $pids $pid $peer 2>/dev/null
	[ -z "$stopped" ] || kill -CONT $stopped 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=shared.sh
. "$srcdir/tests/shared.sh"

# ------------------------------------------------------------------ TAP
# result NAME STATUS DETAILS: one TAP line; DETAILS as comments on failure.
# Counts in $n and $failed.
n=0 failed=0
result() {
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n - $1"
	else
		failed=$((failed + 1))
		echo "not ok $n - $1"
		printf '%s\n' "$3" | sed 's/^/# /'
	fi
}

# list_ok NAME CLIENT-ARGS...: `usbip CLIENT-ARGS` (a list -r) works and
# finds the daemon with nothing to export (the TLS and WebSocket suites)
list_ok() {
	_name=$1
	shift
	_out=$("$usbip" "$@" 2>&1)
	echo "$_out" | grep -q "no exportable devices found"
	result "$_name" $? "$_out"
}
# list_fails NAME PATTERN CLIENT-ARGS...: fails, one line matching PATTERN
list_fails() {
	_name=$1 _pat=$2
	shift 2
	_out=$("$usbip" "$@" 2>&1)
	_rc=$?
	[ $_rc -ne 0 ] && echo "$_out" | grep -q "$_pat" && [ "$(echo "$_out" | wc -l)" -eq 1 ]
	result "$_name" $? "exit $_rc: $_out"
}
# daemon_logged NAME LOG PATTERN: $work/LOG.log holds PATTERN
daemon_logged() {
	grep -q "$3" "$work/$2.log"
	result "$1" $? "$(tail -5 "$work/$2.log")"
}

# finish: the plan, last; the suite's exit status is whether all passed.
finish() {
	echo "1..$n"
	[ $failed -eq 0 ]
}

# skip_all WHY: the whole suite is skipped (a tool or a privilege missing).
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# ------------------------------------------------------------------ daemons
# Daemons start on a port the kernel picks (-t 0), never a fixed or random one.

# started PID WHAT LOG CHECK...: waits until the command CHECK succeeds;
# PID gone or 10 s passed is a Bail out, with LOG.
started() {
	_pid=$1 _what=$2 _log=$3
	shift 3
	_i=0
	until "$@"; do
		if ! kill -0 "$_pid" 2>/dev/null || [ $_i -ge 100 ]; then
			echo "Bail out! $_what did not start: $(tr '\n' ' ' <"$_log")"
			exit 1
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
}

# ready LOG: LOG says " ready".
ready() { grep -q " ready" "$1"; }

# daemon_ready LOG: LOG says the port the daemon got (in daemon_port) and
# that it is ready.
daemon_ready() {
	daemon_port=$(sed -n 's/.*listening on \(127\.0\.0\.1\|0\.0\.0\.0\|\[::1\]\|\[::\]\):\([0-9][0-9]*\)$/\2/p' "$1" | head -1)
	[ -n "$daemon_port" ] && ready "$1"
}

# daemon_start LOG CMD ARGS...: runs the daemon CMD in the foreground (its
# arguments must include -t 0) with stdout and stderr in LOG, and waits until
# it has said the port it got and that it is ready. Sets daemon_pid and
# daemon_port; a daemon that exits or stays silent for 10 s is a Bail out.
daemon_start() {
	_log=$1
	shift
	"$@" >"$_log" 2>&1 &
	daemon_pid=$!
	started "$daemon_pid" "$1" "$_log" daemon_ready "$_log"
}

# agent_start LOG ARGS...: runs `usbip agent ARGS...` (it listens nowhere)
# with its output in LOG and waits until it says it is ready. Sets
# agent_pid; one silent for 10 s is a Bail out.
agent_start() {
	_log=$1
	shift
	"$usbip" agent "$@" >"$_log" 2>&1 &
	agent_pid=$!
	started "$agent_pid" "usbip agent" "$_log" ready "$_log"
}

# ------------------------------------------------------------------ TLS
# certs_or_bail DIR: a fresh PKI in DIR (make_certs), or Bail out: the TLS
# checks cannot run without.
certs_or_bail() {
	if ! command -v openssl >/dev/null || ! make_certs "$1" 2>"$1.err"; then
		echo "Bail out! cannot make test certificates: $(cat "$1.err" 2>/dev/null)"
		exit 1
	fi
}
