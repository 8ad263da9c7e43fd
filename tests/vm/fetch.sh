#!/bin/bash
# fetch.sh — download and unpack everything the VM tests need from Debian's
# apt mirrors into the cache ($VM_CACHE, default tests/vm/.cache).
#
# Idempotent: packages already in the cache at the candidate version are
# neither downloaded nor unpacked again.  On success it writes
# $VM_CACHE/env (sourced by mkinitramfs.sh and run.sh):
#   VM_KVER, VM_KERNEL_ROOT, VM_VMLINUZ, VM_DEBIAN_ROOT, VM_BUSYBOX
#
# Only apt-get download + dpkg -x are used (no other network access).
set -euo pipefail
. "$(dirname "$0")/common.sh"

vm_need apt-get apt-cache dpkg dpkg-deb depmod

DEBS=$VM_CACHE/debs
mkdir -p "$DEBS"

# one fetch at a time per cache (concurrent run.sh calls)
exec 9>"$VM_CACHE/.lock"
if ! flock -w 900 9; then vm_die "timed out waiting for the lock on $VM_CACHE"; fi

# bounded network waits
APT_OPTS=(-q -o APT::Sandbox::User=root -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=3)

# Packages taken from the host instead of the cache (always present there and
# must match the host's libc, which is copied into the guest as well).
HOST_PROVIDED="libc6 libgcc-s1 gcc-12-base"

updated=0
apt_update_once() {
    [ "$updated" = 1 ] && return 1
    updated=1
    if [ "$(id -u)" = 0 ]; then
        vm_log "running apt-get update"
        timeout 600 apt-get update -qq -o Acquire::http::Timeout=30 -o Acquire::Retries=3 >&2 ||
            vm_die "apt-get update failed"
        return 0
    fi
    return 1
}

# candidate_version PKG -> prints the candidate version or nothing
candidate_version() {
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# need_version PKG -> candidate version, running apt-get update once if unknown
need_version() {
    local v
    v=$(candidate_version "$1")
    if [ -z "$v" ] && apt_update_once; then
        v=$(candidate_version "$1")
    fi
    [ -n "$v" ] || return 1
    echo "$v"
}

# download PKG VERSION -> prints the path of the .deb in the cache
download() {
    local pkg=$1 ver=$2 f tmp
    for f in "$DEBS/${pkg}_${ver//:/%3a}_"*.deb; do
        [ -s "$f" ] && { echo "$f"; return 0; }
    done
    tmp=$(mktemp -d "$DEBS/.dl.XXXXXX")
    vm_log "downloading $pkg $ver"
    if ! (cd "$tmp" && timeout 900 apt-get download "${APT_OPTS[@]}" "$pkg=$ver" >/dev/null 2>"$tmp/err"); then
        if apt_update_once &&
            (cd "$tmp" && timeout 900 apt-get download "${APT_OPTS[@]}" "$pkg=$ver" >/dev/null 2>"$tmp/err"); then
            :
        else
            vm_log "apt-get download $pkg=$ver: $(grep -m1 -E '^(E|W):' "$tmp/err" || true)"
            rm -rf "$tmp"
            vm_die "cannot download Debian package $pkg=$ver"
        fi
    fi
    for f in "$tmp"/*.deb; do
        [ -s "$f" ] || { rm -rf "$tmp"; vm_die "apt-get download $pkg produced no .deb"; }
        mv "$f" "$DEBS/"
        echo "$DEBS/$(basename "$f")"
    done
    rm -rf "$tmp"
}

# If apt knows nothing (no lists and not root) but a previous fetch succeeded,
# go on with the cache.
offline_fallback() {
    if [ -s "$VM_CACHE/env" ]; then
        vm_log "warning: $1; using the existing cache ($VM_CACHE/env)"
        exit 0
    fi
    vm_die "$1 (try: apt-get update)"
}

# ---------------------------------------------------------------- kernel
if [ -n "${VM_KERNEL_PKG:-}" ]; then
    kpkg=$VM_KERNEL_PKG
else
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    if [ -z "$kpkg" ] && apt_update_once; then
        kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
            awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    fi
    [ -n "$kpkg" ] || offline_fallback "cannot resolve linux-image-amd64 to a versioned kernel package"
fi
kver_pkg=$(need_version "$kpkg") || offline_fallback "no installable version of $kpkg"
kdir=$VM_CACHE/kernel-${kpkg#linux-image-}-$kver_pkg
if [ ! -e "$kdir/.done" ]; then
    kdeb=$(download "$kpkg" "$kver_pkg")
    vm_log "unpacking $(basename "$kdeb")"
    rm -rf "$kdir" "$kdir.tmp"
    mkdir -p "$kdir.tmp"
    dpkg-deb -x "$kdeb" "$kdir.tmp" || vm_die "dpkg -x $kdeb failed"
    set -- "$kdir.tmp"/lib/modules/*/
    [ -d "$1" ] || vm_die "no lib/modules in $kdeb"
    kver=$(basename "$1")
    depmod -b "$kdir.tmp" "$kver" || vm_die "depmod -b $kdir.tmp $kver failed"
    echo "$kver" >"$kdir.tmp/KVER"
    touch "$kdir.tmp/.done"
    mv "$kdir.tmp" "$kdir"
    rm -f "$kdeb" # 70 MB, no longer needed once unpacked
    # drop older unpacked kernels (400 MB each)
    for old in "$VM_CACHE"/kernel-*; do
        [ "$old" = "$kdir" ] || rm -rf "$old"
    done
fi
kver=$(cat "$kdir/KVER")
vmlinuz=$kdir/boot/vmlinuz-$kver
[ -s "$vmlinuz" ] || vm_die "kernel image $vmlinuz missing"

# candidate_versions PKG...: "name=version" of each package apt can install,
# in one apt-cache call (each call costs ~0.5 s)
candidate_versions() {
    apt-cache policy "$@" 2>/dev/null |
        awk '/^[^ ]/ { sub(":$", "", $1); p = $1 } $1 == "Candidate:" && $2 != "(none)" { print p "=" $2 }'
}

# unpack_tree NAME NAME=VERSION...: downloads the packages and unpacks them
# together, once, into $VM_CACHE/NAME-<hash of the list>, removing older
# trees of that NAME; prints the tree's path.
unpack_tree() {
    local name=$1 dir pv deb old
    shift
    dir=$VM_CACHE/$name-$(printf '%s\n' "$@" | sha256sum | cut -c1-16)
    if [ ! -e "$dir/.done" ]; then
        rm -rf "$dir" "$dir.tmp"
        mkdir -p "$dir.tmp"
        for pv in "$@"; do
            deb=$(download "${pv%%=*}" "${pv#*=}")
            dpkg-deb -x "$deb" "$dir.tmp" || vm_die "dpkg -x $deb failed"
        done
        printf '%s\n' "$@" >"$dir.tmp/PACKAGES"
        touch "$dir.tmp/.done"
        mv "$dir.tmp" "$dir"
        for old in "$VM_CACHE/$name"-*; do
            [ "$old" = "$dir" ] || rm -rf "$old"
        done
    fi
    echo "$dir"
}

# ---------------------------------------------------------------- Debian usbip
# usbip plus the closure of its dependencies (minus what the host provides),
# unpacked together into one tree.
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances usbip 2>/dev/null | grep -v '^[ <]' | sort -u || true)
if [ -z "$closure" ] && apt_update_once; then
    closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances usbip 2>/dev/null | grep -v '^[ <]' | sort -u || true)
