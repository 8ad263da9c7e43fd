# Shared helpers for the host-side VM test scripts (sourced, not executed).
# shellcheck shell=bash

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${VM_CACHE:=$VM_DIR/.cache}"
export VM_CACHE

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }
# A failure before the guest runs is the harness's, said as TAP's "Bail out!".
vm_harness_fail() { echo "Bail out! $*"; exit 1; }
# Milliseconds since $1, a `date +%s%N`.
vm_ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# vm_random_disk FILE BYTES: a disk image of random data whose first 64 KiB
# are zero, so that no partition table parser ever finds anything in it;
# prints its sha256
vm_random_disk() {
    { head -c 65536 /dev/zero; head -c $(($2 - 65536)) /dev/urandom; } >"$1"
    sha256sum "$1" | cut -d' ' -f1
}

# vm_work_dir PREFIX: a work directory in $work, removed on exit unless
# $keep is 1, and QEMU ($qpid) and the hot-plug relay ($rpid) stopped then
vm_work_dir() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    qpid='' rpid=''
    trap vm_cleanup EXIT
    trap 'exit 130' INT TERM
}
# shellcheck disable=SC2317 # called by the EXIT trap
vm_cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill "$qpid" 2>/dev/null || true; fi
    if [ -n "$rpid" ] && kill -0 "$rpid" 2>/dev/null; then kill "$rpid" 2>/dev/null || true; fi
    if [ "$keep" = 1 ]; then vm_log "work directory kept: $work"; else rm -rf "$work"; fi
}

vm_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            vm_die "'$c' not found; install Debian packages: $(vm_host_packages)"
    done
}

vm_host_packages() {
    echo "qemu-system-x86 cpio kmod (and dpkg, apt, coreutils, gzip, which every Debian has)"
}

