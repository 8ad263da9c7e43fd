# lib.sh — helpers for VM test cases (busybox ash).  In the guest this file is
# /tests/lib.sh; a case starts with:   . /tests/lib.sh
#
# A case is a shell script run by /init as `sh CASE` in its own empty working
# directory under /tmp/vmtest/, with stdin from /dev/null and a time limit
# ($VMTEST_TEST_TIMEOUT).  Exit 0 = pass, 77 = skip, anything else = fail.
# Its stdout+stderr are shown as TAP diagnostics when it fails.
# After each case /init kills every process left over and resets USB/IP state
# (usbip_reset), so cases start from the same state: all emulated devices on
# their native drivers, no vhci port in use, no usbipd running.
#
# Environment (from /tests/data/env, written by run.sh):
#   VMTEST_DISK_SHA256  sha256 of the emulated usb-storage disk's contents
#   VMTEST_DISK_BYTES   its size in bytes
#   VMTEST_DISK_SERIAL  its USB serial number
#   VMTEST_TEST_TIMEOUT per-case time limit in seconds
# shellcheck shell=sh disable=SC1091,SC2034

# Debian's busybox ash runs its own applets even when $PATH has a real
# program of that name (ip, dd, ...): call such programs by full path.  Tools
# added with run.sh --host-tool get a function here that does it for you.
[ -r /tests/host-tools.sh ] && . /tests/host-tools.sh
# What the build host's suites use too (tests/shared.sh there): make_certs,
# listener_pids, children. (Suites on the build host written before
# tests/lib.sh source this file too; they get those from tests/lib.sh.)
if [ -r /tests/shared.sh ]; then . /tests/shared.sh; fi

DEBIAN_USBIP=/opt/debian/usbip
DEBIAN_USBIPD=/opt/debian/usbipd

# IDs of QEMU's emulated devices
QEMU_STORAGE_ID=46f4:0001 # usb-storage, product "QEMU USB HARDDRIVE"
QEMU_HID_ID=0627:0001     # usb-kbd "QEMU USB Keyboard", usb-tablet "QEMU USB Tablet"

# ------------------------------------------------------------------ basics
log() { echo "$*"; }

# fail MESSAGE — end the case as failed
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# skip REASON — end the case as skipped
skip() {
    echo "SKIP: $*"
    exit 77
}

# run CMD... — echo the command, run it, return its status
run() {
    echo "+ $*"
    "$@"
}

# must CMD... — run, fail the case if it fails
must() {
    echo "+ $*"
    "$@" || fail "command failed (exit $?): $*"
}

# mustfail CMD... — run, fail the case if it succeeds
mustfail() {
    echo "+ $* (expected to fail)"
    if "$@"; then fail "command unexpectedly succeeded: $*"; fi
}

# wait_for SECONDS CMD... — poll CMD every 0.1 s until it succeeds; 1 on timeout
wait_for() {
    _wf_n=$(($1 * 10))
    shift
    while [ "$_wf_n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
        _wf_n=$((_wf_n - 1))
    done
    "$@" >/dev/null 2>&1
}

# not CMD... — succeed if CMD fails (for wait_for: wait_for 10 not vhci_disk)
not() { ! "$@"; }

# must_wait SECONDS DESCRIPTION CMD... — wait_for or fail with DESCRIPTION
must_wait() {
    _mw_t=$1 _mw_d=$2
    shift 2
    wait_for "$_mw_t" "$@" || fail "timed out after ${_mw_t}s waiting for: $_mw_d"
}

# ------------------------------------------------------------------ USB devices
# The sysfs path of a USB device, e.g. /sys/devices/pci0000:00/.../usb1/1-1
usb_path() { readlink -f "/sys/bus/usb/devices/$1"; }

# is_vhci BUSID — is the device on a vhci_hcd (imported over USB/IP)?
is_vhci() { case $(usb_path "$1") in */vhci_hcd.*) return 0 ;; esac; return 1; }

# usb_busids VID:PID [PRODUCT-SUBSTRING] — busids of matching devices (all buses)
usb_busids() {
    for _d in /sys/bus/usb/devices/*; do
        _b=${_d##*/}
        case $_b in *:* | usb*) continue ;; esac
        [ -r "$_d/idVendor" ] || continue
        [ "$(cat "$_d/idVendor"):$(cat "$_d/idProduct")" = "$1" ] || continue
        if [ -n "${2:-}" ]; then
            case $(cat "$_d/product" 2>/dev/null) in *"$2"*) ;; *) continue ;; esac
        fi
        echo "$_b"
    done
}

# usb_busid_local VID:PID [PRODUCT] — first matching device NOT on vhci (the
# emulated one, wherever its driver is); usb_busid_vhci: first one ON vhci
usb_busid_local() {
    for _b in $(usb_busids "$@"); do
        is_vhci "$_b" || { echo "$_b"; return 0; }
    done
    return 1
}
usb_busid_vhci() {
    for _b in $(usb_busids "$@"); do
        is_vhci "$_b" && { echo "$_b"; return 0; }
    done
    return 1
}

# usb_driver BUSID — driver of the device itself ("usb" or "usbip-host")
usb_driver() {
    [ -e "/sys/bus/usb/devices/$1/driver" ] || return 1
    basename "$(readlink "/sys/bus/usb/devices/$1/driver")"
}

# usb_if_driver BUSID [IF] — driver of interface IF (default 1.0), e.g. usb-storage
usb_if_driver() {
    _if=${2:-1.0}
    [ -e "/sys/bus/usb/devices/$1:$_if/driver" ] || return 1
    basename "$(readlink "/sys/bus/usb/devices/$1:$_if/driver")"
}

usb_driver_is() { [ "$(usb_driver "$1")" = "$2" ]; }       # BUSID DRIVER
usb_if_driver_is() { [ "$(usb_if_driver "$1" "${3:-}")" = "$2" ]; } # BUSID DRIVER [IF]

# usbip_host_status BUSID — usbip-host's usbip_status (1 available, 2 used, 3 error)
usbip_host_status() { cat "/sys/bus/usb/devices/$1/usbip_status" 2>/dev/null; }
usbip_host_status_is() { [ "$(usbip_host_status "$1")" = "$2" ]; } # BUSID N

# ------------------------------------------------------------------ disks
# disk_of_busid BUSID — block device name (sdX) behind a USB device
disk_of_busid() {
    for _s in /sys/block/sd*; do
        [ -e "$_s" ] || continue
        case $(readlink -f "$_s") in */"$1"/* | */"$1":*) echo "${_s##*/}"; return 0 ;; esac
    done
    return 1
}

# vhci_disk — name (sdX) of the first disk imported through vhci_hcd
vhci_disk() {
    for _s in /sys/block/sd*; do
        [ -e "$_s" ] || continue
        case $(readlink -f "$_s") in */vhci_hcd.*) echo "${_s##*/}"; return 0 ;; esac
    done
    return 1
}

# vhci_disk_reads WHAT SHA256 [BYTES] — a disk arrives on vhci_hcd (40 s), is
# ready, and its first BYTES (all of it) have this sha256
vhci_disk_reads() {
    must_wait 40 "a disk on vhci_hcd ($1)" vhci_disk
    _vr=$(vhci_disk)
    must_wait 30 "/dev/$_vr ready" disk_ready "$_vr"
    _vs=$(disk_sha256 "$_vr" "${3:-}")
    [ "$_vs" = "$2" ] || fail "$1: sha256 through vhci $_vs != $2"
    log "$1: read back through vhci, sha256 matches"
}

# disk_ready sdX — device node exists and the disk has a non-zero size
disk_ready() {
    [ -b "/dev/$1" ] && [ "$(cat "/sys/block/$1/size" 2>/dev/null || echo 0)" -gt 0 ]
}

# disk_sha256 sdX [BYTES] — sha256 of the first BYTES (default all) of /dev/sdX
disk_sha256() {
    if [ -n "${2:-}" ]; then
        dd if="/dev/$1" bs=65536 count=$(($2 / 65536)) 2>/dev/null | sha256sum | cut -d' ' -f1
    else
        sha256sum <"/dev/$1" | cut -d' ' -f1
    fi
}

# vhci_disk_intact [DESCRIPTION] — wait for the disk imported through vhci,
# check its sha256 against the emulated disk's; sets $vdisk to its name
vhci_disk_intact() {
    must_wait 30 "a disk on vhci_hcd" vhci_disk
    vdisk=$(vhci_disk)
    must_wait 30 "/dev/$vdisk ready" disk_ready "$vdisk"
    _sum=$(disk_sha256 "$vdisk")
    [ "$_sum" = "$VMTEST_DISK_SHA256" ] ||
        fail "${1:-disk} read through USB/IP: sha256 $_sum != $VMTEST_DISK_SHA256"
    log "${1:-disk}: $VMTEST_DISK_BYTES bytes read through vhci, sha256 matches"
}

# ------------------------------------------------------------------ network
# tcp_listening PORT — something listens on TCP PORT (IPv4 or IPv6)
tcp_listening() {
    _hex=$(printf '%04X' "$1")
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$_hex" '
        { n = split($2, a, ":"); if (a[n] == p && $4 == "0A") f = 1 } END { exit !f }'
}

