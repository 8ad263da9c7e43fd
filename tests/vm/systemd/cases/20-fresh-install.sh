#!/bin/sh
# A fresh install under Debian's systemd: no usbip.conf written by hand (the
# one there is what make install put, the example), and every installed
# unit starts from it, stays active without a restart, and stops cleanly.
# One at a time: usbipd and usbipa both default to port 3240.
. /tests/lib.sh
. /tests/sdlib.sh

sd_booted 120
conf=/etc/usbip/usbip.conf
[ -f "$conf" ] || fail "make install left no $conf"
cmp -s "$conf" /etc/usbip/usbip.conf.example || fail "$conf is not the installed default"
units=$(cd /usr/lib/systemd/system && ls usbip*.service | grep -v '@')
[ -n "$units" ] || fail "no usbip units installed"
for u in $units; do
    must systemctl start "$u"
    unit_wait_active 30 "$u"
    # still active a moment later, never restarted
    must_wait 10 "$u to say it is ready" sh -c "journalctl -b -q -u $u -o cat | grep -q ' ready'"
    unit_active "$u" || fail "$u did not stay active"
    [ "$(unit_restarts "$u")" = 0 ] || fail "$u restarted $(unit_restarts "$u") times"
    log "$u: active on the default $conf, no restart"
    must systemctl stop "$u"
    unit_failed "$u" && fail "$u failed on stop"
done
exit 0
