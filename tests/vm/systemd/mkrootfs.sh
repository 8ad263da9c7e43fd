#!/bin/bash
# mkrootfs.sh — build, once and cached, the systemd guest: a root file system
# made of Debian's packages (systemd as PID 1) as a raw ext4 image, and the
# small busybox initramfs that mounts it and hands over to systemd.
#
# usage: tests/vm/systemd/mkrootfs.sh [--force]
#
# The package set is the closure of $VM_SD_PACKAGES (+ $VM_SD_PACKAGES_EXTRA)
# as apt resolves it for an empty system (apt-get -s with an empty dpkg
# status, no recommends), downloaded with `apt-get download` from the
# configured mirrors into $VM_CACHE/debs and unpacked with dpkg-deb + tar.
# The maintainer-script steps that matter are done here instead: passwd and
# group (base-passwd), shadow, systemd-sysusers, machine-id, hwdb, the
# journal catalog, base-files' directories and symlinks, units enabled and
# masked with `systemctl --root` (the rootfs's own programs, run with its own
# dynamic loader, so the host needs no systemd).  Debian's kernel comes from
# fetch.sh's cache; its modules (minus the big irrelevant trees) go to
# /usr/lib/modules/KVER, depmod'ed.
#
# Cache: $VM_CACHE/systemd/<key>/ where the key hashes the package=version
# list, the kernel, and these scripts:
#   rootfs.img    raw ext4 (sparse), label vmroot; QEMU opens it with
#                 snapshot=on, so it is never modified
#   initrd.cpio   busybox + virtio/ext4 modules + /init (initrd-init.sh);
#                 run.sh appends a second cpio archive (the payload)
#   PACKAGES      name=version, one a line;  files.txt: every path in the rootfs
#   info          sizes and build time
# and $VM_CACHE/systemd/env (VM_SD_DIR, VM_SD_IMAGE, VM_SD_INITRD, VM_SD_KEY,
# VM_SD_KVER).  Older keys are removed.  Serialised with a lock.
#
# Not root: the tree is unpacked and the image made under fakeroot (so the
# files are root's in the image); install Debian's fakeroot.
set -euo pipefail
SD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$SD_DIR/../common.sh"