fi
[ -n "$closure" ] || offline_fallback "cannot resolve the dependencies of Debian's usbip"
# one apt-cache call for all candidate versions (each call costs ~0.5 s)
list=()
for p in $closure busybox-static; do
    case " $HOST_PROVIDED " in *" $p "*) continue ;; esac
    list+=("$p")
done
mapfile -t pkgs < <(candidate_versions "${list[@]}")
[ "${#pkgs[@]}" = "${#list[@]}" ] ||
    vm_die "no installable version for some of: ${list[*]} (got: ${pkgs[*]})"
ddir=$(unpack_tree debian "${pkgs[@]}") || vm_die "cannot unpack Debian's usbip"
[ -x "$ddir/usr/sbin/usbipd" ] || vm_die "usbipd missing from Debian's usbip package"
[ -x "$ddir/bin/busybox" ] || vm_die "busybox missing from busybox-static"

# ---------------------------------------------------------------- libmtp's mtp-tools
# The MTP client for the serve-mtp cases (30-39): mtp-tools and the closure
# of its dependencies, in a tree of their own so that the usbip tree above
# (and its cache key) stays as it was.  VM_NO_MTP=1 leaves it out.
mdir=
if [ "${VM_NO_MTP:-0}" != 1 ]; then
    mclosure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances mtp-tools 2>/dev/null | grep -v '^[ <]' | sort -u || true)
    mlist=()
    for p in $mclosure; do
        case " $HOST_PROVIDED " in *" $p "*) continue ;; esac
        mlist+=("$p")
    done
    mpkgs=()
    if [ "${#mlist[@]}" -gt 0 ]; then
        mapfile -t mpkgs < <(candidate_versions "${mlist[@]}")
    fi
    if [ "${#mlist[@]}" -gt 0 ] && [ "${#mpkgs[@]}" = "${#mlist[@]}" ]; then
        mdir=$(unpack_tree mtp "${mpkgs[@]}") || vm_die "cannot unpack Debian's mtp-tools"
        [ -x "$mdir/usr/bin/mtp-detect" ] || vm_die "mtp-detect missing from Debian's mtp-tools"
    else
        vm_log "warning: mtp-tools not available from apt; the serve-mtp cases will skip"
    fi