tcp_not_listening() { ! tcp_listening "$1"; }

# ------------------------------------------------------------------ vhci
VHCI=/sys/devices/platform/vhci_hcd.0

# vhci_status — all port lines of all vhci_hcd status files:
#   hub port sta spd dev sockfd local_busid
# sta: 004 free (VDEV_ST_NULL), 005 not assigned, 006 used, 007 error
vhci_status() {
    for _f in "$VHCI"/status "$VHCI"/status.*; do
        [ -e "$_f" ] && tail -n +2 "$_f"
    done
}

# vhci_used_ports — port numbers in use (as `usbip detach -p` wants them)
# (busybox awk reads "0015" as octal: strip the zeros as text)
vhci_used_ports() { vhci_status | awk '$3 != "004" && $3 != "005" { p = $2; sub(/^0+/, "", p); print p == "" ? 0 : p }'; }

# vhci_port_of BUSID — vhci port number of an imported device (local busid)
vhci_port_of() {
    vhci_status | awk -v b="$1" '$7 == b { p = $2; sub(/^0+/, "", p); print p == "" ? 0 : p; f = 1 } END { exit !f }'
}

# ------------------------------------------------------------------ reset
# usbip_reset — detach every vhci port, give every device bound to usbip-host
# back to its native driver, forget match_busid entries and Debian's
# /var/run/vhci_hcd state.  Called by /init after every case.
usbip_reset() {
    for _p in $(vhci_used_ports); do
        echo "$_p" >"$VHCI/detach" 2>/dev/null
    done
    _hd=/sys/bus/usb/drivers/usbip-host
    if [ -d "$_hd" ]; then
        _bound=' '
        for _d in "$_hd"/*-*; do
            [ -e "$_d" ] || continue
            _b=${_d##*/}
            echo "$_b" >"$_hd/unbind" 2>/dev/null
            _bound="$_bound$_b "
        done
        # match_busid and rebind take the busid as written: no newline (the
        # tools write none; "del X\n" does not match their "X").  rebind
        # only what was bound just now: for an entry whose device is gone
        # (unplugged while bound) or was never bound to usbip-host, the
        # kernel's do_rebind dereferences a stale or NULL device (6.1.192:
        # NULL pointer oops, panic).  Such entries stay in match_busid (del
        # only drops an entry after rebind); they are harmless: a device
        # plugged at that busid goes to its usual driver, usbip-host takes
        # it only when bound explicitly.
        for _b in $(cat "$_hd/match_busid" 2>/dev/null); do
            printf 'del %s' "$_b" >"$_hd/match_busid" 2>/dev/null
            case $_bound in *" $_b "*) ;; *) continue ;; esac
            [ -e "/sys/bus/usb/devices/$_b" ] || continue
            if [ -e "$_hd/rebind" ]; then
                printf '%s' "$_b" >"$_hd/rebind" 2>/dev/null
            fi
        done
    fi
    rm -rf /run/vhci_hcd
    # reprobe any device left without a driver
    for _d in /sys/bus/usb/devices/*-*; do
        case ${_d##*/} in *:*) continue ;; esac
        [ -e "$_d/driver" ] || echo "${_d##*/}" >/sys/bus/usb/drivers_probe 2>/dev/null
    done
    return 0
}

# ------------------------------------------------------------------ Debian's usbipd
# debian_usbipd_start [ARGS...] — start Debian's usbipd -D on port 3240 and
# wait until it listens; its pid is in /run/usbipd-debian.pid
debian_usbipd_start() {
    must "$DEBIAN_USBIPD" -D --pid=/run/usbipd-debian.pid "$@"
    must_wait 10 "Debian usbipd listening on 3240" tcp_listening 3240
}
debian_usbipd_stop() {
    [ -r /run/usbipd-debian.pid ] || return 0
    kill "$(cat /run/usbipd-debian.pid)" 2>/dev/null
    wait_for 5 tcp_not_listening 3240 || true
    rm -f /run/usbipd-debian.pid
}

# ------------------------------------------------------------------ MTP (serve-mtp cases, 3x)
# libmtp's mtp-tools are /opt/mtp/bin/mtp-* (fetch.sh, mkinitramfs.sh);
# /opt/mtp/bin/mtp-client is bench/mtp-client.c when the host could build it.
MTP_BIN=/opt/mtp/bin
MTP_ID=1d6b:0100 # serve-mtp's VID:PID (Linux Foundation, "PTP Gadget")

mtp_need_tools() {
    [ -x "$MTP_BIN/mtp-detect" ] || skip "libmtp's mtp-tools are not in the guest (see fetch.sh)"
}

# mtp TOOL ARGS... — run mtp-TOOL with a time limit
mtp() {
    _mt=$1
    shift
    echo "+ mtp-$_mt $*" >&2
    LANG=C.UTF-8 timeout 120 "$MTP_BIN/mtp-$_mt" "$@" >mtp-out.txt 2>mtp-err.txt
    _mrc=$?
    # libmtp's chatter about unknown devices and locales, and progress bars
    grep -v '^Progress: ' mtp-out.txt
    grep -v -e 'UNKNOWN in libmtp' -e 'report this VID' -e 'UTF-8' -e 'diacritics' \
        -e 'switch your locale' mtp-err.txt >&2
    return $_mrc
}

# mtp_make_tree DIR — files and folders with odd names, a file of exactly
# 512 bytes (its data phase ends with a ZLP), an empty one, a symlink that
# points out (never shown)
mtp_make_tree() {
    rm -rf "$1" # /tmp is shared by all cases
    mkdir -p "$1/Music/deep" "$1/with space"
    head -c 1500000 /dev/urandom >"$1/big.bin"
    head -c 500 /dev/urandom >"$1/exact512.bin" # 500 + 12-byte header = 512
    echo hello >"$1/Music/hello.txt"
    echo deep >"$1/Music/deep/deep.txt"
    printf 'x' >"$1/with space/é ü – ☃.txt"
    : >"$1/empty.txt"
    ln -s /etc/passwd "$1/link-out"
    ln -s / "$1/root-link"
    mtp_own "$1"
}

# mtp_own DIR — the folder belongs to the user serve-mtp runs as: started as
# root it becomes "usbip" or, where there is none (this guest), nobody
mtp_own() { chown -R -h 65534:65534 "$1"; }

# mtp_serve DIR [ARGS...] — serve-mtp on port 3240 in the background
mtp_serve() {
    _ms_dir=$1
    shift
    echo "+ usbip serve-mtp --dir $_ms_dir $*"
    _dbg=--debug # every operation in serve-mtp.log; MTP_SERVE_QUIET=1 for timings
    [ -z "${MTP_SERVE_QUIET:-}" ] || _dbg=
    mtp_own "${_ms_dir%%:*}"
    for _ma in "$@"; do [ -d "${_ma%%:*}" ] && mtp_own "${_ma%%:*}"; done
    # shellcheck disable=SC2086
    # on usbipd's port, as the cases attach it (serve-mtp's own default is 3242)
    usbip $_dbg --tcp-port 3240 serve-mtp --dir "$_ms_dir" "$@" >serve-mtp.log 2>&1 &
    MTP_SERVE_PID=$!
    must_wait 10 "serve-mtp listening on 3240" tcp_listening 3240
}

# mtp_dump — on the way out of a failed case: what serve-mtp and the tools said
mtp_dump() {
    for _f in serve-mtp.log folders.txt files.txt files.err; do
        [ -s "$_f" ] || continue
        echo "--- $_f (last lines)"
        tail -n 30 "$_f"
    done
}

# mtp_usbfs_ready BUSID — its /dev/bus/usb node exists
mtp_usbfs_ready() {
    _bn=$(cat "/sys/bus/usb/devices/$1/busnum" 2>/dev/null) || return 1
    _dn=$(cat "/sys/bus/usb/devices/$1/devnum" 2>/dev/null) || return 1
    [ -c "/dev/bus/usb/$(printf %03d "$_bn")/$(printf %03d "$_dn")" ]
}

# mtp_wait_device [VID:PID] — the MTP device is on vhci_hcd and usable; sets MTP_BUSID
mtp_wait_device() {
    must_wait 30 "the MTP device ${1:-$MTP_ID} on vhci_hcd" usb_busid_vhci "${1:-$MTP_ID}"
    MTP_BUSID=$(usb_busid_vhci "${1:-$MTP_ID}")
    must_wait 10 "its usbfs node" mtp_usbfs_ready "$MTP_BUSID"
    MTP_DEVICE=$(cat "/sys/bus/usb/devices/$MTP_BUSID/busnum"):$(cat "/sys/bus/usb/devices/$MTP_BUSID/devnum")
    export MTP_DEVICE # for mtp-client when several MTP devices are there
    log "MTP device on vhci: $MTP_BUSID ($(cat "/sys/bus/usb/devices/$MTP_BUSID/product" 2>/dev/null))"
}

