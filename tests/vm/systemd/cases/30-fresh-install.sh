#!/bin/sh
# A fresh install under Debian's systemd: no usbip.conf written by hand (the
# one there is what make install put, the example), and every installed
# unit starts from it, stays active without a restart, and stops cleanly.
# One at a time: usbipd and usbipa both default to port 3240. Then the
# serve-mtp template with a section, and a folder its user cannot read.
. /tests/lib.sh
. /tests/sdlib.sh

sd_booted 120
conf=/etc/usbip/usbip.conf
[ -f "$conf" ] || fail "make install left no $conf"
cmp -s "$conf" /etc/usbip/usbip.conf.example || fail "$conf is not the installed default"
units=$(cd /usr/lib/systemd/system && ls usbip*.service | grep -v '@')
# usbip status for a user without access says so; with usbip(8)'s drop-in,
# a member of the group usbip reads it.
useradd -m -G usbip alice 2>/dev/null || useradd -m alice || fail "cannot make a test user"
mkdir -p /etc/systemd/system/usbipd.service.d
cat >/etc/systemd/system/usbipd.service.d/status-group.conf <<'UNIT'
[Service]
ExecStartPost=+/bin/sh -c 'chgrp usbip /run/usbip /run/usbip/*.sock; \
    chmod 0750 /run/usbip; chmod 0660 /run/usbip/*.sock'
UNIT
# as USER with the groups the user database gives it (no PAM in this guest: setpriv)
status_as() { setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups usbip status; }
[ -n "$units" ] || fail "no usbip units installed"
for u in $units; do
    must systemctl start "$u"
    unit_wait_active 30 "$u"
    # still active a moment later, never restarted
    must_wait 10 "$u to say it is ready" sh -c "journalctl -b -q -u $u -o cat | grep -q ' ready'"
    unit_active "$u" || fail "$u did not stay active"
    [ "$(unit_restarts "$u")" = 0 ] || fail "$u restarted $(unit_restarts "$u") times"
    log "$u: active on the default $conf, no restart"
    if [ "$u" = usbipa.service ]; then
        status_as nobody >status.out 2>&1 && fail "usbip status as nobody succeeded: $(cat status.out)"
        [ "$(wc -l <status.out)" = 1 ] && grep -q "no permission to read .*sudo usbip status" status.out ||
            fail "usbip status as nobody: $(cat status.out)"
        log "as nobody: $(cat status.out)"
    elif [ "$u" = usbipd.service ]; then
        must systemctl daemon-reload
        must systemctl restart usbipd.service
        unit_wait_active 30 usbipd.service
        id -nG alice | grep -qw usbip || must usermod -a -G usbip alice
        must_wait 10 "alice reads the status" sh -c "setpriv --reuid=alice --regid=$(id -g alice) --init-groups usbip status | grep -q '^usbipd .*running'"
        log "as alice (group usbip): $(status_as alice | tr '\n' '|')"
    fi
    must systemctl stop "$u"
    unit_failed "$u" && fail "$u failed on stop"
done

# The template: an instance per [serve-mtp NAME] section (that section is
# the one thing written by hand). It says how to attach it, on its own port.
mkdir -p /srv/photos /srv/private
echo hello >/srv/photos/a.txt
chmod 755 /srv/photos
chmod 700 /srv/private
cp "$conf" "$conf.default"
cat >>"$conf" <<'CONF'

[serve-mtp photos]
dir = /srv/photos::ro

[serve-mtp private]
dir = /srv/private
CONF
must systemctl start usbip-serve-mtp@photos.service
unit_wait_active 30 usbip-serve-mtp@photos.service
must_wait 10 "the attach line" sh -c "journalctl -b -q -u usbip-serve-mtp@photos.service -o cat | grep -q 'attach it with: usbip attach -r .*:3242 -b 1-1'"
must_wait 10 "serve-mtp listening on 3242" tcp_listening 3242
log "usbip-serve-mtp@photos: $(journalctl -b -q -u usbip-serve-mtp@photos.service -o cat | grep 'attach it with')"
must systemctl stop usbip-serve-mtp@photos.service
# A folder its user cannot write: the start fails and says why, never ready.
systemctl start usbip-serve-mtp@private.service
must_wait 30 "usbip-serve-mtp@private to fail" sh -c "journalctl -b -q -u usbip-serve-mtp@private.service -o cat | grep -q 'cannot read it'"
journalctl -b -q -u usbip-serve-mtp@private.service -o cat | grep -q ' ready' &&
    fail "usbip-serve-mtp@private said ready on a folder its user cannot read"
log "usbip-serve-mtp@private: $(journalctl -b -q -u usbip-serve-mtp@private.service -o cat | grep -m1 'cannot')"
systemctl stop usbip-serve-mtp@private.service
mv "$conf.default" "$conf"
exit 0
