#!/bin/sh
# Several folders, one MTP storage each: `--dir A:Work --dir B:Pictures:ro`.
# With libmtp's mtp-tools: both storages with their names and access, files
# of both listed under their StorageID and read back by sha256, a file sent
# into a folder of the first lands in that folder (not in the other), the
# read-only storage refuses a file. Folders given twice or one inside
# another are refused with one line and exit 2, and the serial is the same
# after a restart.
. /tests/lib.sh
mtp_need_tools
trap 'rc=$?; [ $rc = 0 ] || mtp_dump' EXIT

a=/tmp/mtp-work b=/tmp/mtp-pictures
rm -rf "$a" "$b"
mkdir -p "$a/Docs" "$b/Photos/2024"
head -c 300000 /dev/urandom >"$a/Docs/report.bin"
echo "in the first" >"$a/first.txt"
head -c 200000 /dev/urandom >"$b/Photos/2024/pic.bin"
echo "in the second" >"$b/second.txt"

# refused before anything starts: one line on stderr, exit 2
for bad in "--dir $a --dir $a" "--dir $a --dir $a/Docs:Docs" "--dir $b/Photos --dir $b"; do
    echo "+ usbip serve-mtp $bad (expected to be refused)"
    # shellcheck disable=SC2086
    usbip serve-mtp $bad >refused.out 2>refused.err
    rc=$?
    [ $rc = 2 ] || fail "serve-mtp $bad: exit $rc, want 2"
    [ "$(wc -l <refused.err)" = 1 ] || fail "serve-mtp $bad: not one line: $(cat refused.err)"
    log "refused: $(cat refused.err)"
done

mtp_serve "$a:Work" --dir "$b:Pictures:ro"
must usbip attach -r 127.0.0.1 -b 1-1
mtp_wait_device
must mtp detect >detect.txt 2>&1
grep -q 'StorageID: 0x00010001' detect.txt || fail "storage 0x00010001 not in mtp-detect"
grep -q 'StorageID: 0x00020001' detect.txt || fail "storage 0x00020001 not in mtp-detect"
grep -q 'StorageDescription: Work' detect.txt || fail "the first storage is not named Work"
grep -q 'StorageDescription: Pictures' detect.txt || fail "the second storage is not named Pictures"
awk '/StorageID: 0x00020001/ { s = 1 } s && /AccessCapability/ { print; exit }' detect.txt |
    grep -qi 'read.only' || fail "the second storage is not read-only"
serial=$(sed -n 's/^ *Serial number: //p' detect.txt)
[ -n "$serial" ] || fail "no serial number in mtp-detect"
log "two storages: Work (read-write), Pictures (read-only); serial $serial"

# files of both, each under its own storage, read back by sha256
must mtp files >files.txt 2>files.err
storage_of() {
    awk -v n="$1" '/^File ID:/ { f = 0 } /^ *Filename: / { s = $0; sub(/^ *Filename: /, "", s); f = (s == n) }
        f && /Storage ID:/ { print $3; exit }' files.txt
}
[ "$(storage_of report.bin)" = 0x00010001 ] || fail "report.bin: storage $(storage_of report.bin)"
[ "$(storage_of pic.bin)" = 0x00020001 ] || fail "pic.bin: storage $(storage_of pic.bin)"
[ "$(storage_of second.txt)" = 0x00020001 ] || fail "second.txt: storage $(storage_of second.txt)"
mtp_get_check report.bin files.txt "$a/Docs/report.bin"
mtp_get_check first.txt files.txt "$a/first.txt"
mtp_get_check pic.bin files.txt "$b/Photos/2024/pic.bin"
mtp_get_check second.txt files.txt "$b/second.txt"

# a write into a folder of the first storage lands there, and only there
head -c 123456 /dev/urandom >sent.bin
must mtp sendfile sent.bin /Docs
cmp sent.bin "$a/Docs/sent.bin" || fail "the sent file is not in $a/Docs"
[ -e "$b/Docs/sent.bin" ] || [ -e "$b/sent.bin" ] && fail "the sent file went to the other folder"
must mtp files >files2.txt 2>/dev/null
mtp_get_check sent.bin files2.txt sent.bin
# the read-only storage takes nothing
echo nope >nope.txt
mtp sendfile nope.txt /Photos >ro-send.txt 2>&1
[ -e "$b/Photos/nope.txt" ] && fail "the read-only storage took a file"
log "write: landed in $a/Docs; the read-only storage refused one"

# the same folders again: the same serial, so the host knows the device
must usbip detach -p "$(vhci_port_of "$MTP_BUSID")"
kill "$MTP_SERVE_PID"
wait "$MTP_SERVE_PID"
must_wait 10 "serve-mtp stopped" tcp_not_listening 3240
mtp_serve "$a:Work" --dir "$b:Pictures:ro"
must usbip attach -r 127.0.0.1 -b 1-1
mtp_wait_device
must mtp detect >detect2.txt 2>&1
[ "$(sed -n 's/^ *Serial number: //p' detect2.txt)" = "$serial" ] ||
    fail "the serial changed across a restart: $(sed -n 's/^ *Serial number: //p' detect2.txt)"
log "serve-mtp with two storages: all checks passed"
