#!/bin/bash
# mkinitramfs.sh — build the guest's initramfs (gzip'd newc cpio).
#
# usage: mkinitramfs.sh -o OUT.cpio.gz [--destdir DIR] [--data DIR]
#                       [--host-tool NAME]... [CASE.sh|CASEDIR]...
#
#   -o FILE         output file
#   --destdir DIR   a `make install DESTDIR=DIR` tree; copied to / in the guest,
#                   with the shared libraries its ELF files need (from the host)
#   --data DIR      copied to /tests/data in the guest (disk checksums, env)
#   --host-tool T   copy the host's program T (a name in $PATH or a path) to
#                   the same path in the guest, with its libraries; replaces a
#                   busybox applet of that name (e.g. ip, nft, tcpdump)
#   CASE...         test case scripts (or directories of them) to put in
#                   /tests/cases; lib.sh is always put at /tests/lib.sh
#
# Needs a filled cache (fetch.sh).  Environment:
#   VM_MODULES       modules loaded at boot, in order (default below)
#   VM_MODULES_EXTRA modules only shipped (for modprobe in a test)
#   VM_HOST_TOOLS    more --host-tool names, space separated
set -euo pipefail
. "$(dirname "$0")/common.sh"

out='' destdir='' datadir=''
cases=()
read -ra host_tools <<<"${VM_HOST_TOOLS:-}"
while [ $# -gt 0 ]; do
    case $1 in
    -o | --output) out=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --data) datadir=$2; shift 2 ;;
    --host-tool) host_tools+=("$2"); shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    -*) vm_die "mkinitramfs.sh: unknown option $1" ;;
    *) cases+=("$1"); shift ;;
    esac
done
[ -n "$out" ] || vm_die "mkinitramfs.sh: -o OUT is required"
[ -z "$destdir" ] || [ -d "$destdir" ] || vm_die "--destdir $destdir is not a directory"
[ -s "$VM_CACHE/env" ] || vm_die "no $VM_CACHE/env: run fetch.sh first"
# shellcheck source=/dev/null
. "$VM_CACHE/env"
vm_need cpio gzip modprobe depmod ldd

: "${VM_MODULES:=usb-common usbcore xhci-hcd xhci-pci usb-storage sd_mod hid usbhid hid-generic evdev usbip-core usbip-host vhci-hcd veth}"
: "${VM_MODULES_EXTRA:=tls gcm ctr ghash-generic aesni-intel nf_tables nft_ct nft_reject_inet nft_chain_nat nft_masq nft_nat nft_fib_inet nft_limit nft_log dummy tun bridge loop usbip-vudc dummy_hcd libcomposite usb_f_mass_storage sch_netem vsock_loopback}"

stage=$(mktemp -d "${TMPDIR:-/tmp}/vm-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# ---------------------------------------------------------------- layout
# merged /usr, like a Debian 12 system
mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,etc,proc,sys,dev,run,tmp,root,var,mnt,opt/debian/lib,tests/cases,tests/data}
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
ln -s usr/lib "$stage/lib"
ln -s usr/lib64 "$stage/lib64"
ln -s ../run "$stage/var/run"
mkdir -p "$stage/var/tmp" "$stage/var/lib"
chmod 1777 "$stage/tmp" "$stage/var/tmp"

# put FILE (dereferenced) at PATH inside the stage, creating directories
put() {
    local src=$1 dst=$stage$2
    [ -e "$dst" ] && return 0
    mkdir -p "$(dirname "$dst")"
    cp -L "$src" "$dst"
}