fi

# ---------------------------------------------------------------- network tools
# For the WebSocket, proxy and DNS SRV cases (60-69): nginx, haproxy,
# tinyproxy, dnsmasq and curl with the libraries they link, in a tree of
# their own (/opt/net in the guest).  Only library packages are followed
# (lib*, zlib1g): adduser, debconf, perl and the like are never needed to run
# the programs.  The resolution costs ~10 s of apt-cache, so it is kept in
# $VM_CACHE/net.resolved against the apt lists' dates.  VM_NO_NET_TOOLS=1
# leaves it out; a package apt does not know is left out with a warning (the
# cases needing it skip).
NET_PKGS="nginx haproxy tinyproxy-bin dnsmasq-base curl"

# lib_closure PKG...: the packages and the library packages they depend on,
# recursively (name=version, one a line)
lib_closure() {
    local seen=" " todo=("$@") next p
    while [ "${#todo[@]}" -gt 0 ]; do
        for p in "${todo[@]}"; do seen="$seen$p "; done
        mapfile -t next < <(apt-cache depends --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances "${todo[@]}" 2>/dev/null |
            awk '$1 ~ /Depends:$/ && $2 ~ /^(lib|zlib)/ { print $2 }' | sort -u)
        todo=()
        for p in "${next[@]}"; do
            case "$seen $HOST_PROVIDED " in *" $p "*) continue ;; esac
            todo+=("$p")
        done
    done
    # shellcheck disable=SC2086
    candidate_versions $seen
}

ndir=
if [ "${VM_NO_NET_TOOLS:-0}" != 1 ]; then
    nkey=$( {
        echo "$NET_PKGS"
        find /var/lib/apt/lists /etc/apt -maxdepth 2 \( -name '*Packages*' -o -name '*preferences*' \
            -o -name '*.sources' -o -name '*.list' \) -printf '%p %s %T@\n' 2>/dev/null | LC_ALL=C sort || true
    } | sha256sum | cut -c1-16)
    nres=$VM_CACHE/net.resolved
    if [ ! -s "$nres" ] || [ "$(head -1 "$nres")" != "$nkey" ]; then
        navail=()
        for p in $NET_PKGS; do
            if [ -n "$(candidate_version "$p")" ]; then
                navail+=("$p")
            else
                vm_log "warning: $p not available from apt; the cases needing it will skip"
            fi
        done
        if [ "${#navail[@]}" -gt 0 ]; then
            { echo "$nkey"; lib_closure "${navail[@]}"; } >"$nres.tmp"
            mv "$nres.tmp" "$nres"
        fi
    fi
    if [ -n "$(sed -n 2p "$nres" 2>/dev/null)" ]; then
        mapfile -t npkgs < <(tail -n +2 "$nres")
        ndir=$(unpack_tree net "${npkgs[@]}") || vm_die "cannot unpack Debian's network tools"
    fi
fi

# Prometheus's promtool (`promtool check metrics`), only with VM_PROMTOOL=1:
# it is 48 MB (13 MB of initramfs) out of a 19 MB package, of which nothing
# else is kept.
pdir=
if [ "${VM_PROMTOOL:-0}" = 1 ]; then
    if pver=$(need_version prometheus); then
        pdir=$VM_CACHE/promtool-$pver
        if [ ! -x "$pdir/promtool" ]; then
            pdeb=$(download prometheus "$pver")
            rm -rf "$pdir.tmp" && mkdir -p "$pdir.tmp"
            dpkg-deb --fsys-tarfile "$pdeb" | tar -xO ./usr/bin/promtool >"$pdir.tmp/promtool" ||
                vm_die "no usr/bin/promtool in $pdeb"
            chmod 755 "$pdir.tmp/promtool"
            rm -rf "$pdir" "$pdeb"
            mv "$pdir.tmp" "$pdir"
        fi
    else
        vm_log "warning: prometheus not available from apt; the promtool checks will skip"
    fi
fi

# Drop .debs that are no longer referenced (keeps the cache bounded).
find "$DEBS" -name '*.deb' -mtime +30 -delete 2>/dev/null || true

cat >"$VM_CACHE/env.tmp" <<EOF
VM_KVER='$kver'
VM_KERNEL_ROOT='$kdir'
VM_VMLINUZ='$vmlinuz'
VM_DEBIAN_ROOT='$ddir'
VM_BUSYBOX='$ddir/bin/busybox'
VM_MTP_ROOT='$mdir'
VM_NET_ROOT='$ndir'
VM_PROMTOOL_BIN='${pdir:+$pdir/promtool}'
EOF
mv "$VM_CACHE/env.tmp" "$VM_CACHE/env"
vm_log "cache ready: kernel $kver ($kpkg $kver_pkg), $(grep -c . "$ddir/PACKAGES") Debian packages in $ddir"