# ---------------------------------------------------------------- the build
# (runs as root, or under fakeroot: mkrootfs.sh --build-as-root, with
# SD_OUT, SD_KEY and the cache's env exported)
build_as_root() {
    local T=$SD_OUT/tree kroot kmod f m
    umask 022
    mkdir -p "$T"/usr/{bin,sbin,lib,lib64}
    ln -s usr/bin "$T/bin"
    ln -s usr/sbin "$T/sbin"
    ln -s usr/lib "$T/lib"
    ln -s usr/lib64 "$T/lib64"
    # dpkg's path-exclude of a minimal image: no documentation or translations
    while IFS= read -r deb; do
        dpkg-deb --fsys-tarfile "$deb" |
            tar -x -C "$T" --keep-directory-symlink --warning=no-timestamp \
                --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' \
                --exclude='./usr/share/info/*' --exclude='./usr/share/locale/*' \
                --exclude='./usr/share/lintian/*' --exclude='./usr/share/bash-completion/*' ||
            { echo "unpacking $deb failed" >&2; return 1; }
    done <"$SD_OUT/debs.list"

    # the rootfs's own programs, with its own loader and libraries
    tx() {
        "$T/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
            --library-path "$T/usr/lib/x86_64-linux-gnu/systemd:$T/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            "$T$1" "${@:2}" # (fakeroot's library is found through LD_LIBRARY_PATH)
    }

    # base-passwd, passwd (shadow), base-files, libc-bin: their postinst
    cp "$T/usr/share/base-passwd/passwd.master" "$T/etc/passwd"
    cp "$T/usr/share/base-passwd/group.master" "$T/etc/group"
    awk -F: '{ print $1 ":*:19000:0:99999:7:::" }' "$T/etc/passwd" >"$T/etc/shadow"
    awk -F: '{ print $1 ":*::" }' "$T/etc/group" >"$T/etc/gshadow"
    chown 0:42 "$T/etc/shadow" "$T/etc/gshadow"
    chmod 640 "$T/etc/shadow" "$T/etc/gshadow"
    cp -p "$T/usr/share/base-files/dot.profile" "$T/root/.profile"
    cp -p "$T/usr/share/base-files/dot.bashrc" "$T/root/.bashrc"
    for f in profile motd; do
        [ -e "$T/etc/$f" ] || cp -p "$T/usr/share/base-files/$f" "$T/etc/$f"
    done
    [ -e "$T/etc/nsswitch.conf" ] || cp "$T/usr/share/libc-bin/nsswitch.conf" "$T/etc/nsswitch.conf"
    mkdir -p "$T"/{mnt,srv,opt,media,etc/opt,var/opt,var/mail,usr/local/{bin,sbin,lib,share,include,src,etc}}
    rmdir "$T/var/run" "$T/var/lock" 2>/dev/null || rm -rf "$T/var/run" "$T/var/lock"
    ln -s /run "$T/var/run"
    ln -s /run/lock "$T/var/lock"
    [ -e "$T/usr/bin/sh" ] || ln -s dash "$T/usr/bin/sh"
    : >"$T/var/log/wtmp"; : >"$T/var/log/btmp"; : >"$T/var/log/lastlog"

    # update-alternatives --install of the packages' postinst (NAME:LINK:TARGET;
    # only where TARGET is there and LINK is not)
    for f in awk:/usr/bin/awk:/usr/bin/mawk nawk:/usr/bin/nawk:/usr/bin/mawk \
        which:/usr/bin/which:/usr/bin/which.debianutils nc:/usr/bin/nc:/usr/bin/nc.openbsd \
        netcat:/usr/bin/netcat:/usr/bin/nc.openbsd pager:/usr/bin/pager:/usr/bin/more \
        rmt:/usr/sbin/rmt:/usr/sbin/rmt-tar ${VM_SD_ALTERNATIVES_EXTRA:-}; do
        IFS=: read -r m a b <<<"$f"
        if [ -e "$T$b" ] && [ ! -e "$T$a" ] && [ ! -L "$T$a" ]; then
            mkdir -p "$T/etc/alternatives"
            ln -sfn "$b" "$T/etc/alternatives/$m"
            ln -s "/etc/alternatives/$m" "$T$a"
        fi
    done
    [ -e "$T/etc/modules" ] || printf '# /etc/modules: kernel modules to load at boot time.\n' >"$T/etc/modules"

    # systemd, udev, dbus: their postinst
    tx /usr/bin/systemd-sysusers --root="$T" >>"$SD_OUT/build.log" 2>&1
    tx /usr/bin/systemd-sysusers --root="$T" --inline 'g input - -' 'g kvm - -' 'g render - -' 'g sgx - -' \
        >>"$SD_OUT/build.log" 2>&1
    tx /usr/bin/systemd-hwdb --root="$T" --usr update
    tx /usr/bin/journalctl --root="$T" --update-catalog 2>/dev/null || true
    if [ -e "$T/usr/lib/dbus-1.0/dbus-daemon-launch-helper" ]; then
        chown "0:$(awk -F: '$1 == "messagebus" { print $3 }' "$T/etc/group")" "$T/usr/lib/dbus-1.0/dbus-daemon-launch-helper"
        chmod 4754 "$T/usr/lib/dbus-1.0/dbus-daemon-launch-helper"
    fi
    printf '%s\n' "$(printf 'vmtest-%s' "$SD_KEY" | sha256sum | cut -c1-32)" >"$T/etc/machine-id"
    mkdir -p "$T/var/lib/dbus"
    ln -sf /etc/machine-id "$T/var/lib/dbus/machine-id"
    echo vmtest >"$T/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\tvmtest\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$T/etc/hosts"
    echo '# the root file system is mounted by the initramfs (tests/vm/systemd/initrd-init.sh)' >"$T/etc/fstab"
    grep -q '^usbip' "$T/etc/services" 2>/dev/null || printf 'usbip\t\t3240/tcp\n' >>"$T/etc/services"

    # units: what the packages' postinst enable; multi-user, not graphical;
    # masked: what a guest nobody logs into does not need and that costs
    # seconds of boot under TCG ($SD_MASK: gettys, logind and with it
    # dbus.service at boot (dbus.socket stays), utmp)
    tx /usr/bin/systemctl --root="$T" --quiet set-default multi-user.target
    tx /usr/bin/systemctl --root="$T" --quiet enable remote-fs.target systemd-pstore.service
    # shellcheck disable=SC2086
    [ -z "$SD_MASK" ] || tx /usr/bin/systemctl --root="$T" --quiet mask $SD_MASK
    # the system bus on demand only (dbus.socket), not at every boot: with
    # logind masked nothing here needs it (VM_SD_DBUS_AT_BOOT=1 keeps it)
    if [ "$SD_DBUS_AT_BOOT" != 1 ]; then
        rm -f "$T/usr/lib/systemd/system/multi-user.target.wants/dbus.service"
    fi
    # the journal in RAM, nothing dropped by rate limits (cases read it back)
    mkdir -p "$T/etc/systemd/journald.conf.d"
    printf '[Journal]\nStorage=volatile\nRateLimitIntervalSec=0\nRateLimitBurst=0\n' \
        >"$T/etc/systemd/journald.conf.d/vmtest.conf"

    # the kernel's modules, without the big trees of absent hardware, plus
    # whatever the kept ones depend on
    kroot=$VM_KERNEL_ROOT/lib/modules/$VM_KVER
    kmod=$T/usr/lib/modules/$VM_KVER
    mkdir -p "$kmod"
    { (cd "$kroot" && find kernel -name '*.ko*' | grep -E "$SD_MODULES_KEEP" | grep -Ev "$SD_MODULES_SKIP") |
        awk -v dep="$kroot/modules.dep" '
            BEGIN { while ((getline l < dep) > 0) { i = index(l, ":"); d[substr(l, 1, i - 1)] = substr(l, i + 1) } }
            { print; m = split(d[$0], b, " "); for (i = 1; i <= m; i++) print b[i] }'
    } | LC_ALL=C sort -u >"$SD_OUT/modules.list"
    (cd "$kroot" && cpio -pdm --quiet "$kmod") <"$SD_OUT/modules.list"
    for f in modules.order modules.builtin modules.builtin.modinfo; do
        [ -e "$kroot/$f" ] && cp "$kroot/$f" "$kmod/"
    done
    depmod -b "$T" "$VM_KVER"

    # the project installs to /usr/local (and usb.ids is looked for in hwdata)
    printf '/usr/local/lib\n/usr/local/lib/x86_64-linux-gnu\n' >"$T/etc/ld.so.conf.d/vmtest-local.conf"
    if [ "$(id -u)" = 0 ] && [ -z "${FAKEROOTKEY:-}" ]; then ldconfig -r "$T"; fi

    cat >"$T/etc/vmtest-rootfs" <<EOF2
# the systemd guest of usbip-ng's tests (tests/vm/systemd/mkrootfs.sh)
key $SD_KEY
kernel $VM_KVER
packages $(grep -c . "$SD_OUT/PACKAGES")
EOF2
    cp "$SD_OUT/PACKAGES" "$T/etc/vmtest-rootfs.packages"
    # ConditionNeedsUpdate=/etc and /var (sysusers, hwdb, ldconfig, catalog
    # at boot): done here already
    for f in etc var; do
        printf 'TIMESTAMP_NSEC=%s\n' "$(stat -c %.9Y "$T/usr" | tr -d .)" >"$T/$f/.updated"
        touch -r "$T/usr" "$T/$f/.updated"
    done

    (cd "$T" && find . -mindepth 1 -printf '/%P\n' | LC_ALL=C sort) >"$SD_OUT/files.txt"

    # ---- the image: used space + 25 % + 256 MiB for the payload and the run
    local used img
    used=$(du -sm "$T" | cut -f1)
    img=$((used + used / 4 + 256))
    rm -f "$SD_OUT/rootfs.img"
    mke2fs -q -t ext4 -L vmroot -m 0 -E root_owner=0:0 -d "$T" "$SD_OUT/rootfs.img" "${img}M" >>"$SD_OUT/build.log"
    printf 'used_mib %s\nimage_mib %s\nfiles %s\nmodules %s\n' "$used" "$img" \
        "$(wc -l <"$SD_OUT/files.txt")" "$(grep -c '\.ko' "$SD_OUT/modules.list")" >"$SD_OUT/info"

    # ---- the initramfs that mounts it: busybox, virtio + ext4, /init
    local S=$SD_OUT/initrd deps line ko
    mkdir -p "$S"/{usr/bin,usr/sbin,proc,sys,dev,run,newroot,usr/lib/modules/"$VM_KVER"}
    ln -s usr/bin "$S/bin"; ln -s usr/sbin "$S/sbin"; ln -s usr/lib "$S/lib"
    cp "$VM_BUSYBOX" "$S/usr/bin/busybox"
    chmod 755 "$S/usr/bin/busybox"
    while IFS= read -r f; do
        case $f in */busybox | linuxrc) continue ;; esac
        f=${f#usr/}
        [ -e "$S/usr/$f" ] || [ -L "$S/usr/$f" ] || ln -s /usr/bin/busybox "$S/usr/$f"
    done < <("$VM_BUSYBOX" --list-full)
    for m in $SD_INITRD_MODULES; do
        deps=$(modprobe -d "$VM_KERNEL_ROOT" -S "$VM_KVER" --show-depends "$m") ||
            { echo "module $m not in $VM_KVER" >&2; return 1; }
        while IFS= read -r line; do
            case $line in "insmod "*) ko=${line#insmod }; ko=${ko%% *} ;; *) continue ;; esac
            f=${ko#"$VM_KERNEL_ROOT"/}
            mkdir -p "$S/usr/$(dirname "${f#usr/}")"
            cp "$ko" "$S/usr/${f#usr/}"
        done <<<"$deps"
    done
    for f in modules.order modules.builtin modules.builtin.modinfo; do
        [ -e "$kroot/$f" ] && cp "$kroot/$f" "$S/usr/lib/modules/$VM_KVER/"
    done
    depmod -b "$S" "$VM_KVER"
    echo "$SD_INITRD_MODULES" >"$S/modules"
    install -m 755 "$SD_DIR/initrd-init.sh" "$S/init"
    (cd "$S" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$SD_OUT/initrd.cpio"
    printf 'initrd_kib %s\n' "$(($(stat -c %s "$SD_OUT/initrd.cpio") / 1024))" >>"$SD_OUT/info"
    if [ "${VM_SD_KEEP_TREE:-0}" = 1 ]; then echo "tree kept: $T" >&2; else rm -rf "$T"; fi
    rm -rf "$S"
}
if [ "${1:-}" = --build-as-root ]; then
    build_as_root
    exit
fi

force=0
case ${1:-} in
--force) force=1 ;;
-h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
'') ;;
*) vm_die "mkrootfs.sh: unknown argument $1" ;;
esac