# copy_libs ELF [LD_LIBRARY_PATH] [SYSROOT GUESTDIR]
# Copies the shared libraries ELF needs (resolved by the host's ldd).
# Libraries found under SYSROOT go to GUESTDIR; the others to their host path.
# Libraries found under $destdir are already in the stage.
copy_libs() {
    local elf=$1 llp=${2:-} sysroot=${3:-} gdir=${4:-} line lib path
    local out
    out=$(LD_LIBRARY_PATH=$llp ldd "$elf" 2>&1) || {
        case $out in *"not a dynamic executable"* | *"statically linked"*) return 0 ;; esac
        vm_die "ldd $elf failed: $out"
    }
    while IFS= read -r line; do
        case $line in
        *"not found"*) vm_die "$elf: shared library not found on the host: ${line%%=>*}" ;;
        *"=> /"*) path=${line#*=> }; path=${path%% (*} ;;
        *"/"*" (0x"*) path=${line%% (*}; path=${path#"${path%%[! 	]*}"} ;;
        *) continue ;;
        esac
        if [ -n "$destdir" ] && [ "${path#"$destdir"/}" != "$path" ]; then
            continue
        elif [ -n "$sysroot" ] && [ "${path#"$sysroot"/}" != "$path" ]; then
            lib=$(basename "$path")
            put "$path" "$gdir/$lib"
        else
            put "$path" "$path"
        fi
    done <<<"$out"
}

# ---------------------------------------------------------------- busybox
cp "$VM_BUSYBOX" "$stage/usr/bin/busybox"
chmod 755 "$stage/usr/bin/busybox"
while IFS= read -r applet; do
    case $applet in linuxrc | */busybox) continue ;; esac
    case $applet in */*) ;; *) continue ;; esac
    # all applets point to the one binary; usr/bin/x and bin/x are the same place
    applet=${applet#usr/}
    [ -e "$stage/usr/$applet" ] || [ -L "$stage/usr/$applet" ] || ln -s /usr/bin/busybox "$stage/usr/$applet"
done < <("$VM_BUSYBOX" --list-full)

# ---------------------------------------------------------------- modules
kroot=$VM_KERNEL_ROOT
kmod=lib/modules/$VM_KVER
mkdir -p "$stage/usr/$kmod"
for f in modules.order modules.builtin modules.builtin.modinfo; do
    if [ -e "$kroot/$kmod/$f" ]; then cp "$kroot/$kmod/$f" "$stage/usr/$kmod/"; fi
done
add_module() { # MODULE REQUIRED(0/1)
    local deps line ko rel
    if ! deps=$(modprobe -d "$kroot" -S "$VM_KVER" --show-depends "$1" 2>&1); then
        [ "$2" = 1 ] && vm_die "kernel module $1 not found in $VM_KVER: $deps"
        vm_log "note: optional module $1 not available, skipped"
        return 0
    fi
    while IFS= read -r line; do
        case $line in
        "insmod "*) ko=${line#insmod }; ko=${ko%% *} ;;
        *) continue ;; # builtin
        esac
        rel=${ko#"$kroot"/}
        rel=${rel#usr/}
        case $rel in
        *.ko) [ -e "$stage/usr/$rel" ] || { mkdir -p "$(dirname "$stage/usr/$rel")"; cp "$ko" "$stage/usr/$rel"; } ;;
        # busybox insmod/modprobe cannot decompress: unpack on the host
        *.ko.xz) vm_need xz; mkdir -p "$(dirname "$stage/usr/$rel")"; xz -dc "$ko" >"$stage/usr/${rel%.xz}" ;;
        *.ko.gz) mkdir -p "$(dirname "$stage/usr/$rel")"; gzip -dc "$ko" >"$stage/usr/${rel%.gz}" ;;
        *.ko.zst) vm_need zstd; mkdir -p "$(dirname "$stage/usr/$rel")"; zstd -qdc "$ko" >"$stage/usr/${rel%.zst}" ;;
        *) vm_die "unexpected module file $ko" ;;
        esac
    done <<<"$deps"
}
for m in $VM_MODULES; do add_module "$m" 1; done
for m in $VM_MODULES_EXTRA; do add_module "$m" 0; done
depmod -b "$stage" "$VM_KVER" ||
    vm_die "depmod on the initramfs tree failed"
mkdir -p "$stage/etc/vmtest"
echo "$VM_MODULES" | tr ' ' '\n' | grep . >"$stage/etc/vmtest/modules"

# ---------------------------------------------------------------- Debian's usbip
droot=$VM_DEBIAN_ROOT
dllp=$droot/lib/x86_64-linux-gnu:$droot/usr/lib/x86_64-linux-gnu
mkdir -p "$stage/opt/debian/sbin"
for t in usbip usbipd; do
    cp "$droot/usr/sbin/$t" "$stage/opt/debian/sbin/$t"
    copy_libs "$droot/usr/sbin/$t" "$dllp" "$droot" /opt/debian/lib
    cat >"$stage/opt/debian/$t" <<EOF
#!/bin/sh
# Debian's $t ($(grep '^usbip=' "$droot/PACKAGES")), with its own libraries
LD_LIBRARY_PATH=/opt/debian/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec /opt/debian/sbin/$t "\$@"
EOF
    chmod 755 "$stage/opt/debian/$t"
done
cp "$droot/PACKAGES" "$stage/opt/debian/PACKAGES"
if [ -e "$droot/etc/netconfig" ]; then cp "$droot/etc/netconfig" "$stage/etc/netconfig"; fi

# wrap_tool ELF SYSROOT OPT PACKAGE [HOST-FIRST]: ELF (unpacked under
# SYSROOT) as OPT/sbin/NAME, its libraries from SYSROOT in OPT/lib (so they
# never shadow the project's), and OPT/bin/NAME a wrapper that runs it with
# them.  HOST-FIRST=1: the host's libraries (Debian 12 too, most already in
# the guest) where it has them, SYSROOT's only for the others.
wrap_tool() {
    local f=$1 root=$2 opt=$3 t=${1##*/} llp
    llp=$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu
    if [ "${5:-0}" = 1 ]; then llp=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:$llp; fi
    mkdir -p "$stage$opt/bin" "$stage$opt/sbin" "$stage$opt/lib"
    cp "$f" "$stage$opt/sbin/$t"
    copy_libs "$f" "$llp" "$root" "$opt/lib"
    cat >"$stage$opt/bin/$t" <<EOF
