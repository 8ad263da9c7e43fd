#!/bin/sh
# The systemd units as make builds them: `systemd-analyze verify` is clean
# on each (their binaries pointed at this build, their man pages at doc/),
# and a unit with a mistake is caught by the same check (the control).
# They are Type=notify, do not make /sys read-only, and bound their
# capabilities. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
abs_builddir=$(cd "$builddir" && pwd)
abs_srcdir=$(cd "$srcdir" && pwd)
units="usbipd.service usbipa.service usbip-agent.service usbip-serve-mtp@.service"
if ! command -v systemd-analyze >/dev/null; then
	skip_all "systemd-analyze not installed (Debian: systemd)"
fi
mkdir -p "$work/units" "$work/man/man5" "$work/man/man8"
for m in usbip.8 usbipd.8 usbipa.8; do ln -s "$abs_srcdir/doc/$m" "$work/man/man8/$m"; done
ln -s "$abs_srcdir/doc/usbip.conf.5" "$work/man/man5/usbip.conf.5"
for u in $units; do
	if [ ! -f "$builddir/systemd/$u" ]; then
		echo "Bail out! $builddir/systemd/$u was not built"
		exit 1
	fi
	# The installed paths, pointed at this build's programs.
	sed "s|=/[^ ]*/sbin/\(usbip[ad]\{0,1\}\) |=$abs_builddir/src/\1 |" \
		"$builddir/systemd/$u" >"$work/units/$u"
done
for u in $units; do
	grep -q "^ExecStart=$abs_builddir/src/" "$work/units/$u"
	result "$u runs this build's program for the check" $? "$(grep '^ExecStart' "$work/units/$u")"
	# A template is verified as an instance of it.
	unit=$(echo "$u" | sed 's/@\./@photos./')
	[ "$unit" = "$u" ] || cp "$work/units/$u" "$work/units/$unit"
	out=$(MANPATH="$work/man" systemd-analyze verify "$work/units/$unit" 2>&1)
	result "systemd-analyze verify $unit" $? "$out"
	grep -q '^Type=notify$' "$work/units/$u"
	result "$u is Type=notify" $? "$(grep '^Type=' "$work/units/$u")"
	! grep -q '^ProtectKernelTunables=yes' "$work/units/$u"
	result "$u leaves /sys writable for bind and attach" $? ""
	# A list of what the main process uses (the systemd guest's
	# 20-capabilities proves it), none of the capabilities that are root.
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$work/units/$u")
	[ -n "$caps" ] && [ "$(echo "$caps" | wc -l)" = 1 ] &&
		! echo "$caps" | grep -qE '~|CAP_SYS_ADMIN|CAP_DAC_|CAP_SYS_MODULE|CAP_SYS_PTRACE|CAP_NET_ADMIN'
	result "$u bounds its capabilities to a short list: $caps" $? ""
done

# A fresh install: make install puts a usbip.conf where the units read it,
# and every unit's commands start with that file and nothing written by hand.
# unit_starts LOG CMD...: CMD says it is ready within 10 s (then stopped).
unit_starts() {
	_log=$1
	shift
	"$@" >"$_log" 2>&1 &
	_pid=$! _i=0
	while ! grep -q " ready" "$_log" && kill -0 "$_pid" 2>/dev/null && [ $_i -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
	grep -q " ready" "$_log"
	_rc=$?
	kill "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	return $_rc
}
root="$work/root"
${MAKE:-make} -s -C "$builddir" install-data-local DESTDIR="$root" >"$work/install.out" 2>&1
conf=$(find "$root" -path '*/usbip/usbip.conf' | head -1)
[ -n "$conf" ]
result "make install puts a usbip.conf where there was none" $? "$(cat "$work/install.out")"
# A template's instance needs its section: the one thing written by hand.
mkdir -p "$work/photos"
chmod 755 "$work" "$work/photos"
for u in $units; do
	for key in ExecStartPre ExecStart; do
		cmd=$(sed -n "s/^$key=//p" "$work/units/$u" | sed "s| --config \([^ ]*\)| --config $root\1|")
		[ -n "$cmd" ] || continue
		case $u in
		*@.service)
			cp "$conf" "$conf.default"
			printf '[serve-mtp photos]\ndir = %s\ntcp-port = 0\n' "$work/photos" >>"$conf"
			cmd=$(echo "$cmd" | sed 's/%i/photos/g')
			;;
		esac
		case $cmd in *" --check" | *" usbip agent "* | *" serve-mtp "*) ;; *) cmd="$cmd --tcp-port 0" ;; esac
		# shellcheck disable=SC2086 # the unit's command line, split as systemd does
		case $cmd in
		*" --check") out=$($cmd 2>&1) ;;
		*) unit_starts "$work/$u.log" $cmd; out=$(cat "$work/$u.log") ;;
		esac
		result "$u: $key starts on the installed default usbip.conf" $? "$cmd: $out"
		[ ! -f "$conf.default" ] || mv "$conf.default" "$conf"
	done
done
echo "# edited" >>"$conf"
${MAKE:-make} -s -C "$builddir" install-data-local uninstall-local DESTDIR="$root" >"$work/install.out" 2>&1
grep -q '^# edited' "$conf"
result "make install and uninstall keep a usbip.conf the admin changed" $? "$(cat "$work/install.out")"
sed -i '$d' "$conf"
${MAKE:-make} -s -C "$builddir" uninstall-local DESTDIR="$root" >"$work/install.out" 2>&1
[ ! -e "$conf" ]
result "make uninstall removes the default usbip.conf unchanged" $? "$(cat "$work/install.out")"

sed 's/^ExecStart=/ExecStrat=/' "$work/units/usbipd.service" >"$work/units/broken.service"
out=$(MANPATH="$work/man" systemd-analyze verify "$work/units/broken.service" 2>&1)
[ $? -ne 0 ] || echo "$out" | grep -q "Unknown key"
result "the check catches a unit with a mistake (control)" $? "$out"
finish
