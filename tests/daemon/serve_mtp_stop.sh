#!/bin/sh
# usbip serve-mtp stops cleanly in every state: with nobody attached, with
# a host that imported its device and opened an MTP session (bad_peer
# mtp-hold, a user-space importer), mid-upload, mid-download, and with two
# storages. SIGTERM and SIGINT each end it with exit status 0, the
# importer's connection is closed, nothing is said by a sanitizer (under
# the ASan build), and the folders hold what they held before: no partial
# upload under its name, no temporary left. After SIGKILL mid-upload no
# partial file is there either, and the next start removes the temporary
# the killed process left. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

mkdir -p "$work/one/sub" "$work/two"
head -c 4194304 /dev/urandom >"$work/one/big.bin"
echo hello >"$work/one/sub/a.txt"
head -c 4194304 /dev/urandom >"$work/two/other.bin"
chmod 755 "$work"
user=
if [ "$(id -u)" = 0 ]; then
	chown -R 65534:65534 "$work/one" "$work/two"
	user="--user nobody"
fi
before=$(cd "$work" && find one two -printf '%p %s\n' | sort)

# The folders as they were (nothing added, nothing half-written, no temporary).
unchanged() {
	_now=$(cd "$work" && find one two -printf '%p %s\n' | sort)
	[ "$_now" = "$before" ] || {
		echo "now:"
		echo "$_now"
		return 1
	}
}

sanitizer_said() {
	grep -E "AddressSanitizer|LeakSanitizer|runtime error:" "$1"
}

# start DIRS...: serve-mtp on those folders, on a port from the kernel.
start() {
	_dirs=
	for _d in "$@"; do
		_dirs="$_dirs --dir $work/$_d"
	done
	log=$work/serve.log
	rm -f "$log" # not the last one's (its port): the child truncates it only once it runs
	# shellcheck disable=SC2086
	daemon_start "$log" "$usbip" -d -t 0 serve-mtp $_dirs -a 127.0.0.1 $user
	pid=$daemon_pid port=$daemon_port
}

# hold STATE: a host that imported the device and stopped in STATE;
# waits until it says so. 1 when it could not get there.
hold() {
	rm -f "$work/peer.out" # not the last one's: the child truncates it only once it runs
	"$bad_peer" 127.0.0.1 "$port" mtp-hold 1-1 "$1" up.bin >"$work/peer.out" 2>&1 &
	peer=$!
	_i=0
	until grep -q holding "$work/peer.out" 2>/dev/null; do
		if ! kill -0 "$peer" 2>/dev/null || [ $_i -ge 100 ]; then
			wait "$peer"
			echo "(bad_peer: exit status $?)" >>"$work/peer.out"
			peer=
			return 1
		fi
		_i=$((_i + 1))
		sleep 0.1
	done
}

# case NAME SIGNAL STATE DIRS...
stop_case() {
	_name=$1 _sig=$2 _state=$3
	shift 3
	start "$@"
	_why=
	if [ "$_state" != unattached ] && ! hold "$_state"; then
		_why="could not get into the state: $(cat "$work/peer.out" 2>/dev/null)"
	fi
	kill -"$_sig" "$pid"
	wait "$pid"
	_rc=$?
	pid=
	_peer_rc=0
	if [ -n "$peer" ]; then
		wait "$peer"
		_peer_rc=$?
		peer=
	fi
	[ "$_rc" = 0 ] || _why="$_why exit status $_rc;"
	[ "$_peer_rc" = 0 ] || _why="$_why the importer's connection stayed open: $(cat "$work/peer.out");"
	if sanitizer_said "$log" >/dev/null; then
		_why="$_why a sanitizer report: $(sanitizer_said "$log" | head -3)"
	fi
	_files=$(unchanged) || _why="$_why the folders changed: $_files"
	[ -z "$_why" ]
	result "SIG$_sig, $_name: exit 0, connection closed, folders as before" $? \
		"$_why$(tail -5 "$log")"
}

for sig in TERM INT; do
	stop_case "nobody attached" $sig unattached one
	stop_case "a host attached, session open" $sig idle one
	stop_case "mid-upload" $sig upload one
	stop_case "mid-download" $sig download one
	stop_case "two storages, mid-upload" $sig upload one two
	stop_case "two storages, mid-download" $sig download two one
done

# SIGKILL mid-upload: nothing under the name; the temporary goes at the next start.
start one
if hold upload; then
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	pid=
	wait "$peer" 2>/dev/null
	peer=
	[ ! -e "$work/one/up.bin" ]
	result "SIGKILL mid-upload: no file under the upload's name" $? "$(ls -la "$work/one")"
	start one
	unchanged >"$work/after"
	result "the next start removed what the killed process left" $? "$(cat "$work/after")"
	kill -TERM "$pid"
	wait "$pid"
	result "and stops with exit 0" $? "$(tail -5 "$log")"
	pid=
else
	result "SIGKILL mid-upload: the upload started" 1 "$(cat "$work/peer.out")"
fi

finish