#!/bin/sh
# Debian's $t ($4), with its own libraries
LD_LIBRARY_PATH=$opt/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH} exec $opt/sbin/$t "\$@"
EOF
    chmod 755 "$stage$opt/bin/$t"
}

# ---------------------------------------------------------------- libmtp's mtp-tools
# For the serve-mtp cases: /opt/mtp/bin/mtp-* are wrappers that run
# Debian's mtp-tools with their own libraries from /opt/mtp/lib (fetch.sh
# leaves VM_MTP_ROOT empty when they are not available).
if [ -n "${VM_MTP_ROOT:-}" ] && [ -d "$VM_MTP_ROOT/usr/bin" ]; then
    mroot=$VM_MTP_ROOT
    for f in "$mroot"/usr/bin/mtp-*; do
        wrap_tool "$f" "$mroot" /opt/mtp "$(grep '^mtp-tools=' "$mroot/PACKAGES")"
    done
    cp "$mroot/PACKAGES" "$stage/opt/mtp/PACKAGES"
    # libmtp converts names with iconv (UTF-8 <-> UCS-2LE): glibc's gconv
    # configuration and the Unicode modules from the host, whose libc is the guest's
    gconv=/usr/lib/x86_64-linux-gnu/gconv
    if [ -d "$gconv" ]; then
        mkdir -p "$stage$gconv"
        for f in gconv-modules gconv-modules.cache gconv-modules.d UNICODE.so UTF-16.so UTF-32.so; do
            if [ -e "$gconv/$f" ]; then cp -a "$gconv/$f" "$stage$gconv/"; fi
        done
    fi
    # bench/mtp-client.c (rename, timings), when the host has libmtp's headers
    if command -v cc >/dev/null && pkg-config --exists libmtp 2>/dev/null &&
        [ -f "$VM_DIR/../../bench/mtp-client.c" ]; then
        # shellcheck disable=SC2046
        if cc -O2 -Wall -o "$stage/opt/mtp/bin/mtp-client" "$VM_DIR/../../bench/mtp-client.c" \
            $(pkg-config --cflags --libs libmtp); then
            copy_libs "$stage/opt/mtp/bin/mtp-client"
        else
            vm_log "warning: bench/mtp-client.c did not build; the rename checks will skip"
        fi
    fi