# mtp_file_id NAME LISTING — the id of the file called NAME in mtp-files output
mtp_file_id() {
    awk -v n="$1" '/^File ID:/ { id = $3 }
        /^ *Filename: / { s = $0; sub(/^ *Filename: /, "", s); if (s == n) { print id; f = 1; exit } }
        END { exit !f }' "$2"
}

# mtp_folder_id NAME LISTING — the id of folder NAME in mtp-folders output ("ID<tab>NAME")
mtp_folder_id() {
    awk -v n="$1" '{ id = $1; s = $0; sub(/^[0-9]+[ \t]+/, "", s); if (s == n) { print id; f = 1; exit } }
        END { exit !f }' "$2"
}

# mtp_get_check NAME LISTING SRC — fetch NAME and compare with SRC by sha256
mtp_get_check() {
    _id=$(mtp_file_id "$1" "$2") || fail "'$1' is not in the listing"
    rm -f got.bin
    must mtp getfile "$_id" got.bin
    if [ -f "$3" ]; then _want=$(sha256sum <"$3" | cut -d' ' -f1); else _want=$3; fi
    [ "$(sha256sum <got.bin | cut -d' ' -f1)" = "$_want" ] ||
        fail "'$1' came back different (sha256)"
    log "got '$1' back: $(wc -c <got.bin) bytes, same sha256"
}

# mtp_ref_sum NAME — sha256 of NAME from the reference tree's SHA256SUMS
mtp_ref_sum() { awk -v n="$1" '{ f = $0; sub(/^[0-9a-f]+  /, "", f); sub(/.*\//, "", f); if (f == n) { print $1; exit } }' ref-sums.txt; }

# mtp_scenario DIR — the common client scenario against a device serving DIR;
# with DIR empty, a device whose folder the guest cannot see (QEMU's
# usb-mtp, the reference): the expected sums come from the SHA256SUMS file
# in its folder, and the checks of the serving side are left out
mtp_scenario() {
    _dir=$1
    must mtp detect >detect.txt 2>&1
    grep -q "Model: serve-mtp" detect.txt || grep -q "Model: " detect.txt || fail "mtp-detect could not open the device"
    must mtp files >files.txt 2>files.err
    grep -q 'Filename: big.bin' files.txt || fail "big.bin not listed"
    grep -q 'Filename: deep.txt' files.txt || fail "a file two folders down is not listed"
    if ! grep -q 'Filename: é ü – ☃.txt' files.txt; then
        # QEMU's usb-mtp converts names with the C locale: it lists this one as "Oops"
        [ -z "$_dir" ] || fail "the file with a non-ASCII name is not listed"
        log "reference device: the non-ASCII name is listed as '$(grep -o 'Filename: Oops' files.txt)'"
    fi
    grep -q 'Filename: link-out' files.txt && fail "a symlink pointing out is listed"
    must mtp folders >folders.txt 2>&1
    grep -q 'with space' folders.txt || fail "folder 'with space' not listed"
    if [ -n "$_dir" ]; then
        mtp_get_check big.bin files.txt "$_dir/big.bin"
        mtp_get_check exact512.bin files.txt "$_dir/exact512.bin"
        mtp_get_check empty.txt files.txt "$_dir/empty.txt"
    else
        must mtp getfile "$(mtp_file_id SHA256SUMS files.txt)" ref-sums.txt
        for _f in big.bin exact512.bin empty.txt; do
            mtp_get_check "$_f" files.txt "$(mtp_ref_sum "$_f")"
        done
    fi

    # send a file into Music/
    head -c 777777 /dev/urandom >sent.bin
    must mtp sendfile sent.bin /Music
    if [ -n "$_dir" ] && [ -d "$_dir/Music" ]; then
        cmp sent.bin "$_dir/Music/sent.bin" || fail "the sent file differs on the serving side"
    fi
    must mtp files >files2.txt 2>/dev/null
    mtp_get_check sent.bin files2.txt sent.bin

    # make a folder at the top
    must mtp newfolder NewFolder 0 0
    must mtp folders >folders2.txt 2>&1
    grep -q 'NewFolder' folders2.txt || fail "the new folder is not listed"
    [ -z "$_dir" ] || [ -d "$_dir/NewFolder" ] || fail "NewFolder was not made on the serving side"

    # delete a file (handles from a fresh listing: QEMU's device renumbers)
    must mtp files >files2b.txt 2>/dev/null
    _id=$(mtp_file_id hello.txt files2b.txt) || fail "hello.txt not listed"
    must mtp delfile -n "$_id"
    must mtp files >files3.txt 2>/dev/null
    grep -q 'Filename: hello.txt' files3.txt && fail "hello.txt is still listed after delete"
    [ -z "$_dir" ] || [ ! -e "$_dir/Music/hello.txt" ] || fail "hello.txt still exists"

    # rename (no mtp-tool does it: bench/mtp-client.c, with libmtp; QEMU's
    # usb-mtp has no SetObjectPropValue)
    if [ -z "$_dir" ]; then
        log "rename: not offered by the reference device"
    elif [ -x "$MTP_BIN/mtp-client" ]; then
        must timeout 120 "$MTP_BIN/mtp-client" rename big.bin renamed.bin
        must mtp files >files4.txt 2>/dev/null
        grep -q 'Filename: renamed.bin' files4.txt || fail "the renamed file is not listed"
        [ -z "$_dir" ] || [ -e "$_dir/renamed.bin" ] || fail "renamed.bin not on the serving side"
        must timeout 120 "$MTP_BIN/mtp-client" rename renamed.bin big.bin
    else
        log "rename: skipped (mtp-client was not built on the host: libmtp-dev)"
    fi

    # a change under DIR while attached shows up in the next listing
    if [ -n "$_dir" ]; then
        echo "made behind the client's back" >"$_dir/Music/from-outside.txt"
        rm -f "$_dir/empty.txt"
        must mtp files >files5.txt 2>/dev/null
        grep -q 'Filename: from-outside.txt' files5.txt || fail "a file made under DIR is not listed"
        grep -q 'Filename: empty.txt' files5.txt && fail "a file removed under DIR is still listed"
        mtp_get_check from-outside.txt files5.txt "$_dir/Music/from-outside.txt"
    fi
    return 0
}

# two_nodes — the firewall cases' network: namespaces devnode (10.99.0.1,
# veth vdev) and appnode (10.99.0.2, veth vapp), joined by a veth pair, and
# a firewall on devnode that lets no connection in (a SYN without ACK is
# dropped; replies to its own connections pass).
two_nodes() {
    must ip netns add devnode
    must ip netns add appnode
    must ip link add vdev type veth peer name vapp
    must ip link set vdev netns devnode
    must ip link set vapp netns appnode
    must ip netns exec devnode ip addr add 10.99.0.1/24 dev vdev
    must ip netns exec appnode ip addr add 10.99.0.2/24 dev vapp
    for _ns in devnode appnode; do must ip netns exec $_ns ip link set lo up; done
    must ip netns exec devnode ip link set vdev up
    must ip netns exec appnode ip link set vapp up
    must_wait 10 "the veth link" ip netns exec appnode ping -c1 -W1 10.99.0.1
    must ip netns exec devnode nft add table inet fw
    must ip netns exec devnode nft add chain inet fw input '{ type filter hook input priority 0; policy accept; }'
    must ip netns exec devnode nft add rule inet fw input tcp flags '& (syn | ack) == syn' drop
}

# proxy_nodes — two_nodes and, between them, proxynode: Debian's tinyproxy's
# namespace, with a veth to each node, and a device node that may connect
# out only to the proxy's port (other TCP: a reset, counted; the rest dropped):
#   devnode 10.98.0.1 --- 10.98.0.2 proxynode 10.97.0.1 --- 10.97.0.2 appnode
#   devnode 10.99.0.1 ----------------(two_nodes)---------- 10.99.0.2 appnode
# proxynode reaches appnode's 10.99.0.2 through 10.97.0.2, so that the
# device node names the same server with and without the proxy. Sets $px.
proxy_nodes() {
    two_nodes
    must ip netns add proxynode
    must ip link add vdp type veth peer name vpd
    must ip link add vpa type veth peer name vap
    must ip link set vdp netns devnode
    must ip link set vpd netns proxynode
    must ip link set vpa netns proxynode
    must ip link set vap netns appnode
    must ip netns exec devnode ip addr add 10.98.0.1/24 dev vdp
    must ip netns exec proxynode ip addr add 10.98.0.2/24 dev vpd
    must ip netns exec proxynode ip addr add 10.97.0.1/24 dev vpa
    must ip netns exec appnode ip addr add 10.97.0.2/24 dev vap
    must ip netns exec devnode ip link set vdp up
    for _l in lo vpd vpa; do must ip netns exec proxynode ip link set $_l up; done
    must ip netns exec appnode ip link set vap up
    must ip netns exec proxynode ip route add 10.99.0.0/24 via 10.97.0.2
    must_wait 10 "the proxy's link to appnode" ip netns exec proxynode ping -c1 -W1 10.99.0.2
    must_wait 10 "the node's link to the proxy" ip netns exec devnode ping -c1 -W1 10.98.0.2
    must ip netns exec devnode nft add chain inet fw output '{ type filter hook output priority 0; policy accept; }'
    must ip netns exec devnode nft add rule inet fw output oifname lo accept
    must ip netns exec devnode nft add rule inet fw output ip daddr 10.98.0.2 tcp dport 3128 accept
    must ip netns exec devnode nft add rule inet fw output meta l4proto tcp counter reject with tcp reset
    must ip netns exec devnode nft add rule inet fw output drop
    px=http://10.98.0.2:3128
}