# The guest's packages.  systemd + udev + dbus (logind and friends want the
# bus), the tools a test case uses (ip netns, nft, openssl, sha256sum, dd,
# timeout, ps, ping, nc, lsusb), and the project's run-time libraries
# (libudev1 libssl3 libwrap0 libinih1 libsystemd0).
: "${VM_SD_PACKAGES:=base-files base-passwd usr-is-merged bash dash coreutils util-linux bsdutils
    libc-bin mawk grep sed findutils gzip tar diffutils hostname sysvinit-utils ncurses-base
    systemd systemd-sysv udev dbus kmod procps iproute2 nftables iputils-ping netcat-openbsd
    openssl usbutils usb.ids hwdata netbase
    libudev1 libsystemd0 libssl3 libwrap0 libinih1}"
read -ra want_pkgs <<<"$(tr '\n' ' ' <<<"$VM_SD_PACKAGES ${VM_SD_PACKAGES_EXTRA:-}")"

vm_need apt-get dpkg-deb tar mke2fs depmod cpio sha256sum awk
if [ "$(id -u)" != 0 ] && [ -z "${FAKEROOTKEY:-}" ]; then
    command -v fakeroot >/dev/null ||
        vm_die "not root: mkrootfs.sh needs fakeroot (apt-get install fakeroot) so that the image's files are root's"
