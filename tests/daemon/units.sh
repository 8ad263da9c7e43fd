#!/bin/sh
# The systemd units as make builds them: `systemd-analyze verify` is clean
# on each (their binaries pointed at this build, their man pages at doc/),
# and a unit with a mistake is caught by the same check (the control).
# They are Type=notify, do not make /sys read-only, and bound their
# capabilities. Prints TAP.
set -u
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
abs_builddir=$(cd "$builddir" && pwd)
abs_srcdir=$(cd "$srcdir" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$srcdir/tests/daemon/lib.sh"
units="usbipd.service usbipa.service usbip-agent.service"
if ! command -v systemd-analyze >/dev/null; then
	echo "1..0 # SKIP systemd-analyze not installed (Debian: systemd)"
	exit 0
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
	out=$(MANPATH="$work/man" systemd-analyze verify "$work/units/$u" 2>&1)
	result "systemd-analyze verify $u" $? "$out"
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
sed 's/^ExecStart=/ExecStrat=/' "$work/units/usbipd.service" >"$work/units/broken.service"
out=$(MANPATH="$work/man" systemd-analyze verify "$work/units/broken.service" 2>&1)
[ $? -ne 0 ] || echo "$out" | grep -q "Unknown key"
result "the check catches a unit with a mistake (control)" $? "$out"
echo "1..$n"
[ $failed -eq 0 ]
