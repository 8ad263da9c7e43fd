#!/bin/bash
# run.sh — the systemd guest: boot Debian's systemd as PID 1 (mkrootfs.sh's
# root file system) with the project installed, run a case, print TAP.
#
# usage: tests/vm/systemd/run.sh [options] [--case FILE]... [FILE]...
#
#   --destdir DIR       `make install DESTDIR=DIR` tree copied into the root
#                       file system (/lib, /bin, /sbin land in /usr: merged
#                       /usr); libraries its programs need that Debian's
#                       packages in the guest lack are copied from the host
#   --case FILE         a case (repeatable; default: tests/vm/systemd/cases/
#                       *.sh).  ONE BOOT PER CASE, in the order given.
#   --enable UNIT       `systemctl enable UNIT` before the boot (repeatable;
#                       for every case)
#   --setup FILE        a script run chrooted in the guest's root before the
#                       boot (repeatable; for every case)
#   --timeout SECS      limit for each boot (default 300)
#   --test-timeout SECS limit for the case in the guest (default 180)
#   --verbose           show the output of passing cases too
#   --fail-exit         exit 1 if a case failed (default: only on harness
#                       errors, as automake's tap-driver.sh expects)
#   --keep              keep the work directory (initramfs, disk images)
#   --smp N / --mem MB  guest CPUs (default 1: not slower than 2 under TCG, and
#                       kinder to a loaded host) / memory (default 1024)
#
# A case can ask for its own boot set-up in its first 30 lines:
#   # vmtest-enable: UNIT...       units to enable (systemctl enable)
#   # vmtest-setup: FILE           run chrooted before the boot (a path
#                                  relative to the case's directory)
#
# Environment: VMTEST_* variables are passed into the guest's environment
# (/tests/data/env); VM_QEMU_EXTRA, VM_APPEND_EXTRA, VM_CACHE as in
# tests/vm/run.sh; VM_DISK_MIB (default 16).
#
# stdout is only TAP; progress goes to stderr.  The serial console, the
# journal (forwarded live by journald to the guest's ttyS3) and the hot-plug
# relay's transcript are kept in $VM_CACHE/logs/ (paths printed as TAP
# comments).  Exit status: 0 if every boot ran its case to the end, 1 on any
# harness failure (Bail out!).
set -euo pipefail
SD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$SD_DIR/../common.sh"

destdir='' timeout=300 test_timeout=180 verbose=0 fail_exit=0 keep=0 smp=1 mem=1024
cases=() enables=() setups=()
while [ $# -gt 0 ]; do
    case $1 in
    --destdir) destdir=$2; shift 2 ;;
    --case | --cases) cases+=("$2"); shift 2 ;;
    --enable) enables+=("$2"); shift 2 ;;
    --setup) setups+=("$2"); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --test-timeout) test_timeout=$2; shift 2 ;;
    --verbose) verbose=1; shift ;;
    --fail-exit) fail_exit=1; shift ;;
    --keep) keep=1; shift ;;
    --smp) smp=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    -*) vm_die "run.sh: unknown option $1 (see --help)" ;;
    *) cases+=("$1"); shift ;;
    esac