# proxy_refusals — TCP connections the device node's firewall has refused
proxy_refusals() { fw_out_refused devnode; }

# bg_ns NS PIDFILE CMD... — CMD in namespace NS in the background, its pid in
# PIDFILE; $! is what to wait for. (ip is a function here: $! alone would be
# the subshell's, and killing that would leave CMD running.)
bg_ns() {
    _ns=$1 _pf=$2
    shift 2
    rm -f "$_pf"
    ip netns exec "$_ns" sh -c 'echo $$ >"$0"; exec "$@"' "$_pf" "$@" &
    wait_for 10 test -s "$_pf" || fail "$1 did not start in $_ns"
}

# proxy_start [CONFIG-LINE] — tinyproxy in proxynode on 10.98.0.2:3128,
# CONNECT to ports 3240 and 443 only (Debian's own config allows 443 and
# 563: real proxies are that narrow); logs to tinyproxy.log
proxy_start() {
    {
        echo "Port 3128"
        echo "Listen 10.98.0.2"
        echo "Timeout 600"
        echo "LogLevel Info"
        echo "MaxClients 20"
        echo "ConnectPort 3240"
        echo "ConnectPort 443"
        [ -z "${1:-}" ] || echo "$1"
    } >tinyproxy.conf
    : >tinyproxy.log
    bg_ns proxynode tinyproxy.pid tinyproxy -d -c tinyproxy.conf >>tinyproxy.log 2>&1
    proxy_job=$!
    wait_for 10 grep -q "Accepting connections" tinyproxy.log ||
        fail "tinyproxy did not start: $(tail -5 tinyproxy.log)"
}

# proxy_stop — stop tinyproxy and wait until it is gone (it takes seconds)
proxy_stop() {
    kill "$(cat tinyproxy.pid)"
    wait "$proxy_job" 2>/dev/null
    cat tinyproxy.log >>tinyproxy.all
}

# proxy_tunnels_to HOST — how many tunnels the running tinyproxy opened to HOST
proxy_tunnels_to() { grep -c "Established connection to host \"$1\"" tinyproxy.log; }

# ------------------------------------------------------------------ proxies and DNS (/opt/net)
# Debian's nginx, haproxy, tinyproxy, dnsmasq and curl (mkinitramfs.sh puts
# them in /opt/net/bin with their libraries) and tests/tools/ws_echo. Each
# start_* helper runs its server in a namespace, in the background, with
# its config and log in the case's directory (NAME-PORT.conf, NAME-PORT.log),
# waits until the port listens there, and on failure ends the case with the
# log's last lines; net_logs prints them all (for a failing case).
# Their pids: $NET_PID (the last one started), and NAME-PORT.pid.
case ":$PATH:" in *:/opt/net/bin:*) ;; *) PATH=$PATH:/opt/net/bin ;; esac

# net_need TOOL... — skip the case unless every TOOL is in the guest
net_need() {
    for _t; do
        command -v "$_t" >/dev/null 2>&1 || skip "$_t is not in the guest (Debian's package not fetched)"
    done
}

# ns_tcp_listening NS PORT — a socket listens on TCP PORT in namespace NS
ns_tcp_listening() {
    _hex=$(printf '%04X' "$2")
    ip netns exec "$1" cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$_hex" '
        { n = split($2, a, ":"); if (a[n] == p && $4 == "0A") f = 1 } END { exit !f }'
}

# ns_udp_bound NS PORT — a UDP socket is bound to PORT in namespace NS
ns_udp_bound() {
    _hex=$(printf '%04X' "$2")
    ip netns exec "$1" cat /proc/net/udp /proc/net/udp6 2>/dev/null | awk -v p="$_hex" '
        { n = split($2, a, ":"); if (a[n] == p) f = 1 } END { exit !f }'
}

# _net_started NAME-PORT NS PORT CHECK — wait for CHECK NS PORT, or fail
# with the log's tail; records the pid file of bg_ns
_net_started() {
    NET_PID=$(cat "$1.pid")
    wait_for 15 "$4" "$2" "$3" ||
        fail "$1 is not listening in $2 after 15 s: $(tail -n 15 "$1.log" 2>/dev/null)"
}

# net_logs — the last lines of every log the start_* helpers wrote
net_logs() {
    for _l in nginx-*.log nginx-*.error.log haproxy-*.log tinyproxy-*.log dnsmasq-*.log ws_echo-*.log; do
        [ -s "$_l" ] || continue
        echo "--- $_l"
        tail -n 30 "$_l"
    done
}

# net_pki [NAME] — ./pki: make_certs' PKI plus a server certificate for
# NAME (default app.test; pki/NAME.pem, .key, .both.pem), made once per case
net_pki() {
    _pn=${1:-app.test}
    [ -s pki/ca.pem ] || make_certs pki || fail "make_certs failed"
    [ -s "pki/$_pn.pem" ] || make_name_cert pki "$_pn" || fail "no certificate for $_pn"
}

# ns_hosts_add NS ADDR NAME... — NAME resolves to ADDR in namespace NS
# (/etc/netns/NS/hosts, bound over /etc/hosts by ip netns exec; /init
# removes /etc/netns after the case)
ns_hosts_add() {
    _ns=$1
    shift
    mkdir -p "/etc/netns/$_ns"
    [ -e "/etc/netns/$_ns/hosts" ] || cp /etc/hosts "/etc/netns/$_ns/hosts"
    echo "$*" >>"/etc/netns/$_ns/hosts"
}

# ns_resolver NS ADDR — namespace NS asks the DNS server at ADDR
# (/etc/netns/NS/resolv.conf; its nsswitch.conf: hosts from files, then DNS)
ns_resolver() {
    mkdir -p "/etc/netns/$1"
    printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$2" >"/etc/netns/$1/resolv.conf"
    sed 's/^hosts:.*/hosts: files dns/' /etc/nsswitch.conf >"/etc/netns/$1/nsswitch.conf"
}

# start_ws_echo NS ADDR PORT — tests/tools/ws_echo (101 to a WebSocket
# upgrade, then echoes raw bytes until "QUIT"; 200 "ws_echo PATH" to other
# requests) on ADDR:PORT in NS; each request is a line in ws_echo-PORT.log
start_ws_echo() {
    net_need ws_echo
    bg_ns "$1" "ws_echo-$3.pid" ws_echo "$3" "$2" >/dev/null 2>"ws_echo-$3.log"
    _net_started "ws_echo-$3" "$1" "$3" ns_tcp_listening
}

# start_nginx_ws NS LISTEN_PORT UPSTREAM [READ_TIMEOUT] — nginx in NS: TLS
# on LISTEN_PORT (all addresses) with pki/app.test.pem (net_pki), `location
# /usbip` proxied to http://UPSTREAM (ADDR:PORT) with HTTP/1.1 and the
# Upgrade/Connection headers passed on (WebSocket), proxy_read_timeout and
# proxy_send_timeout READ_TIMEOUT (default 60s, nginx's own default);
# every other path is 404. $NGINX_SERVER_EXTRA: more lines in its server
# block (e.g. ssl_verify_client), $NGINX_LOCATION_EXTRA in the location.
# Logs: nginx-PORT.log (errors, level info) and nginx-PORT.access.log.
start_nginx_ws() {
    net_need nginx
    net_pki app.test
    _ng=nginx-$2 _dir=$PWD
    mkdir -p "$_ng.tmp"
    cat >"$_ng.conf" <<NGINX
daemon off;
master_process on;
worker_processes 1;
user nobody nogroup;
pid $_dir/$_ng.nginx.pid;
error_log $_dir/$_ng.log info;
events { worker_connections 256; }
http {
    access_log $_dir/$_ng.access.log;
    client_body_temp_path $_dir/$_ng.tmp/body;
    proxy_temp_path $_dir/$_ng.tmp/proxy;
    fastcgi_temp_path $_dir/$_ng.tmp/fastcgi;
    uwsgi_temp_path $_dir/$_ng.tmp/uwsgi;
    scgi_temp_path $_dir/$_ng.tmp/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen $2 ssl;
        listen [::]:$2 ssl;
        server_name app.test;
        ssl_certificate $_dir/pki/app.test.pem;
        ssl_certificate_key $_dir/pki/app.test.key;
        ${NGINX_SERVER_EXTRA:-}
        location /usbip {
            proxy_pass http://$3;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_read_timeout ${4:-60s};
            proxy_send_timeout ${4:-60s};
            ${NGINX_LOCATION_EXTRA:-}
        }
        location / { return 404; }
    }
}
NGINX
    bg_ns "$1" "$_ng.pid" nginx -p "$_dir/$_ng.tmp" -e "$_dir/$_ng.log" -c "$_dir/$_ng.conf" \
        >>"$_ng.log" 2>&1
    _net_started "$_ng" "$1" "$2" ns_tcp_listening
}

