#!/bin/sh
# Bash completion (completion/usbip.bash): `usbip at<TAB>` completes to
# attach, options and their values complete per command, and every long
# option that --help of usbip, each of its commands, usbipd and usbipa
# prints is offered. Runs the completion functions as bash does, with
# COMP_WORDS and COMP_CWORD set. Prints TAP.
. "${top_srcdir:-.}/tests/lib.sh"
if ! command -v bash >/dev/null; then
	skip_all "no bash"
fi
script="$srcdir/completion/usbip.bash"

# complete WORDS...: what completing the last word offers, one a line, sorted.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		f=$(complete -p "${COMP_WORDS[0]}" | sed "s/.*-F \([^ ]*\).*/\1/"); "$f";
		printf "%s\n" "${COMPREPLY[@]}"' complete "$script" "$@" | sed '/^$/d' | sort
}
# expect "WANTED" WORDS...: the offers are exactly WANTED (space-separated).
expect() {
	want=$(printf '%s\n' $1 | sort)
	shift
	got=$(complete_words "$@")
	[ "$got" = "$want" ]
	result "$* <TAB> -> $(echo $want)" $? "got: $(echo $got)"
}

expect "attach" usbip at
expect "detach disconnect" usbip d
expect "serve-mtp status" usbip s
expect "attach" usbip --debug --tcp-port 3241 at
expect "--persist --pid" usbip attach -r h --p
expect "--persist --pid" usbip connect --pe --p
expect "--port" usbip detach --po
expect "--auto-bind" usbipd --auto
expect "--allow-any --allow-device --allow-gid --allow-host --allow-subject --allow-uid" usbipa --allow
expect "auto ktls relay" usbip --tls-datapath ""
expect "list" usbip help li
mkdir "$work/photos"
expect "$work/photos" usbip serve-mtp -d "$work/ph"
expect "" usbip detach -p ""

# Every long option of --help is offered where it applies.
offers() { complete_words "$@" | tr '\n' ' '; }
missing=''
for o in $("$usbip" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
	case " $(offers usbip --) " in *" $o "*) ;; *) missing="$missing usbip:$o" ;; esac
done
for c in $("$usbip" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }'); do
	[ "$c" = version ] || [ "$c" = help ] && continue
	all=" $(offers usbip "$c" --) "
	for o in $("$usbip" "$c" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		case $all in *" $o "*) ;; *) missing="$missing $c:$o" ;; esac
	done
done
for d in usbipd usbipa; do
	all=" $(offers "$d" --) "
	for o in $("$builddir/src/$d" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		case $all in *" $o "*) ;; *) missing="$missing $d:$o" ;; esac
	done
done
[ -z "$missing" ]
result "every option of every --help is completed" $? "not offered:$missing"
finish