done
if [ ${#cases[@]} = 0 ]; then
    for f in "$SD_DIR"/cases/*.sh; do
        [ "$(basename "$f")" = sdlib.sh ] || cases+=("$f")
    done
fi
for c in "${cases[@]}"; do [ -f "$c" ] || vm_die "case $c not found"; done
for s in "${setups[@]}"; do [ -f "$s" ] || vm_die "setup script $s not found"; done
[ -z "$destdir" ] || [ -d "$destdir" ] || vm_die "--destdir $destdir is not a directory"

t_start=$(date +%s%N)

"$VM_DIR/fetch.sh" || vm_harness_fail "fetch.sh failed (see stderr)"
VM_SD_FETCHED=1 "$SD_DIR/mkrootfs.sh" || vm_harness_fail "mkrootfs.sh failed (see stderr)"
# shellcheck source=/dev/null
. "$VM_CACHE/env"
# shellcheck source=/dev/null
. "$VM_CACHE/systemd/env"
vm_need qemu-system-x86_64 cpio
build_ms=$(vm_ms_since "$t_start")

vm_work_dir vmtest-sd

# ------------------------------------------------------------------ the installed tree
# The payload's common part: root/ is copied onto the guest's / by the
# initramfs.  DESTDIR goes in with merged /usr (the stage's /bin, /sbin, /lib
# and /lib64 are symlinks into usr/ while it is unpacked, then dropped).
common=$work/common
mkdir -p "$common/root/usr"/{bin,sbin,lib,lib64}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$common/root/$d"; done
ldconfig_flag=0 sysusers_flag=0 hwdb_flag=0
if [ -n "$destdir" ]; then
    destdir=$(cd "$destdir" && pwd)
    tar -C "$destdir" -cf - . | tar -C "$common/root" -xf - --keep-directory-symlink --no-same-owner ||
        vm_harness_fail "copying $destdir failed"
    # libraries the tree's programs need that the guest's packages lack (the
    # host's: same Debian release), at their merged-/usr path
    dllp=$(find "$destdir" -name '*.so*' \( -type f -o -type l \) -printf '%h:' 2>/dev/null)
    nlibs=0
    while IFS= read -r -d '' f; do
        vm_is_elf "$f" || continue
        out=$(LD_LIBRARY_PATH=${dllp%:} ldd "$f" 2>&1) || continue
        while IFS= read -r line; do
            case $line in
            *"not found"*) vm_harness_fail "$f: library not found on the host: ${line%%=>*}" ;;
            *"=> /"*) p=${line#*=> }; p=${p%% (*} ;;
            *) continue ;;
            esac
            case $p in "$destdir"/*) continue ;; esac
            g=$p
            case $g in /lib/* | /lib64/* | /bin/* | /sbin/*) g=/usr$g ;; esac
            grep -qxF "$g" "$VM_SD_DIR/files.txt" && continue
            [ -e "$common/root$g" ] && continue
            mkdir -p "$common/root$(dirname "$g")"
            cp -L "$p" "$common/root$g"
            vm_log "note: $(basename "$g") is not in the guest's packages; copied from the host"
            nlibs=$((nlibs + 1))
        done <<<"$out"
    done < <(find "$destdir" -type f -print0)
    if [ -n "$dllp" ] || [ "$nlibs" -gt 0 ]; then ldconfig_flag=1; fi
    if [ -d "$destdir/usr/lib/sysusers.d" ] || [ -d "$destdir/lib/sysusers.d" ] ||
        [ -d "$destdir/etc/sysusers.d" ] || [ -d "$destdir/usr/local/lib/sysusers.d" ]; then sysusers_flag=1; fi
    if [ -n "$(find "$destdir" -path '*/udev/hwdb.d/*' -print -quit)" ]; then hwdb_flag=1; fi
fi
rm -f "$common/root"/{bin,sbin,lib,lib64}
mkdir -p "$common/root/tests/cases" "$common/root/tests/setup" "$common/root/tests/data" \
    "$common/root/etc/systemd/system/multi-user.target.wants" "$common/root/etc/systemd/journald.conf.d"
install -m 755 "$SD_DIR/guest-run.sh" "$common/root/tests/run.sh"
install -m 644 "$VM_DIR/cases/lib.sh" "$common/root/tests/lib.sh"
install -m 644 "$VM_DIR/../shared.sh" "$common/root/tests/shared.sh"
[ ! -f "$SD_DIR/cases/sdlib.sh" ] || install -m 644 "$SD_DIR/cases/sdlib.sh" "$common/root/tests/sdlib.sh"
install -m 644 "$SD_DIR/vmtest.service" "$common/root/etc/systemd/system/vmtest.service"
ln -s ../vmtest.service "$common/root/etc/systemd/system/multi-user.target.wants/vmtest.service"
# the journal, live, on the guest's 4th serial port (a file here): it
# survives a hang or a crash
printf '[Journal]\nForwardToConsole=yes\nTTYPath=/dev/ttyS3\nMaxLevelConsole=debug\n' \
    >"$common/root/etc/systemd/journald.conf.d/vmtest-forward.conf"

# ------------------------------------------------------------------ hot-plug
# The main suite's relay (tests/vm/common.sh), when it is there: QEMU's
# monitor for the guest's ttyS1, spare drives on a hub (lib.sh's qemu_plug_*)
relay=0
if declare -F vm_hotplug_relay >/dev/null; then relay=1; fi
hp_drives="hpdisk1 hpdisk2 hpdisk3"
hp_hub_port=5
hp_bytes=$((${VM_HPDISK_KIB:-2048} * 1024))

# ------------------------------------------------------------------ one boot
mkdir -p "$VM_CACHE/logs"
for k in console journal relay; do
    find "$VM_CACHE/logs" -name "sd-$k-*.log" -printf '%T@ %p\n' | sort -rn | tail -n +21 | cut -d' ' -f2- | xargs -r rm -f
done

echo "1..${#cases[@]}"
echo "# systemd guest: $VM_SD_IMAGE (kernel $VM_SD_KVER), build/check ${build_ms} ms"
status=0 n=0
for case in "${cases[@]}"; do
    n=$((n + 1))
    name=$(basename "$case" .sh)
    b=$work/boot-$n
    mkdir -p "$b/p/payload/root/tests/cases" "$b/p/payload/root/tests/setup" "$b/p/payload/root/tests/data"

    # what this boot enables and prepares: the options and the case's header
    boot_enable=("${enables[@]}")
    boot_setup=()
    read -ra more <<<"$(head -n 30 "$case" | sed -n 's/^# vmtest-enable:[[:space:]]*//p' | tr '\n' ' ')"
    boot_enable+=("${more[@]}")
    for s in "${setups[@]}"; do boot_setup+=("$s"); done
    while IFS= read -r s; do
        [ -n "$s" ] || continue
        case $s in /*) ;; *) s=$(dirname "$case")/$s ;; esac
        [ -f "$s" ] || vm_harness_fail "$name: vmtest-setup $s not found"
        boot_setup+=("$s")
    done < <(head -n 30 "$case" | sed -n 's/^# vmtest-setup:[[:space:]]*//p')
    install -m 755 "$case" "$b/p/payload/root/tests/cases/$name.sh"
    gsetup=''
    i=0
    for s in "${boot_setup[@]}"; do
        i=$((i + 1))
        install -m 755 "$s" "$b/p/payload/root/tests/setup/$i-$(basename "$s")"
        gsetup+="/tests/setup/$i-$(basename "$s") "
    done

    # the emulated disk (as tests/vm/run.sh) and the spare hot-plug drives
    disk=$b/disk0.img
    disk_bytes=$((${VM_DISK_MIB:-16} * 1024 * 1024))
    disk_sha=$(vm_random_disk "$disk" "$disk_bytes")
    cat >"$b/p/payload/root/tests/data/env" <<EOF
VMTEST_DISK_SHA256=$disk_sha
VMTEST_DISK_BYTES=$disk_bytes
VMTEST_DISK_SERIAL=VMTEST0001
VMTEST_TEST_TIMEOUT=$test_timeout
VMTEST_VERBOSE=$verbose
VMTEST_EXPECT_USB="46f4:0001 0627:0001 0409:55aa"
VMTEST_TAP_FIRST=$n
VMTEST_SYSTEMD=1
VMTEST_CASE=$name
EOF
    hp_qemu=()
    if [ "$relay" = 1 ]; then
        cat >>"$b/p/payload/root/tests/data/env" <<EOF
VMTEST_HP_DRIVES="$hp_drives"
VMTEST_HPDISK_BYTES=$hp_bytes
VMTEST_HP_HUB_PORT=$hp_hub_port
EOF
        for d in $hp_drives; do
            echo "VMTEST_${d^^}_SHA256=$(vm_random_disk "$b/$d.img" "$hp_bytes")" >>"$b/p/payload/root/tests/data/env"
            hp_qemu+=(-blockdev "driver=raw,node-name=$d,file.driver=file,file.filename=$b/$d.img")
        done
        hp_qemu+=(-device "usb-hub,bus=xhci.0,port=$hp_hub_port,id=hphub")
        mkfifo "$b/qmp.in" "$b/qmp.out" "$b/ctl.in" "$b/ctl.out"
    fi
    while IFS='=' read -r -d '' vname value; do
        case $vname in VMTEST_[A-Za-z0-9_]*) ;; *) continue ;; esac
        q="'\\''"
        printf "%s='%s'\n" "$vname" "${value//\'/$q}" >>"$b/p/payload/root/tests/data/env"
    done < <(env -0)
    cat >"$b/p/payload/config" <<EOF