fi

# shellcheck disable=SC2153 # VM_CACHE is common.sh's
SD_CACHE=$VM_CACHE/systemd
DEBS=$VM_CACHE/debs
mkdir -p "$SD_CACHE" "$DEBS"
exec 8>"$SD_CACHE/.lock"
flock -w 900 8 || vm_die "timed out waiting for the lock on $SD_CACHE"

# the kernel (and busybox) from fetch.sh's cache; run.sh has just run it
if [ "${VM_SD_FETCHED:-0}" != 1 ] || [ ! -s "$VM_CACHE/env" ]; then
    "$VM_DIR/fetch.sh" || vm_die "fetch.sh failed"
fi
# shellcheck source=/dev/null
. "$VM_CACHE/env"

APT_OPTS=(-q -o APT::Sandbox::User=root -o Acquire::http::Timeout=30 -o Acquire::https::Timeout=30 -o Acquire::Retries=3)

# ---------------------------------------------------------------- resolve
# apt's own resolver, for a system that has nothing installed
resolve() {
    local st out
    st=$(mktemp)
    out=$(apt-get -s -q install --no-install-recommends -o Dir::State::status="$st" \
        -o Debug::NoLocking=1 "${want_pkgs[@]}" 2>&1) || { rm -f "$st"; printf '%s\n' "$out" >&2; return 1; }
    rm -f "$st"
    awk '$1 == "Inst" { v = $3; sub(/^\(/, "", v); print $2 "=" v }' <<<"$out" | LC_ALL=C sort
}
# apt's answer only changes with its lists, preferences and our list (~4 s
# saved on every run)
rkey=$( {
    printf '%s\n' "${want_pkgs[@]}"
    find /var/lib/apt/lists /etc/apt -maxdepth 2 \( -name '*Packages*' -o -name '*preferences*' -o -name '*.sources' -o -name '*.list' \) \
        -printf '%p %s %T@\n' 2>/dev/null | LC_ALL=C sort || true
} | sha256sum | cut -c1-16)
updated=0
pkgs=''
if [ -s "$SD_CACHE/resolved-$rkey" ]; then
    pkgs=$(cat "$SD_CACHE/resolved-$rkey")