# start_haproxy_ws NS LISTEN_PORT UPSTREAM [TUNNEL_TIMEOUT] — HAProxy in NS:
# TLS on LISTEN_PORT with pki/app.test.both.pem (net_pki), HTTP mode,
# paths under /usbip to UPSTREAM (ADDR:PORT), others 404; a WebSocket
# upgrade becomes a tunnel (HAProxy does that by itself in HTTP mode) whose
# idle limit is `timeout tunnel` TUNNEL_TIMEOUT (default 60s).
# $HAPROXY_FRONTEND_EXTRA: more lines in its frontend. Log: haproxy-PORT.log.
start_haproxy_ws() {
    net_need haproxy
    net_pki app.test
    _hp=haproxy-$2
    cat >"$_hp.conf" <<HAPROXY
global
    log stderr format raw local0 info
    maxconn 256
defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout tunnel ${4:-60s}
frontend app
    bind :::$2 v4v6 ssl crt $PWD/pki/app.test.both.pem
    http-request deny deny_status 404 unless { path_beg /usbip }
    ${HAPROXY_FRONTEND_EXTRA:-}
    default_backend usbip
backend usbip
    server upstream $3
HAPROXY
    bg_ns "$1" "$_hp.pid" haproxy -db -f "$PWD/$_hp.conf" >>"$_hp.log" 2>&1
    _net_started "$_hp" "$1" "$2" ns_tcp_listening
}

# start_tinyproxy NS PORT [CONNECT_PORT...] — tinyproxy in NS on PORT (all
# addresses), CONNECT allowed to the CONNECT_PORTs only (default 443).
# $TINYPROXY_EXTRA: more config lines. Log: tinyproxy-PORT.log.
start_tinyproxy() {
    net_need tinyproxy
    _tp=tinyproxy-$2 _ns=$1 _port=$2
    shift 2
    {
        echo "Port $_port"
        echo "Timeout 600"
        echo "LogLevel Info"
        echo "MaxClients 20"
        [ $# -gt 0 ] || set -- 443
        for _cp; do echo "ConnectPort $_cp"; done
        [ -z "${TINYPROXY_EXTRA:-}" ] || echo "$TINYPROXY_EXTRA"
    } >"$_tp.conf"
    bg_ns "$_ns" "$_tp.pid" tinyproxy -d -c "$_tp.conf" >>"$_tp.log" 2>&1
    _net_started "$_tp" "$_ns" "$_port" ns_tcp_listening
}

# start_dnsmasq_srv NS ADDR RECORD... — dnsmasq in NS, answering on ADDR
# port 53 for the given names only (no upstream, no /etc/hosts: any other
# name is NXDOMAIN, a type a name has not got no data), and NS's
# own resolver pointed at it (ns_resolver; use ns_resolver for the other
# namespaces). A RECORD is
#   _service._proto.name,target,port[,priority[,weight]]   an SRV record
#   name,address                                             A or AAAA
#   --option=value                                           any dnsmasq option
# e.g. start_dnsmasq_srv appnode 10.99.0.2 \
#        _usbipa._tcp.pool.test,app1.pool.test,3240,10,1 app1.pool.test,10.99.0.2
# Every query is logged in dnsmasq-NS.log.
start_dnsmasq_srv() {
    net_need dnsmasq
    _dn=dnsmasq-$1 _ns=$1 _addr=$2
    shift 2
    for _r; do
        case $_r in
        --*) echo "${_r#--}" ;;
        _*) echo "srv-host=$_r" ;;
        *) echo "host-record=$_r" ;;
        esac
    done >"$_dn.conf"
    bg_ns "$_ns" "$_dn.pid" dnsmasq --keep-in-foreground --conf-file="$PWD/$_dn.conf" \
        --no-resolv --no-hosts --no-poll --local=/#/ --bind-interfaces --listen-address="$_addr" \
        --user=nobody --group=nogroup --pid-file= \
        --log-queries --log-facility=- >>"$_dn.log" 2>&1
    _net_started "$_dn" "$_ns" 53 ns_udp_bound
    ns_resolver "$_ns" "$_addr"
}

# net_stop NAME-PORT NS PORT — stop what a start_* helper started (its pid
# file NAME-PORT.pid) and wait until PORT no longer listens in NS
net_stop() {
    kill "$(cat "$1.pid")" 2>/dev/null
    must_wait 15 "$1 gone" not ns_tcp_listening "$2" "$3"
}

# disk_sample BUSID — 64 bytes of the local disk's data (2 MiB in), as hex,
# to look for in captures
disk_sample() {
    _d=$(disk_of_busid "$1") || return 1
    dd if="/dev/$_d" bs=64 skip=32768 count=1 2>/dev/null | od -An -v -tx1 | tr -d ' \n'
}

# ns_capture_read NS PORT — reads 4 MiB of the vhci disk ($vdisk: after
# vhci_disk_intact) through vhci-hcd, bypassing the page cache, while TCP
# PORT is captured on NS's lo; the capture is cap-PORT.pcap
ns_capture_read() {
    ip netns exec "$1" tcpdump -Z root -i lo -U -s 0 -w "cap-$2.pcap" "tcp port $2" \
        >"tcpdump-$2.log" 2>&1 &
    _tp=$!
    must_wait 10 "tcpdump listening on port $2" grep -q "listening on" "tcpdump-$2.log"
    dd if="/dev/$vdisk" of=/dev/null bs=65536 count=64 iflag=direct 2>/dev/null ||
        fail "reading through vhci failed"
    kill "$_tp"
    wait "$_tp" 2>/dev/null
    [ -s "cap-$2.pcap" ] || fail "the capture on port $2 is empty"
}

# pcap_has FILE HEX — the capture holds those bytes
pcap_has() { od -An -v -tx1 "$1" | tr -d ' \n' | grep -q "$2"; }

# ws_probe NS PATH S_CLIENT_ARG... — from NS, a WebSocket upgrade of PATH
# (Host app.test) over TLS with `openssl s_client S_CLIENT_ARG...` (e.g.
# -connect app.test:443 -CAfile pki/ca.pem [-proxy HOST:PORT]), then, once
# "101" is back, a line of bytes that ws_echo behind the proxy must echo.
# 0 when both came back; the exchange in ws-probe.out (stderr ws-probe.err).
ws_probe() {
    _wns=$1 _wpath=$2
    shift 2
    rm -f ws-probe.in ws-probe.out
    mkfifo ws-probe.in
    ip netns exec "$_wns" timeout 30 openssl s_client -quiet -verify_return_error \
        -servername app.test "$@" <ws-probe.in >ws-probe.out 2>ws-probe.err &
    _wjob=$!
    exec 3>ws-probe.in
    printf 'GET %s HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' "$_wpath" >&3
    _wrc=1
    if wait_for 15 grep -q "^HTTP/1.1 101" ws-probe.out; then
        # then the echo, and the accept value of RFC 6455's example key (header
        # names in any case: HAProxy writes them in lower case)
        printf 'echo-%s QUIT\n' "$$" >&3
        wait_for 15 grep -q "^echo-$$ QUIT" ws-probe.out &&
            grep -qi "^Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ws-probe.out && _wrc=0
    fi
    exec 3>&-
    wait "$_wjob"
    return $_wrc
}

# fw_out_only NS PORT... — namespace NS may open TCP connections only to
# the PORTs (and anything on lo); other TCP is refused with a reset (counted:
# fw_out_refused NS), anything else dropped but for UDP to a PORT given as
# udp:N (e.g. fw_out_only devnode 443 udp:53). Replies to connections made
# to NS pass. Adds to table inet fw (two_nodes's) or makes it.
fw_out_only() {
    _ns=$1
    shift
    must ip netns exec "$_ns" nft add table inet fw
    must ip netns exec "$_ns" nft add chain inet fw output '{ type filter hook output priority 0; policy accept; }'
    must ip netns exec "$_ns" nft add rule inet fw output oifname lo accept
    must ip netns exec "$_ns" nft add rule inet fw output ct state established,related accept
    for _p; do
        case $_p in
        udp:*) must ip netns exec "$_ns" nft add rule inet fw output udp dport "${_p#udp:}" accept ;;
        *) must ip netns exec "$_ns" nft add rule inet fw output tcp dport "$_p" accept ;;
        esac
    done
    must ip netns exec "$_ns" nft add rule inet fw output meta l4proto tcp counter reject with tcp reset
    must ip netns exec "$_ns" nft add rule inet fw output drop
}

# fw_out_refused NS — TCP connections fw_out_only (or proxy_nodes) has refused in NS
fw_out_refused() {
    ip netns exec "$1" nft list chain inet fw output |
        sed -n 's/.*counter packets \([0-9]*\) .*reject.*/\1/p'
}

# ------------------------------------------------------------------ TLS
# make_certs DIR: a fresh test PKI (/tests/shared.sh)

