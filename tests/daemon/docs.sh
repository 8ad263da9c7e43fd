#!/bin/sh
# Help and man pages agree: every long option that `--help` of usbip (and
# of each of its commands), usbipd and usbipa prints is in the man page of
# that program, and every long option the man page names is in that help,
# but for the few names a page gives of another program's options (listed
# below with why). Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"

# The long options in a text, one a line, sorted.
long_options() { grep -o -- '--[a-z][a-z0-9]*\(-[a-z0-9]\+\)*' | sort -u; }
# ... in a man page's source, where a '-' is written '\-'.
man_options() { sed 's/\\-/-/g; s/\\f[BIRP]//g' "$1" | long_options; }

# The options of a man page that are another program's, as "PAGE OPTION WHY".
cat >"$work/elsewhere" <<'LIST'
usbip.8 --allow-device usbipa's, in the note on keyboards
usbip.8 --with-usbids-dir configure's, where usb.ids is
usbipa.8 --persist usbip connect's, the device side of usbipa
usbipd.8 --now systemctl's, in EXAMPLES
usbipa.8 --now systemctl's, in EXAMPLES
usbipd.8 --discover usbip list's, which finds what --announce announces
usbipd.8 --without-avahi configure's, a build without mDNS
usbipa.8 --without-avahi configure's, a build without mDNS
LIST

# compare PAGE HELPFILE: both directions, one TAP line each.
compare() {
	man_options "$srcdir/doc/$1" >"$work/man"
	awk -v p="$1" '$1 == p { print $2 }' "$work/elsewhere" | sort -u >"$work/skip"
	missing=$(comm -23 "$2" "$work/man" | tr '\n' ' ')
	[ -z "$missing" ]
	result "every option of the help is in $1" $? "not in $1: $missing"
	extra=$(comm -13 "$2" "$work/man" | comm -23 - "$work/skip" | tr '\n' ' ')
	[ -z "$extra" ]
	result "every option in $1 is in the help" $? "not in --help: $extra"
}

commands=$("$usbip" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' |
	grep -v -e '^version$' -e '^help$')
[ -n "$commands" ]
result "usbip --help lists its commands" $? "$("$usbip" --help)"
{
	"$usbip" --help
	for c in $commands; do "$usbip" "$c" --help; done
} | long_options >"$work/usbip.help"
compare usbip.8 "$work/usbip.help"
for d in usbipd usbipa; do
	"$builddir/src/$d" --help | long_options >"$work/$d.help"
	compare "$d.8" "$work/$d.help"
done

# The control: an option taken out of a page is caught.
grep -v 'auto\\-bind' "$srcdir/doc/usbipd.8" >"$work/usbipd.8"
man_options "$work/usbipd.8" | comm -23 "$work/usbipd.help" - | grep -q -- --auto-bind
result "the check catches an option missing from a page (control)" $? ""
finish
