# sdlib.sh — helpers for the systemd guest's cases (/tests/sdlib.sh in the
# guest), on top of /tests/lib.sh.  A case starts with:
#   . /tests/lib.sh
#   . /tests/sdlib.sh
# The cases run under bash (guest-run.sh: VMTEST_SHELL); ip, dd, ... are
# the real ones (no busybox in this guest).
# shellcheck shell=sh

# sd_state — systemd's state (running, degraded, starting, ...)
sd_state() { systemctl is-system-running 2>/dev/null; }

# sd_booted SECS — wait until the boot is finished; fail unless the state
# is running or degraded
sd_booted() {
    _st=$(timeout "${1:-60}" systemctl is-system-running --wait 2>/dev/null)
    case $_st in running | degraded) return 0 ;; esac
    fail "systemd did not finish booting: state '$_st'"
}

# unit_prop UNIT PROPERTY — one property's value (systemctl show)
unit_prop() { systemctl show -p "$2" --value "$1"; }
unit_main_pid() { unit_prop "$1" MainPID; }           # 0 when not running
unit_restarts() { unit_prop "$1" NRestarts; }         # restarts since boot
unit_active() { systemctl -q is-active "$1"; }        # UNIT
unit_failed() { systemctl -q is-failed "$1"; }        # UNIT

# unit_wait_active SECS UNIT — fail unless UNIT becomes active in time
unit_wait_active() {
    wait_for "$1" unit_active "$2" || {
        systemctl status --no-pager -n 20 "$2" 2>&1
        fail "$2 is not active after $1 s (state $(systemctl is-active "$2"))"
    }
}

# unit_wait_new_pid SECS UNIT OLDPID — wait until UNIT runs again with a
# main PID other than OLDPID (after a kill, a restart); prints the new PID
unit_wait_new_pid() {
    _n=$(($1 * 10))
    while [ "$_n" -gt 0 ]; do
        _p=$(unit_main_pid "$2")
        if [ -n "$_p" ] && [ "$_p" != 0 ] && [ "$_p" != "$3" ] && unit_active "$2"; then
            echo "$_p"
            return 0
        fi
        sleep 0.1
        _n=$((_n - 1))
    done
    systemctl status --no-pager -n 20 "$2" >&2
    fail "$2 did not come back with a new main PID within $1 s"
}

# journal_mark — remember where the journal is now (sets JOURNAL_MARK)
journal_mark() {
    JOURNAL_MARK=$(journalctl -q -n 0 --show-cursor 2>/dev/null | sed -n 's/^-- cursor: //p')
}

# journal_since_mark [JOURNALCTL-ARGS...] — the journal after journal_mark
# (e.g. journal_since_mark -u usbipa.service), message text only
journal_since_mark() {
    if [ -n "${JOURNAL_MARK:-}" ]; then
        journalctl -q --no-pager -o cat --after-cursor="$JOURNAL_MARK" "$@"
    else
        journalctl -q --no-pager -o cat -b "$@"
    fi
}

# journal_wait SECS PATTERN [JOURNALCTL-ARGS...] — wait for a line matching
# the extended regular expression PATTERN after journal_mark
journal_wait() {
    _jt=$1 _jp=$2
    shift 2
    wait_for "$_jt" _journal_has "$_jp" "$@" || {
        journal_since_mark "$@" | tail -n 20
        fail "no journal line matching '$_jp' within $_jt s"
    }
}
_journal_has() {
    _p=$1
    shift
    journal_since_mark "$@" | grep -Eq -- "$_p"
}