# ------------------------------------------------------------------ vUDC gadgets
# usbip-vudc is a UDC (a USB device controller) whose USB side is a USB/IP
# connection: a gadget made in configfs and bound to it is what
# `usbipd --device` exports.  Its UDC and platform device are both named
# usbip-vudc.N (N = 0 .. num-1, module parameter num, default 1); the USB/IP
# files (usbip_status, usbip_sockfd, dev_desc) are on the platform device.
CONFIGFS_GADGETS=/sys/kernel/config/usb_gadget
VUDC_GADGET_ID=1d6b:0104 # Linux Foundation "Multifunction Composite Gadget"

# gadget_modules — load usbip-vudc, libcomposite and the mass-storage
# function; mount configfs if it is not mounted yet.  1 if any is missing.
gadget_modules() {
    for _m in usbip-vudc libcomposite usb_f_mass_storage; do
        modprobe "$_m" || return 1
    done
    if [ ! -d "$CONFIGFS_GADGETS" ]; then
        mount -t configfs none /sys/kernel/config || return 1
    fi
    [ -d "$CONFIGFS_GADGETS" ]
}

# vudc_udc [N] — the name of the Nth (default first) usbip-vudc UDC
vudc_udc() {
    _vn=${1:-0}
    for _u in /sys/class/udc/*; do
        grep -qx 'USB_UDC_NAME=usbip-vudc' "$_u/uevent" 2>/dev/null || continue
        [ "$_vn" -eq 0 ] && { echo "${_u##*/}"; return 0; }
        _vn=$((_vn - 1))
    done
    return 1
}

# vudc_platform UDC — the platform device behind the UDC (its sysfs path)
vudc_platform() { readlink -f "/sys/class/udc/$1/device"; }

# vudc_has_gadget UDC — a gadget driver is bound to the UDC
vudc_has_gadget() { [ -n "$(cat "/sys/class/udc/$1/function" 2>/dev/null)" ]; }

# vudc_status_is PLATFORM-PATH N — usbip_status is N (1 available, 2 used, 3 error)
vudc_status_is() { [ "$(cat "$1/usbip_status" 2>/dev/null)" = "$2" ]; }

# vudc_dev_desc_hex PLATFORM-PATH — the gadget's device descriptor (dev_desc,
# 18 bytes) as hex bytes on one line; fails while no gadget is bound
vudc_dev_desc_hex() {
    _vd=$(od -An -tx1 -v "$1/dev_desc") || return 1
    [ -n "$_vd" ] || return 1
    # shellcheck disable=SC2086 # word splitting joins the bytes with single spaces
    echo $_vd
}

# _gadget_write VALUE FILE — one configfs attribute write, or say what failed
_gadget_write() { echo "$1" >"$2" || { echo "cannot write '$1' to $2" >&2; return 1; }; }

# gadget_create_mass_storage NAME FILE VID:PID SERIAL — a gadget with one
# configuration holding one mass_storage function whose LUN 0 is FILE
gadget_create_mass_storage() {
    _gd=$CONFIGFS_GADGETS/$1
    mkdir "$_gd" || return 1
    _gadget_write "0x${3%%:*}" "$_gd/idVendor" || return 1
    _gadget_write "0x${3##*:}" "$_gd/idProduct" || return 1
    _gadget_write 0x0100 "$_gd/bcdDevice" || return 1
    _gadget_write 0x0200 "$_gd/bcdUSB" || return 1
    mkdir "$_gd/strings/0x409" || return 1
    _gadget_write "$4" "$_gd/strings/0x409/serialnumber" || return 1
    _gadget_write usbip-ng "$_gd/strings/0x409/manufacturer" || return 1
    _gadget_write "vmtest mass storage" "$_gd/strings/0x409/product" || return 1
    mkdir "$_gd/configs/c.1" "$_gd/configs/c.1/strings/0x409" || return 1
    _gadget_write "mass storage" "$_gd/configs/c.1/strings/0x409/configuration" || return 1
    _gadget_write 100 "$_gd/configs/c.1/MaxPower" || return 1
    mkdir "$_gd/functions/mass_storage.0" || return 1
    _gadget_write "$2" "$_gd/functions/mass_storage.0/lun.0/file" || return 1
    ln -s "$_gd/functions/mass_storage.0" "$_gd/configs/c.1/" || return 1
}

# gadget_bind NAME UDC — bind the gadget to a UDC (it appears on that UDC's bus)
gadget_bind() { _gadget_write "$2" "$CONFIGFS_GADGETS/$1/UDC"; }

# gadget_remove NAME — unbind it from its UDC and remove it from configfs,
# innermost first: function links in the configurations, the configurations'
# strings, the configurations, the functions, the strings, the gadget.
# Succeeds when there is no such gadget.
gadget_remove() {
    _gd=$CONFIGFS_GADGETS/$1
    [ -d "$_gd" ] || return 0
    if [ -n "$(cat "$_gd/UDC" 2>/dev/null)" ]; then
        _gadget_write "" "$_gd/UDC" || return 1
    fi
    for _c in "$_gd"/configs/*; do
        [ -d "$_c" ] || continue
        for _l in "$_c"/*; do
            [ -L "$_l" ] && { rm -f "$_l" || return 1; }
        done
        for _s in "$_c"/strings/*; do
            [ -d "$_s" ] && { rmdir "$_s" || return 1; }
        done
        rmdir "$_c" || return 1
    done
    for _d in "$_gd"/functions/* "$_gd"/strings/*; do
        [ -d "$_d" ] && { rmdir "$_d" || return 1; }
    done
    rmdir "$_gd"
}

# ------------------------------------------------------------------ hot-plug
# Cases plug and unplug USB devices through QEMU's monitor while the guest
# runs, as a VM host's hot-plug scripts do: /dev/ttyS1 is a control channel
# to a relay on the host (vm_hotplug_relay in tests/vm/common.sh) which runs
#   device_add usb-storage|usb-hub|usb-kbd|usb-mouse|usb-tablet,bus=xhci.0,
#              port=P,id=hp...[,drive=hpdiskN][,serial=S][,removable=on|off]
#   device_del hp...
#   info usb
# and nothing else (ids must start with "hp"; port= is required and the
# first hub's ports 4.* are refused; drive= only names the spare drives).
# device_del answers once QEMU has let the device go (DEVICE_DELETED).
#
# QEMU's side (run.sh): xhci with 8 ports; the fixed devices on ports 1-4
# (disk 2-1, keyboard 1-2, tablet 1-3, the empty hub 1-4); the hot-plug hub
# "hphub" on port 5 = guest 1-5 (full speed: QEMU's usb-hub is a USB 1.1
# hub), its ports 5.1 .. 5.8 = guest 1-5.1 .. 1-5.8; root ports 6, 7, 8 are
# free (a usb-storage there is SuperSpeed, 2-6 .. 2-8).  Spare drives
# hpdisk1 hpdisk2 hpdisk3 ($VMTEST_HP_DRIVES), $VMTEST_HPDISK_BYTES each,
# sha256 in $VMTEST_HPDISK1_SHA256 .. (first 64 KiB zero, then random).
# A drive can be plugged once at a time (QEMU refuses a second user).
#
# After each case /init unplugs every hp* device still plugged and puts the
# hub back (qemu_hotplug_reset).  Not for concurrent use from several
# processes of a case at once beyond the lock qemu_monitor takes.
QEMU_CTL=${QEMU_CTL:-/dev/ttyS1}
QEMU_MONITOR_TIMEOUT=${QEMU_MONITOR_TIMEOUT:-30}
QEMU_HUB_ID=0409:55aa # usb-hub
QEMU_HP_HUB_ID=hphub
QEMU_HP_HUB_PORT=${VMTEST_HP_HUB_PORT:-5}
QEMU_HP_HUB_BUSID=1-$QEMU_HP_HUB_PORT
QEMU_HP_DRIVES=${VMTEST_HP_DRIVES:-}
HP_STATE=/run/vmtest-hotplug # lock, request counter, ports of plugged ids

_hp_now() { read -r _hn _ </proc/uptime; echo "${_hn%.*}"; } # seconds
_hp_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; } # centiseconds
_hp_fmt() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }  # centiseconds as s

# qemu_monitor_available — run.sh gave the guest the control channel (a
# 16550 on ttyS1) and spare drives
qemu_monitor_available() {
    [ -c "$QEMU_CTL" ] && [ -n "$QEMU_HP_DRIVES" ] &&
        grep -q "^${QEMU_CTL#/dev/ttyS}: uart:16550" /proc/tty/driver/serial 2>/dev/null
}

_hp_lock() {
    mkdir -p "$HP_STATE" || return 1
    _hl_n=$((QEMU_MONITOR_TIMEOUT * 10))
    until mkdir "$HP_STATE/lock" 2>/dev/null; do
        _hl_n=$((_hl_n - 1))
        [ "$_hl_n" -gt 0 ] || { echo "qemu_monitor: $HP_STATE/lock held for ${QEMU_MONITOR_TIMEOUT}s" >&2; return 1; }
        sleep 0.1
    done
}
_hp_unlock() { rmdir "$HP_STATE/lock" 2>/dev/null; }

# qemu_monitor CMD... — run CMD on QEMU's monitor (through the host's relay);
# waits for the answer at most $QEMU_MONITOR_TIMEOUT s.  Prints the
# monitor's text and returns 0, or prints it on stderr and returns non-zero:
# 1 the monitor refused (e.g. "Error: ..."), 2 the relay refused the command
# (or there is no channel), 124 no answer in time.
qemu_monitor() {
    qemu_monitor_available || { echo "qemu_monitor: no control channel to the host ($QEMU_CTL)" >&2; return 2; }
    _hp_lock || return 2
    _qm_seq=$(($(cat "$HP_STATE/seq" 2>/dev/null || echo 0) + 1))
    echo "$_qm_seq" >"$HP_STATE/seq"
    _qm_tok=g$$-$_qm_seq
    (
        exec 9<>"$QEMU_CTL" || exit 2
        stty raw -echo <&9 2>/dev/null
        _cr=$(printf '\r')
        printf 'REQ %s %s\n' "$_qm_tok" "$*" >&9
        _end=$(($(_hp_now) + QEMU_MONITOR_TIMEOUT))
        while :; do
            _left=$((_end - $(_hp_now)))
            [ "$_left" -gt 0 ] || { echo "no answer from the host within ${QEMU_MONITOR_TIMEOUT}s"; exit 124; }
            # shellcheck disable=SC3045 # busybox ash has read -t
            IFS= read -r -t "$_left" _l <&9 || continue
            _l=${_l%"$_cr"}
            case $_l in
            "OUT $_qm_tok "*) printf '%s\n' "${_l#"OUT $_qm_tok "}" ;;
            "END $_qm_tok "*) exit "${_l#"END $_qm_tok "}" ;;
            esac
        done
    ) >"$HP_STATE/out.$$" 2>&1
    _qm_rc=$?
    _hp_unlock
    if [ "$_qm_rc" = 0 ]; then
        cat "$HP_STATE/out.$$"
    else
        { echo "qemu_monitor $* (exit $_qm_rc):"; sed 's/^/  /' "$HP_STATE/out.$$"; } >&2
    fi
    rm -f "$HP_STATE/out.$$"
    return "$_qm_rc"
}

# qemu_usb_info — QEMU's USB devices, one "PORT ID" line each (ID "-" when
# the device has none), from `info usb`
qemu_usb_info() {
    _ui=$(qemu_monitor info usb) || return 1
    printf '%s\n' "$_ui" | awk '/Device .*, Port / {
        p = $0; sub(/.*, Port /, "", p); sub(/,.*/, "", p)
        id = "-"; if (match($0, /, ID: [^ ,]+/)) id = substr($0, RSTART + 6, RLENGTH - 6)
        print p, id }'
}