# Is $1 an ELF file? (without needing file(1))
vm_is_elf() {
    [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}

# ------------------------------------------------------------------ hot-plug relay
# The guest's test cases plug and unplug USB devices through QEMU's monitor
# the way a VM host's hot-plug scripts do.  run.sh gives QEMU two pipe
# chardevs (each a pair of FIFOs, NAME.in written by us and NAME.out read by
# us; QEMU opens both O_RDWR, so nobody blocks and nobody sees EOF):
#   WORK/qmp.{in,out}  a QMP monitor; HMP commands go through
#                      human-monitor-command, so the text is HMP's
#   WORK/ctl.{in,out}  the guest's second serial port, /dev/ttyS1
# vm_hotplug_relay reads one request per line from the guest,
#   REQ TOKEN COMMAND...
# runs it if it is one of the few commands allowed (see _vm_hp_check), and
# answers with the monitor's text and a done marker:
#   OUT TOKEN LINE        (zero or more)
#   END TOKEN RC          0 done, 1 the monitor said no, 2 refused here,
#                         3 the monitor did not answer
# device_del is only done when QEMU reports DEVICE_DELETED for the id (its
# block backend is released only then: plugging the same drive again before
# that fails with a permission conflict).  Lines that are not requests are
# ignored.  Meant to run in the background until run.sh kills it; writes a
# transcript to stdout.

# vm_hotplug_relay WORK "DRIVE..." [PID] — serve the guest until killed (or
# until process PID, QEMU, is gone)
vm_hotplug_relay() {
    set +eu
    local w=$1 pid=${3:-} line tok cmd why acc='' rc
    _vm_hp_drives=" $2 "
    _vm_hp_qmp_ok=0 _vm_hp_qn=0 _vm_hp_deleted=' '
    exec 3<>"$w/qmp.out" 4<>"$w/qmp.in" 5<>"$w/ctl.out" 6<>"$w/ctl.in"
    if IFS= read -r -t 60 line <&3; then
        printf '%s qmp< %s\n' "$(date +%T.%3N)" "${line%$'\r'}"
        printf '{"execute":"qmp_capabilities","id":"cap"}\n' >&4
        _vm_hp_qmp_wait cap 30 && _vm_hp_qmp_ok=1
    fi
    [ "$_vm_hp_qmp_ok" = 1 ] || printf '%s relay: QMP did not come up\n' "$(date +%T.%3N)"
    while :; do
        IFS= read -r -t 5 line <&5
        rc=$?
        if [ "$rc" -gt 128 ]; then # timed out: keep what came of the line
            acc+=$line
            [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 0
            continue
        fi
        [ "$rc" = 0 ] || return 0
        line=$acc${line%$'\r'}
        acc=''
        case $line in "REQ "*) ;; *) continue ;; esac
        line=${line#REQ }
        tok=${line%% *}
        cmd=${line#"$tok"}
        cmd=${cmd# }
        [[ $tok =~ ^[A-Za-z0-9._-]{1,40}$ ]] || continue
        printf '%s guest[%s]: %s\n' "$(date +%T.%3N)" "$tok" "$cmd"
        if ! why=$(_vm_hp_check "$cmd"); then
            _vm_hp_reply "$tok" 2 "refused by the host's relay: $why"
        elif [ "$_vm_hp_qmp_ok" != 1 ]; then
            _vm_hp_reply "$tok" 3 "QEMU's monitor is not available"
        else
            _vm_hp_run "$tok" "$cmd"
        fi
    done
}

# _vm_hp_check CMD — 0 if the relay runs CMD; else prints why not
_vm_hp_check() {
    local cmd=$1 args parts p key val driver have=' '
    local idre='^hp[A-Za-z0-9_-]{0,30}$'
    case $cmd in
    'info usb') return 0 ;;
    'device_del '*)
        [[ ${cmd#device_del } =~ $idre ]] && return 0
        echo "device_del: only ids that start with 'hp' (devices plugged for the tests)"
        return 1
        ;;
    'device_add '*) args=${cmd#device_add } ;;
    *)
        echo "only device_add, device_del and info usb are allowed"
        return 1
        ;;
    esac
    [[ $args =~ ^[A-Za-z0-9._=,-]+$ ]] || { echo "device_add: characters other than A-Za-z0-9._=,-"; return 1; }
    IFS=, read -ra parts <<<"$args"
    driver=${parts[0]}
    case $driver in
    usb-storage | usb-hub | usb-kbd | usb-mouse | usb-tablet) ;;
    *) echo "device_add: driver '$driver' is not one of usb-storage usb-hub usb-kbd usb-mouse usb-tablet"; return 1 ;;
    esac
    for p in "${parts[@]:1}"; do
        [[ $p == *=* ]] || { echo "device_add: '$p' is not KEY=VALUE"; return 1; }
        key=${p%%=*} val=${p#*=}
        case $key in
        bus) [ "$val" = xhci.0 ] || { echo "device_add: bus must be xhci.0"; return 1; } ;;
        port)
            [[ $val =~ ^[0-9]{1,2}(\.[0-9]{1,2}){0,4}$ ]] || { echo "device_add: bad port '$val'"; return 1; }
            case $val in 4 | 4.*) echo "device_add: port $val is the first hub's: it stays empty"; return 1 ;; esac
            ;;
        id) [[ $val =~ $idre ]] || { echo "device_add: the id must start with 'hp'"; return 1; } ;;
        drive)
            [ "$driver" = usb-storage ] || { echo "device_add: drive= is for usb-storage"; return 1; }
            case $_vm_hp_drives in *" $val "*) ;; *) echo "device_add: drive '$val' is not a spare drive (${_vm_hp_drives# })"; return 1 ;; esac
            ;;
        serial) [[ $val =~ ^[A-Za-z0-9._-]{1,32}$ ]] || { echo "device_add: bad serial"; return 1; } ;;
        removable) case $val in on | off) ;; *) echo "device_add: removable=on|off"; return 1 ;; esac ;;
        *) echo "device_add: property '$key' is not allowed (bus port id drive serial removable)"; return 1 ;;
        esac
        have+="$key "
    done
    for key in bus port id; do
        case $have in *" $key "*) ;; *) echo "device_add: $key= is required"; return 1 ;; esac
    done
    if [ "$driver" = usb-storage ]; then
        case $have in *" drive "*) ;; *) echo "device_add: usb-storage needs drive="; return 1 ;; esac
    fi
    return 0
}

# _vm_hp_reply TOKEN RC TEXT — answer the guest: TEXT's lines, the marker
_vm_hp_reply() {
    local tok=$1 rc=$2 text=$3 l out=''
    if [ -n "$text" ]; then
        while IFS= read -r l; do out+="OUT $tok ${l%$'\r'}"$'\n'; done <<<"$text"
    fi
    out+="END $tok $rc"$'\n'
    printf '%s' "$out" >&6
    printf '%s relay[%s]: rc %s%s\n' "$(date +%T.%3N)" "$tok" "$rc" "${text:+: ${text//$'\n'/ | }}"
}

