#!/bin/sh
# /init of the systemd guest's initramfs (busybox sh, PID 1).
# shellcheck disable=SC1091,SC2013,SC2016
#
# Loads virtio + ext4, mounts the root file system (mkrootfs.sh's image;
# QEMU opens it with snapshot=on, so every boot starts from the same image),
# installs the payload that run.sh appended as a second cpio archive
# (/payload: the `make install` tree, the cases, the runner), does what a
# package's postinst would (ldconfig, systemd-sysusers, hwdb), runs the
# case's setup scripts chrooted, enables the units it asks for (systemctl
# enable, after the setup scripts: they may write units), and hands over to
# Debian's systemd:  switch_root /newroot /lib/systemd/systemd.
#
# Any failure: a message on the console, "Bail out!" on the TAP channel
# (/dev/ttyS2) and poweroff, so run.sh reports it at once.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022

say() { echo "vmtest-initrd: $*"; }
tap() { [ -c /dev/ttyS2 ] && printf 'VMTAP: %s\n' "$*" >/dev/ttyS2; }
up() { cut -d' ' -f1 /proc/uptime; }
die() {
    say "FATAL: $*"
    tap "Bail out! initramfs: $*"
    [ -c /dev/ttyS2 ] && echo "VMTEST-DONE" >/dev/ttyS2
    sync
    poweroff -f
    sleep 5
    echo o >/proc/sysrq-trigger
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 >/proc/sys/kernel/printk

for m in $(cat /modules); do
    out=$(modprobe "$m" 2>&1) || die "modprobe $m: $out"
done

root=/dev/vda
for a in $(cat /proc/cmdline); do
    case $a in vmtest.root=*) root=${a#vmtest.root=} ;; esac
done
n=0
while [ ! -b "$root" ]; do
    n=$((n + 1))
    [ $n -le 300 ] || die "no root disk $root after 30 s"
    sleep 0.1
done
mount -t ext4 -o rw "$root" /newroot || die "cannot mount $root"

# ------------------------------------------------------------------ payload
if [ -d /payload ]; then
    [ -r /payload/config ] && . /payload/config
    if [ -d /payload/root ]; then
        cp -a /payload/root/. /newroot/ || die "copying the payload into the root file system failed"
    fi
    mount -t proc proc /newroot/proc
    mount --bind /sys /newroot/sys
    mount --bind /dev /newroot/dev
    mount -t tmpfs -o mode=755 tmpfs /newroot/run
    mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
    inroot() { chroot /newroot /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LC_ALL=C SYSTEMD_LOG_LEVEL=notice "$@"; }
    if [ "${VMTEST_LDCONFIG:-0}" = 1 ]; then
        out=$(inroot /sbin/ldconfig 2>&1) || die "ldconfig: $out"
    fi
    if [ "${VMTEST_SYSUSERS:-0}" = 1 ]; then
        out=$(inroot /usr/bin/systemd-sysusers 2>&1) || die "systemd-sysusers: $out"
    fi
    if [ "${VMTEST_HWDB:-0}" = 1 ]; then
        out=$(inroot /usr/bin/systemd-hwdb update 2>&1) || die "systemd-hwdb update: $out"
    fi
    for s in ${VMTEST_SETUP:-}; do
        # the case's preparation, as the root file system's sh, with the
        # guest's environment (/tests/data/env)
        inroot /bin/sh -c 'set -a; . /tests/data/env; set +a; exec /bin/sh "$0"' "$s" \
            >/setup.log 2>&1 </dev/null
        rc=$?
        say "setup $s: exit $rc"
        { echo "== $s: exit $rc"; cat /setup.log; } >>/newroot/var/log/vmtest-setup.log
        if [ $rc != 0 ]; then
            sed 's/^/#   /' /setup.log | while IFS= read -r l; do tap "$l"; done
            die "setup script $s failed (exit $rc)"
        fi
    done
    # after the setup scripts: they may write units of their own
    for u in ${VMTEST_ENABLE:-}; do
        out=$(inroot /usr/bin/systemctl enable "$u" 2>&1) || die "systemctl enable $u: $out"
        say "enabled $u"
    done
    # what systemd's ConditionNeedsUpdate= would redo at boot is done
    touch /newroot/etc/.updated /newroot/var/.updated
    umount /newroot/tmp /newroot/run /newroot/dev /newroot/sys /newroot/proc
fi

say "switching to systemd at $(up) s of uptime"
mount --move /dev /newroot/dev
mount --move /sys /newroot/sys
mount --move /proc /newroot/proc
# shellcheck disable=SC2093
exec switch_root /newroot /lib/systemd/systemd
die "switch_root failed"