# qemu_port_busid PORT — the guest's busid of the device on QEMU's xhci port
# path PORT (5.1 -> 1-5.1; a SuperSpeed device on root port 6 -> 2-6); 1 if
# the guest has no device there
qemu_port_busid() {
    for _pb in "1-$1" "2-$1"; do
        [ -r "/sys/bus/usb/devices/$_pb/idVendor" ] && { echo "$_pb"; return 0; }
    done
    return 1
}

# qemu_hub_free_port [HUBPORT] — the first port behind the hub on QEMU port
# HUBPORT (default the hot-plug hub's) where neither QEMU nor the guest has a
# device, e.g. 5.1
# shellcheck disable=SC2120 # HUBPORT is for cases
qemu_hub_free_port() {
    _hf_hub=${1:-$QEMU_HP_HUB_PORT}
    _hf_used=$(qemu_usb_info) || return 1
    for _hf_n in 1 2 3 4 5 6 7 8; do
        printf '%s\n' "$_hf_used" | grep -q "^$_hf_hub\\.$_hf_n " && continue
        qemu_port_busid "$_hf_hub.$_hf_n" >/dev/null && continue
        echo "$_hf_hub.$_hf_n"
        return 0
    done
    return 1
}

_hp_has_driver() { [ -e "/sys/bus/usb/devices/$1/driver" ]; }
_hp_disk_ready() { _hd=$(disk_of_busid "$1") && disk_ready "$_hd"; }

# qemu_plug ID PORT DEVICE[,PROPS] — device_add DEVICE,bus=xhci.0,port=PORT,
# id=ID[,PROPS] and wait (30 s) until the guest has a device there with a
# driver.  Sets HP_BUSID (the guest's busid) and HP_CS (centiseconds from
# device_add to that).  Returns 1 with a message on failure.
qemu_plug() {
    _qp_id=$1 _qp_port=$2 _qp_dev=$3
    _qp_drv=${_qp_dev%%,*}
    _qp_cmd="$_qp_drv,bus=xhci.0,port=$_qp_port,id=$_qp_id${_qp_dev#"$_qp_drv"}"
    echo "+ qemu: device_add $_qp_cmd"
    HP_BUSID=
    if _qp_b=$(qemu_port_busid "$_qp_port"); then
        echo "qemu_plug: the guest has a device at port $_qp_port already ($_qp_b)" >&2
        return 1
    fi
    _qp_t0=$(_hp_cs)
    qemu_monitor device_add "$_qp_cmd" || return 1
    mkdir -p "$HP_STATE/dev" && echo "$_qp_port" >"$HP_STATE/dev/$_qp_id"
    wait_for 30 qemu_port_busid "$_qp_port" ||
        { echo "qemu_plug: $_qp_id: no device at port $_qp_port in the guest after 30 s" >&2; return 1; }
    HP_BUSID=$(qemu_port_busid "$_qp_port")
    wait_for 30 _hp_has_driver "$HP_BUSID" ||
        { echo "qemu_plug: $_qp_id: $HP_BUSID has no driver after 30 s" >&2; return 1; }
    HP_CS=$(($(_hp_cs) - _qp_t0))
    log "plugged $_qp_id at QEMU port $_qp_port: $HP_BUSID ($(usb_driver "$HP_BUSID")) after $(_hp_fmt "$HP_CS") s"
}

# qemu_plug_disk ID SERIAL [PORT [DRIVE]] — plug spare drive DRIVE (default:
# ID, so ID is one of hpdisk1 ..) as a usb-storage disk with USB serial
# SERIAL at QEMU port PORT (default: the first free port of the hot-plug
# hub); wait until the guest has it as a ready disk.  Sets HP_BUSID, HP_DISK
# (sdX), HP_CS (device_add to disk ready, centiseconds).  Call it directly,
# not in $(...), or the variables are lost.
qemu_plug_disk() {
    _pd_id=$1 _pd_serial=$2 _pd_port=${3:-} _pd_drive=${4:-$1}
    HP_DISK=
    if [ -z "$_pd_port" ]; then
        # shellcheck disable=SC2119
        _pd_port=$(qemu_hub_free_port) || { echo "qemu_plug_disk: no free port on the hot-plug hub" >&2; return 1; }
    fi
    qemu_plug "$_pd_id" "$_pd_port" "usb-storage,drive=$_pd_drive,serial=$_pd_serial" || return 1
    _pd_s=$(cat "/sys/bus/usb/devices/$HP_BUSID/serial" 2>/dev/null)
    [ "$_pd_s" = "$_pd_serial" ] ||
        { echo "qemu_plug_disk: $HP_BUSID has serial '$_pd_s', want '$_pd_serial'" >&2; return 1; }
    wait_for 30 _hp_disk_ready "$HP_BUSID" ||
        { echo "qemu_plug_disk: no ready disk behind $HP_BUSID after 30 s" >&2; return 1; }
    HP_DISK=$(disk_of_busid "$HP_BUSID")
    HP_CS=$(($(_hp_cs) - _qp_t0))
    log "$_pd_id: drive $_pd_drive, serial $_pd_serial: $HP_DISK ready after $(_hp_fmt "$HP_CS") s"
}