# _vm_hp_run TOKEN CMD — run an allowed HMP command, answer the guest
_vm_hp_run() {
    local tok=$1 cmd=$2 id rc=0 t
    case $cmd in 'device_del '*) id=${cmd#device_del }; _vm_hp_deleted=${_vm_hp_deleted// $id / } ;; esac
    _vm_hp_qn=$((_vm_hp_qn + 1))
    printf '{"execute":"human-monitor-command","arguments":{"command-line":"%s"},"id":"r%s"}\n' \
        "$cmd" "$_vm_hp_qn" >&4
    if ! _vm_hp_qmp_wait "r$_vm_hp_qn" 30; then
        _vm_hp_reply "$tok" 3 "no answer from QEMU's monitor within 30 s"
        return
    fi
    case $cmd in
    device_*) [ -z "${_vm_hp_out//[[:space:]]/}" ] || rc=1 ;;
    *) case $_vm_hp_out in Error* | "unknown command"*) rc=1 ;; esac ;;
    esac
    [ "$_vm_hp_err" = 0 ] || rc=1
    if [ "$rc" = 0 ] && [ -n "$id" ]; then
        # wait for QEMU to have really let the device go
        t=$((SECONDS + 10))
        while [[ $_vm_hp_deleted != *" $id "* ]] && [ $SECONDS -lt $t ]; do
            _vm_hp_qmp_wait '' 1
        done
        [[ $_vm_hp_deleted == *" $id "* ]] ||
            { rc=1 _vm_hp_out="device_del $id: no DEVICE_DELETED event from QEMU within 10 s"; }
    fi
    _vm_hp_reply "$tok" "$rc" "$_vm_hp_out"
}

# _vm_hp_qmp_wait ID SECS — read QMP lines until the answer to ID (or, ID
# empty, until a DEVICE_DELETED event), noting DEVICE_DELETED events; sets _vm_hp_out to
# the answer's text and _vm_hp_err to 1 if it was an error.  1 on timeout.
_vm_hp_qmp_wait() {
    local want=$1 end=$((SECONDS + $2)) line
    local re_ret='"return": ?"(([^"\\]|\\.)*)"' re_desc='"desc": ?"(([^"\\]|\\.)*)"'
    local re_dev='"event": ?"DEVICE_DELETED".*"device": ?"([^"]*)"'
    _vm_hp_out='' _vm_hp_err=0
    while [ $SECONDS -lt "$end" ]; do
        IFS= read -r -t "$(( end - SECONDS > 0 ? end - SECONDS : 1 ))" line <&3 || return 1
        line=${line%$'\r'}
        printf '%s qmp< %s\n' "$(date +%T.%3N)" "$line"
        if [[ $line =~ $re_dev ]]; then
            _vm_hp_deleted+="${BASH_REMATCH[1]} "
            [ -n "$want" ] || return 0
        fi
        [ -n "$want" ] || continue
        [[ $line =~ \"id\":\ ?\"$want\" ]] || continue
        if [[ $line =~ $re_ret ]]; then
            _vm_hp_out=$(_vm_json_unescape "${BASH_REMATCH[1]}")
        elif [[ $line =~ \"error\": ]]; then
            _vm_hp_err=1
            [[ $line =~ $re_desc ]] && _vm_hp_out=$(_vm_json_unescape "${BASH_REMATCH[1]}")
        fi
        return 0
    done
    return 1
}

# _vm_json_unescape STRING — the text of a JSON string's contents
_vm_json_unescape() {
    local s=$1 out='' pre c
    while [ -n "$s" ]; do
        pre=${s%%\\*}
        out+=$pre
        s=${s:${#pre}}
        [ -n "$s" ] || break
        case ${s:1:1} in
        n) out+=$'\n' ;;
        r) ;;
        t) out+=$'\t' ;;
        b | f) ;;
        u) printf -v c '%b' "\\u${s:2:4}"; out+=$c; s=${s:4} ;;
        *) out+=${s:1:1} ;;
        esac
        s=${s:2}
    done
    printf '%s' "$out"
}