fi

# ---------------------------------------------------------------- network tools
# For the WebSocket, proxy and DNS cases (60-69): /opt/net/bin/{nginx,
# haproxy,tinyproxy,dnsmasq,curl} are wrappers that run Debian's programs
# with their own libraries from /opt/net/lib (fetch.sh leaves VM_NET_ROOT
# empty when none is available; a program missing there is left out and
# the cases needing it skip).  lib.sh appends /opt/net/bin to $PATH.
# They add ~7.8 MB to the initramfs (17 MB unpacked; curl's libraries and
# haproxy's with libstdc++ are most of it): VM_NET_TOOLS="nginx dnsmasq"
# takes only those, VM_NO_NET_TOOLS=1 none.
[ "${VM_NO_NET_TOOLS:-0}" != 1 ] || VM_NET_ROOT=''
if [ -n "${VM_NET_ROOT:-}" ] && [ -d "$VM_NET_ROOT/usr" ]; then
    for t in ${VM_NET_TOOLS-nginx haproxy tinyproxy dnsmasq curl}; do
        for f in "$VM_NET_ROOT/usr/sbin/$t" "$VM_NET_ROOT/usr/bin/$t"; do
            [ -x "$f" ] || continue
            wrap_tool "$f" "$VM_NET_ROOT" /opt/net \
                "$(grep -m1 -E "^$t(-bin|-base)?=" "$VM_NET_ROOT/PACKAGES" || true)" 1
        done
    done
    if [ -d "$stage/opt/net" ]; then cp "$VM_NET_ROOT/PACKAGES" "$stage/opt/net/PACKAGES"; fi
fi
# promtool (fetch.sh, VM_PROMTOOL=1): Go, only libc
if [ -n "${VM_PROMTOOL_BIN:-}" ] && [ -x "$VM_PROMTOOL_BIN" ]; then
    put "$VM_PROMTOOL_BIN" /opt/net/bin/promtool
    copy_libs "$VM_PROMTOOL_BIN"
fi
# tests/tools/ws_echo.c (a WebSocket upgrade and echo peer behind the
# proxies; plain libc) built here, so that the cases need no `make install`
if command -v cc >/dev/null && [ -f "$VM_DIR/../tools/ws_echo.c" ]; then
    mkdir -p "$stage/opt/net/bin"
    cc -O2 -Wall -o "$stage/opt/net/bin/ws_echo" "$VM_DIR/../tools/ws_echo.c" ||
        vm_log "warning: tests/tools/ws_echo.c did not build; the WebSocket checks will skip"
fi

# usb.ids: Debian's tools read /usr/share/misc/usb.ids, others /usr/share/hwdata
for f in "$droot/var/lib/usbutils/usb.ids" /usr/share/hwdata/usb.ids /usr/share/misc/usb.ids; do
    if [ -s "$f" ]; then
        put "$f" /usr/share/hwdata/usb.ids
        mkdir -p "$stage/usr/share/misc"
        ln -s ../hwdata/usb.ids "$stage/usr/share/misc/usb.ids"
        break
    fi
done

# ---------------------------------------------------------------- project tree
ldconf_extra=
if [ -n "$destdir" ]; then
    destdir=$(cd "$destdir" && pwd)
    # keep the stage's /bin -> usr/bin etc. symlinks
    tar -C "$destdir" -cf - . | tar -C "$stage" -xf - --keep-directory-symlink --no-same-owner ||
        vm_die "copying $destdir into the initramfs failed"
    # library directories inside DESTDIR, for ldd on the host and ld.so.conf in the guest
    dllp_proj=$(find "$destdir" -name '*.so*' \( -type f -o -type l \) -printf '%h\n' | sort -u | tr '\n' ':')
    ldconf_extra=$(find "$destdir" -name '*.so*' \( -type f -o -type l \) -printf '/%P\n' |
        xargs -r -n1 dirname | sort -u)
    while IFS= read -r -d '' f; do
        vm_is_elf "$f" || continue
        copy_libs "$f" "${dllp_proj%:}"
    done < <(find "$destdir" -type f -print0)