elif ! pkgs=$(resolve 2>"$SD_CACHE/resolve.err") || [ -z "$pkgs" ]; then
    if [ "$(id -u)" = 0 ]; then
        vm_log "apt cannot resolve the package set; running apt-get update"
        timeout 600 apt-get update -qq -o Acquire::http::Timeout=30 -o Acquire::Retries=3 >&2 ||
            vm_die "apt-get update failed"
        updated=1
        pkgs=$(resolve 2>"$SD_CACHE/resolve.err") || pkgs=
    fi
    if [ -z "$pkgs" ]; then
        if [ -s "$SD_CACHE/env" ]; then
            vm_log "warning: cannot resolve the package set ($(grep -m1 '^E:' "$SD_CACHE/resolve.err" || true)); using the cached image"
            exit 0
        fi
        vm_die "cannot resolve the systemd guest's packages: $(grep -m1 '^E:' "$SD_CACHE/resolve.err" || true)"
    fi
fi
if [ ! -s "$SD_CACHE/resolved-$rkey" ]; then
    rm -f "$SD_CACHE"/resolved-*
    printf '%s\n' "$pkgs" >"$SD_CACHE/resolved-$rkey"
fi
npkgs=$(grep -c . <<<"$pkgs")

# the kernel modules the rootfs gets (extended regular expressions on the
# paths under lib/modules/KVER; the modules these need are added): what a
# QEMU guest with USB, virtio, network namespaces and nftables can use
SD_MODULES_KEEP='^kernel/(arch|crypto|lib|mm|virt|block|net|fs|security)/|^kernel/drivers/(usb|hid|input|block|virtio|char|tty|base|firmware|acpi|net/[^/]+\.ko|scsi/[^/]+\.ko)'
SD_MODULES_SKIP='^kernel/drivers/(usb/serial|usb/atm|input/(touchscreen|joystick|tablet)|char/(ipmi|tpm|agp|xillybus)|hid/intel-ish-hid)/|^kernel/net/(wireless|mac80211|bluetooth|ieee802154|mac802154|nfc|ceph|rxrpc|9p|atm|appletalk|can|openvswitch|tipc|rds|sctp|batman-adv|l2tp|dccp|mpls|smc|sunrpc|netrom|rose|ax25|x25|lapb|phonet|caif|qrtr|dsa|wimax|6lowpan|hsr|ife|kcm|llc|802)/|^kernel/fs/(btrfs|xfs|ocfs2|gfs2|nfs|nfsd|nfs_common|ceph|smb|cifs|f2fs|jfs|reiserfs|nilfs2|ntfs3|ubifs|afs|orangefs|coda|dlm|erofs|hfs|hfsplus|udf|ufs|minix|omfs|qnx4|qnx6|romfs|sysv|befs|efs|freevxfs|hpfs|jffs2|cramfs|adfs|affs|exfat|lockd|9p|zonefs|netfs|fscache|cachefiles|gfs)/'
# units masked in the image (VM_SD_MASK replaces the list)
SD_MASK=${VM_SD_MASK-getty.target systemd-firstboot.service systemd-logind.service systemd-user-sessions.service systemd-update-utmp.service systemd-update-utmp-runlevel.service}
SD_DBUS_AT_BOOT=${VM_SD_DBUS_AT_BOOT:-0}
# what the initramfs loads to mount the root (dependencies added)
SD_INITRD_MODULES="virtio_pci virtio_blk crc32c_generic ext4"