VMTEST_ENABLE='${boot_enable[*]}'
VMTEST_SETUP='$gsetup'
VMTEST_LDCONFIG=$ldconfig_flag
VMTEST_SYSUSERS=$sysusers_flag
VMTEST_HWDB=$hwdb_flag
EOF
    # the initramfs: mkrootfs.sh's archive, then the payload's
    cp -a "$common/root/." "$b/p/payload/root/"
    (cd "$b/p" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$b/payload.cpio" ||
        vm_harness_fail "cpio of the payload failed"
    cat "$VM_SD_INITRD" "$b/payload.cpio" >"$b/initrd.cpio"

    stamp=$(date +%Y%m%d-%H%M%S)-$$-$n
    log=$VM_CACHE/logs/sd-console-$stamp.log
    jlog=$VM_CACHE/logs/sd-journal-$stamp.log
    rlog=$VM_CACHE/logs/sd-relay-$stamp.log
    : >"$log"
    : >"$jlog"
    : >"$b/tap.raw"
    ln -sfn "$(basename "$log")" "$VM_CACHE/logs/sd-latest-console.log"
    ln -sfn "$(basename "$jlog")" "$VM_CACHE/logs/sd-latest-journal.log"

    # shellcheck disable=SC2054 # commas are QEMU syntax
    qemu=(qemu-system-x86_64 -accel tcg -m "$mem" -smp "$smp"
        -nodefaults -no-reboot -display none -net none
        -monitor "unix:$b/monitor.sock,server=on,wait=off")
    # shellcheck disable=SC2054
    if [ "$relay" = 1 ]; then
        qemu+=(-chardev "pipe,id=qmp,path=$b/qmp" -mon chardev=qmp,mode=control)
    fi
    qemu+=(-chardev "file,id=con,path=$log" -serial chardev:con)
    if [ "$relay" = 1 ]; then
        qemu+=(-chardev "pipe,id=ctl,path=$b/ctl" -serial chardev:ctl)
    else
        qemu+=(-serial null)
    fi
    # shellcheck disable=SC2054
    qemu+=(-chardev "file,id=tap,path=$b/tap.raw" -serial chardev:tap
        -chardev "file,id=jnl,path=$jlog" -serial chardev:jnl
        -kernel "$VM_VMLINUZ" -initrd "$b/initrd.cpio"
        -append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic systemd.show_status=false vmtest.root=/dev/vda ${VM_APPEND_EXTRA:-}"
        -drive "if=none,id=root,file=$VM_SD_IMAGE,format=raw,snapshot=on,cache=unsafe"
        -device virtio-blk-pci,drive=root
        -device virtio-rng-pci
        -device qemu-xhci,id=xhci,p2=8,p3=8
        -drive "if=none,id=disk0,file=$disk,format=raw"
        -device usb-storage,bus=xhci.0,drive=disk0,serial=VMTEST0001
        -device usb-kbd,bus=xhci.0
        -device usb-tablet,bus=xhci.0
        -device usb-hub,bus=xhci.0
        "${hp_qemu[@]}")
    # shellcheck disable=SC2206
    qemu+=(${VM_QEMU_EXTRA:-})

    echo "# $name: console $log"
    echo "# $name: journal $jlog"
    vm_log "$name: booting systemd (kernel $VM_SD_KVER, timeout ${timeout}s)"
    t_boot=$(date +%s%N)
    # TMPDIR: where QEMU puts the snapshot=on overlay of the root image
    TMPDIR=$b timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >"$b/qemu.out" 2>&1 &
    qpid=$!
    if [ "$relay" = 1 ]; then
        vm_hotplug_relay "$b" "$hp_drives" >"$rlog" 2>&1 &
        rpid=$!
    fi
    tail -n +1 -s 0.2 -f --pid="$qpid" "$b/tap.raw" | tr -d '\r' | sed -un 's/^VMTAP: //p' | tee "$b/tap" &
    spid=$!
    # after VMTEST-DONE the guest powers off; give it 30 s, then stop QEMU
    done_at=''
    while kill -0 "$qpid" 2>/dev/null; do
        if [ -z "$done_at" ] && grep -q '^VMTEST-DONE' <(tr -d '\r' <"$b/tap.raw"); then
            done_at=$SECONDS
        fi
        if [ -n "$done_at" ] && [ $((SECONDS - done_at)) -ge 30 ]; then
            echo "# $name: the guest did not power off within 30 s of finishing; QEMU stopped"
            kill "$qpid" 2>/dev/null || true
            break
        fi
        sleep 0.5
    done
    set +e
    wait "$qpid"
    qrc=$?
    wait "$spid"
    set -e
    qpid=''
    if [ -n "$rpid" ]; then
        kill "$rpid" 2>/dev/null || true
        wait "$rpid" 2>/dev/null || true
        rpid=''
        grep -q ' guest\[' "$rlog" && echo "# $name: hot-plug relay log $rlog"
    fi
    boot_ms=$(vm_ms_since "$t_boot")

    tap_tail() {
        echo "#   --- last console lines:"
        tr -d '\r' <"$log" | tail -n 15 | sed 's/^/#   /' || true
        echo "#   --- last journal lines:"
        tr -d '\r' <"$jlog" | tail -n 25 | sed 's/^/#   /' || true
        if [ -s "$b/qemu.out" ]; then
            echo "#   --- QEMU said:"
            tail -n 10 "$b/qemu.out" | sed 's/^/#   /'
        fi
    }
    if [ -z "$done_at" ] && { [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; }; then
        tap_tail
        echo "Bail out! $name: QEMU timed out after ${timeout}s and was killed"
        status=1
        break
    elif ! grep -q '^VMTEST-DONE' <(tr -d '\r' <"$b/tap.raw"); then
        tap_tail
        echo "Bail out! $name: the guest stopped before finishing (QEMU exit $qrc)"
        status=1
        break
    elif ! grep -qE '^(not )?ok ' "$b/tap"; then
        tap_tail
        echo "Bail out! $name: the guest printed no result"
        status=1
        break
    elif grep -q '^Bail out!' "$b/tap"; then
        status=1
        break
    fi
    echo "# $name: QEMU ${boot_ms} ms"
done
pass=$(cat "$work"/boot-*/tap 2>/dev/null | grep -c '^ok ' || true)
fail=$(cat "$work"/boot-*/tap 2>/dev/null | grep -c '^not ok ' || true)
skip=$(cat "$work"/boot-*/tap 2>/dev/null | grep -c '^ok .*# SKIP' || true)
echo "# host: total $(vm_ms_since "$t_start") ms"
echo "# summary: $((pass - skip)) passed, $fail failed, $skip skipped"
if [ "$fail_exit" = 1 ] && [ "$fail" != 0 ]; then status=1; fi
exit "$status"