fi

# ---------------------------------------------------------------- host tools
# glibc loads libgcc_s at run time (pthread_exit, cancellation): ldd does not
# list it, and programs such as stunnel abort without it.
for f in /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1; do
    if [ -f "$f" ] && [ ${#host_tools[@]} -gt 0 ]; then
        put "$f" /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
        break
    fi
done
for t in "${host_tools[@]}"; do
    p=$(command -v "$t" 2>/dev/null) || p=$t
    case $p in /*) ;; *) p=$(command -v "/usr/sbin/$t" || command -v "/sbin/$t" || echo "$t") ;; esac
    [ -f "$p" ] || vm_die "--host-tool $t: not found on the host (install its Debian package)"
    case $p in /bin/* | /sbin/* | /lib/*) gp=/usr$p ;; *) gp=$p ;; esac
    # drop the busybox applets of that name, wherever they sit in $PATH
    for bd in usr/bin usr/sbin; do
        if [ "$(readlink "$stage/$bd/${gp##*/}" 2>/dev/null)" = /usr/bin/busybox ]; then
            rm -f "$stage/$bd/${gp##*/}"
        fi
    done
    rm -f "$stage$gp"
    put "$p" "$gp"
    chmod 755 "$stage$gp"
    copy_libs "$p"
    # Debian's busybox ash runs its applets in preference to $PATH
    # (FEATURE_SH_STANDALONE): a function makes the name mean the real tool
    # in cases (lib.sh sources this file)
    if "$VM_BUSYBOX" --list | grep -qx "${gp##*/}"; then
        printf '%s() { %s "$@"; }\n' "${gp##*/}" "$gp" >>"$stage/tests/host-tools.sh"
    fi
done

# ---------------------------------------------------------------- /etc
cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat >"$stage/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
EOF
cat >"$stage/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files
services: files
EOF
# empty: ip netns exec binds /etc/netns/NS/resolv.conf over it (lib.sh's ns_resolver)
: >"$stage/etc/resolv.conf"
printf 'usbip\t3240/tcp\n' >"$stage/etc/services"
echo vmtest >"$stage/etc/hostname"
{
    echo /usr/local/lib
    echo /usr/local/lib/x86_64-linux-gnu
    echo /lib/x86_64-linux-gnu
    echo /usr/lib/x86_64-linux-gnu
    [ -z "$ldconf_extra" ] || echo "$ldconf_extra"
} | awk '!seen[$0]++' >"$stage/etc/ld.so.conf"
if ! ldconfig -r "$stage" 2>/dev/null; then
    # not root: the guest exports LD_LIBRARY_PATH instead
    tr '\n' ':' <"$stage/etc/ld.so.conf" | sed 's/:$//' >"$stage/etc/vmtest/ld_library_path"
fi

# ---------------------------------------------------------------- tests
install -m 755 "$VM_DIR/guest-init.sh" "$stage/init"
install -m 644 "$VM_DIR/cases/lib.sh" "$stage/tests/lib.sh"
install -m 644 "$VM_DIR/../shared.sh" "$stage/tests/shared.sh"
for c in "${cases[@]}"; do
    if [ -d "$c" ]; then
        for f in "$c"/*.sh; do
            [ -e "$f" ] || continue
            [ "$(basename "$f")" = lib.sh ] && continue
            install -m 755 "$f" "$stage/tests/cases/"
        done
    elif [ -f "$c" ]; then
        install -m 755 "$c" "$stage/tests/cases/"
    else
        vm_die "test case $c not found"
    fi
done
[ -z "$datadir" ] || cp -a "$datadir/." "$stage/tests/data/"

# ---------------------------------------------------------------- archive
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp" ||
    vm_die "cpio/gzip failed"
mv "$out.tmp" "$out"
vm_log "initramfs $out: $(du -h "$out" | cut -f1), $(find "$stage/tests/cases" -name '*.sh' | wc -l) case(s), $(find "$stage/usr/$kmod" -name '*.ko' | wc -l) modules"