key=$( {
    printf '%s\n' "$pkgs"
    echo "kernel $VM_KVER $VM_KERNEL_ROOT"
    echo "busybox $VM_BUSYBOX"
    echo "$SD_MODULES_KEEP $SD_MODULES_SKIP $SD_INITRD_MODULES ${VM_SD_ALTERNATIVES_EXTRA:-} mask $SD_MASK dbus $SD_DBUS_AT_BOOT"
    cat "$SD_DIR/mkrootfs.sh" "$SD_DIR/initrd-init.sh"
} | sha256sum | cut -c1-16)
out=$SD_CACHE/$key

write_env() {
    cat >"$SD_CACHE/env.tmp" <<EOF
VM_SD_KEY='$key'
VM_SD_DIR='$out'
VM_SD_IMAGE='$out/rootfs.img'
VM_SD_INITRD='$out/initrd.cpio'
VM_SD_KVER='$VM_KVER'
EOF
    mv "$SD_CACHE/env.tmp" "$SD_CACHE/env"
}

if [ "$force" = 0 ] && [ -e "$out/.done" ]; then
    write_env
    vm_log "systemd rootfs cached: $out ($npkgs packages, $(awk '/^image_mib/ { print $2 }' "$out/info") MiB image)"
    exit 0
fi

t0=$(date +%s)
vm_log "building the systemd rootfs: $npkgs Debian packages, kernel $VM_KVER"