# qemu_unplug ID — device_del ID and wait (30 s) until the guest has no
# device at its port any more.  Sets HP_CS (centiseconds).
qemu_unplug() {
    _pu_id=$1
    _pu_port=$(cat "$HP_STATE/dev/$_pu_id" 2>/dev/null) ||
        _pu_port=$(qemu_usb_info | awk -v id="$_pu_id" '$2 == id { print $1 }')
    echo "+ qemu: device_del $_pu_id"
    _pu_t0=$(_hp_cs)
    qemu_monitor device_del "$_pu_id" || return 1
    rm -f "$HP_STATE/dev/$_pu_id"
    [ -n "$_pu_port" ] || return 0
    for _pu_f in "$HP_STATE"/dev/*; do # devices behind an unplugged hub went too
        [ -e "$_pu_f" ] || continue
        case $(cat "$_pu_f") in "$_pu_port".*) rm -f "$_pu_f" ;; esac
    done
    wait_for 30 not qemu_port_busid "$_pu_port" ||
        { echo "qemu_unplug: the guest still has $(qemu_port_busid "$_pu_port") at port $_pu_port after 30 s" >&2; return 1; }
    HP_CS=$(($(_hp_cs) - _pu_t0))
    log "unplugged $_pu_id from QEMU port $_pu_port: gone from the guest after $(_hp_fmt "$HP_CS") s"
}

# qemu_unplug_all — unplug every hp* device QEMU has (deepest ports first)
# except the hot-plug hub, and put the hub back if it is gone
qemu_unplug_all() {
    _ua_info=$(qemu_usb_info) || return 1
    _ua_rc=0
    for _ua in $(printf '%s\n' "$_ua_info" | awk -v hub="$QEMU_HP_HUB_ID" '
            $2 ~ /^hp/ && $2 != hub { p = $1; print gsub(/\./, ".", p), $2 }' | sort -rn | cut -d' ' -f2); do
        qemu_unplug "$_ua" || _ua_rc=1
    done
    if ! printf '%s\n' "$_ua_info" | grep -q " $QEMU_HP_HUB_ID\$"; then
        qemu_plug "$QEMU_HP_HUB_ID" "$QEMU_HP_HUB_PORT" usb-hub || _ua_rc=1
        wait_for 30 usb_if_driver_is "$QEMU_HP_HUB_BUSID" hub 1.0 || _ua_rc=1
    fi
    rm -rf "${HP_STATE:?}/dev"
    return $_ua_rc
}

# qemu_hotplug_reset — /init after each case: if the case used the monitor,
# unplug what it left plugged, put the hub back, forget the state
qemu_hotplug_reset() {
    [ -d "$HP_STATE" ] || return 0
    rmdir "$HP_STATE/lock" 2>/dev/null # its holder was killed with the case
    qemu_unplug_all
    _hr_rc=$?
    rm -rf "$HP_STATE"
    return $_hr_rc
}

# ------------------------------------------------------------------ real networks
# For the 5x-netem cases: two_nodes with latency, loss and outages on the veth
# between them (tc netem, nftables), and clocks to say how long things took.

# netem_nodes [open] — two_nodes, and tc's netem; with "open", the device
# node's firewall goes (classic mode dials in)
netem_nodes() {
    command -v tc >/dev/null 2>&1 || fail "tc is not in the guest (run.sh adds it when the host has iproute2)"
    modprobe sch_netem 2>/dev/null || fail "no sch_netem module in the guest"
    two_nodes
    [ "${1:-}" != open ] || must ip netns exec devnode nft delete table inet fw
}

# netem DELAY_MS LOSS_PCT — each way on the veth (the RTT is twice DELAY_MS)
netem() {
    for _nl in devnode:vdev appnode:vapp; do
        must ip netns exec "${_nl%%:*}" tc qdisc replace dev "${_nl#*:}" root netem \
            delay "${1}ms" loss "${2}%"
    done
}

netem_off() {
    for _nl in devnode:vdev appnode:vapp; do
        ip netns exec "${_nl%%:*}" tc qdisc del dev "${_nl#*:}" root 2>/dev/null
    done
    return 0
}

# link_cut — a silent outage: each node drops what arrives on the veth (no
# FIN, no RST, no error to the sender); link_restore ends it. One nft call
# per node, so that both ends are cut within a moment of each other.
link_cut() {
    for _nl in devnode:vdev appnode:vapp; do
        printf 'table inet cut {\n chain in {\n  type filter hook input priority -10; policy accept;\n  iifname "%s" drop\n }\n}\n' \
            "${_nl#*:}" | ip netns exec "${_nl%%:*}" nft -f - || fail "cannot cut the link"
    done
}

link_restore() {
    for _nl in devnode appnode; do must ip netns exec "$_nl" nft delete table inet cut; done
}

now_cs() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }
# since CS — seconds since that now_cs, as S.CC
since() { _hp_fmt $(($(now_cs) - $1)); }
# within CS SECONDS — at most that long since CS
within() { [ $(($(now_cs) - $1)) -le $(($2 * 100)) ]; }

# vhci_disk_usable — a disk on vhci_hcd whose first block reads
vhci_disk_usable() {
    _vu=$(vhci_disk) && disk_ready "$_vu" &&
        dd if="/dev/$_vu" of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null
}

# one_import — exactly one vhci port in use
one_import() { [ "$(vhci_used_ports | wc -l)" -eq 1 ]; }

# read_in_flight OUT — the whole vhci disk's sha256 read in the background
# into OUT; sets $reader
read_in_flight() {
    _rd=$(vhci_disk) || fail "no vhci disk to read"
    (sha256sum "/dev/$_rd" >"$1" 2>&1; echo "exit $?" >>"$1") &
    reader=$!
    # Under way: 1 MiB of it read (sectors read, /sys/block/sdX/stat).
    must_wait 30 "the read under way" sh -c "[ \$(awk '{ print \$3 }' /sys/block/$_rd/stat) -ge 2048 ]"
    kill -0 "$reader" || fail "the read ended before it could be interrupted"
}

# read_ended_cleanly OUT — the background read completed with the disk's
# sha256 or failed with an error: never other bytes
read_ended_cleanly() {
    must_wait 60 "the read in flight ends" not kill -0 "$reader"
    cat "$1"
    if grep -q "^exit 0" "$1"; then
        grep -q "^$VMTEST_DISK_SHA256 " "$1" || fail "the read in flight completed with other bytes"
        log "the read in flight completed, sha256 matches"
    else
        log "the read in flight failed with an I/O error (no bytes were wrong)"
    fi
}

# persist_start NS LOG CMD... — an agent (usbip connect/attach --persist) in
# namespace NS, in the background, logging to LOG (shown when the case ends);
# sets $agent to its pid, from its pid file
persist_start() {
    _ps_ns=$1 _ps_log=$2
    shift 2
    rm -f /run/agent-n.pid
    # shellcheck disable=SC2064
    trap "echo '--- $_ps_log'; cat '$_ps_log'" EXIT
    ip netns exec "$_ps_ns" "$@" -P /run/agent-n.pid >"$_ps_log" 2>&1 &
    must_wait 10 "the agent's pid file" test -s /run/agent-n.pid
    agent=$(cat /run/agent-n.pid)
}

# persist_stop — SIGTERM to $agent: the import goes, the agent ends
persist_stop() {
    kill "$agent"
    must_wait 30 "vhci disk gone after SIGTERM" not vhci_disk
    must_wait 10 "the agent ended" not kill -0 "$agent"
}

# usable_within WHAT CS SECONDS — the device usable, at most SECONDS after CS
usable_within() {
    must_wait 30 "$1: the device usable" vhci_disk_usable
    _uw=$(since "$2")
    log "$1: usable $_uw s after the network returned"
    within "$2" "$3" || fail "$1: usable only $_uw s after the network returned"
}

# connect_nodes T [USBIPA_T] — netem_nodes, usbipa on the application node
# (dead-peer timeout USBIPA_T, default T) and `usbip connect --persist` of
# disk $b on the device node (timeout T), the disk imported and read back
# whole; sets $agent
connect_nodes() {
    netem_nodes
    must ip netns exec appnode usbipa -D --allow-any --dead-peer-timeout "${2:-$1}" \
        -P /run/usbipa-n.pid
    persist_start devnode agent.log usbip connect --persist --dead-peer-timeout "$1" \
        -r 10.99.0.2 -b "$b"
    vhci_disk_intact "exported over the veth"
}

# connect_nodes_stop — the agent, then usbipa
connect_nodes_stop() {
    persist_stop
    kill "$(cat /run/usbipa-n.pid)"
}

# after_read OUT WHAT — once the network is back: the read in flight ended
# cleanly, one import, the agent alive, and the disk (netem off) identical
after_read() {
    read_ended_cleanly "$1"
    one_import || fail "$2: $(vhci_used_ports | wc -l) imports, want 1"
    kill -0 "$agent" || fail "$2: the agent died"
    netem_off
    vhci_disk_intact "$2"
}

# silent_outage WHAT LOG PATTERN T SECONDS PID — a silent outage of SECONDS:
# the agent PID, logging to LOG, says PATTERN once more within its dead-peer
# timeout T (+3 s for the guest's slowness), the old import goes, and once
# the network is back the device is usable within 10 s, with one import
silent_outage() {
    _so_before=$(grep -c "$3" "$2")
    link_cut
    _so_cut=$(now_cs) # both ends cut: the timeouts count from here
    must_wait $(($4 + 10)) "$1: the agent notices the drop" \
        sh -c "[ \$(grep -c '$3' '$2') -gt $_so_before ]"
    _so_took=$(since "$_so_cut")
    within "$_so_cut" $(($4 + 3)) || fail "$1: the agent noticed after $_so_took s (timeout $4 s)"
    log "$1: the agent noticed the drop $_so_took s into the outage (timeout $4 s)"
    must_wait "$5" "$1: the old import gone" not vhci_disk
    while within "$_so_cut" "$5"; do sleep 0.5; done
    _so_back=$(now_cs)
    link_restore
    usable_within "$1 ($5 s outage)" "$_so_back" 10
    one_import || fail "$1: $(vhci_used_ports | wc -l) imports, want 1"
    kill -0 "$6" || fail "$1: the agent died"
}