# ---------------------------------------------------------------- download
deb_of() { # NAME=VERSION -> path in $DEBS, or nothing
    local pv=$1 f
    local v=${pv#*=}
    for f in "$DEBS/${pv%%=*}_${v//:/%3a}_"*.deb; do
        [ -s "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}
missing=()
while IFS= read -r pv; do
    deb_of "$pv" >/dev/null || missing+=("$pv")
done <<<"$pkgs"
if [ ${#missing[@]} -gt 0 ]; then
    vm_log "downloading ${#missing[@]} packages"
    tmp=$(mktemp -d "$DEBS/.dl.XXXXXX")
    if ! (cd "$tmp" && timeout 900 apt-get download "${APT_OPTS[@]}" "${missing[@]}" >/dev/null 2>"$tmp/err"); then
        if [ "$updated" = 0 ] && [ "$(id -u)" = 0 ]; then
            timeout 600 apt-get update -qq -o Acquire::http::Timeout=30 -o Acquire::Retries=3 >&2 || true
            updated=1
        fi
        (cd "$tmp" && timeout 900 apt-get download "${APT_OPTS[@]}" "${missing[@]}" >/dev/null 2>"$tmp/err") || {
            vm_log "apt-get download: $(grep -m3 -E '^(E|W):' "$tmp/err" | tr '\n' ' ')"
            rm -rf "$tmp"
            vm_die "cannot download the systemd guest's packages"
        }
    fi
    # apt-get download keeps the archive's dates: fetch.sh's sweep of old
    # .debs goes by mtime
    touch "$tmp"/*.deb
    mv "$tmp"/*.deb "$DEBS/"
    rm -rf "$tmp"
fi
debs=()
while IFS= read -r pv; do
    d=$(deb_of "$pv") || vm_die "package $pv missing from $DEBS after download"
    debs+=("$d")
done <<<"$pkgs"

# ---------------------------------------------------------------- build (as root or fakeroot)
rm -rf "$out" "$out.tmp"
mkdir -p "$out.tmp"
printf '%s\n' "$pkgs" >"$out.tmp/PACKAGES"
printf '%s\n' "${debs[@]}" >"$out.tmp/debs.list"
export VM_SD_ALTERNATIVES_EXTRA="${VM_SD_ALTERNATIVES_EXTRA:-}"
export SD_DIR VM_DIR VM_KVER VM_KERNEL_ROOT VM_BUSYBOX SD_MASK SD_DBUS_AT_BOOT SD_MODULES_KEEP SD_MODULES_SKIP SD_INITRD_MODULES
export SD_OUT=$out.tmp SD_KEY=$key
if [ "$(id -u)" = 0 ] || [ -n "${FAKEROOTKEY:-}" ]; then
    bash "$SD_DIR/mkrootfs.sh" --build-as-root
else
    fakeroot -- bash "$SD_DIR/mkrootfs.sh" --build-as-root
fi || { rm -rf "$out.tmp"; vm_die "building the rootfs failed"; }
echo "build_seconds $(($(date +%s) - t0))" >>"$out.tmp/info"
touch "$out.tmp/.done"
mv "$out.tmp" "$out"
# older images go, but the one the env named until now stays (a run that
# read it a moment ago may be about to boot it)
prev=$(sed -n "s/^VM_SD_DIR='\(.*\)'$/\1/p" "$SD_CACHE/env" 2>/dev/null || true)
for old in "$SD_CACHE"/*/; do
    old=${old%/}
    [ "$old" = "$out" ] || [ "$old" = "$prev" ] || rm -rf "$old"
done
write_env
vm_log "systemd rootfs ready in $(($(date +%s) - t0)) s: $out/rootfs.img ($(awk '/^image_mib/ { print $2 }' "$out/info") MiB, $(awk '/^used_mib/ { print $2 }' "$out/info") MiB used)"
