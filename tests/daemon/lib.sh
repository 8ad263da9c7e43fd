# The old name of tests/lib.sh, kept for shell suites written before it
# (they set builddir, srcdir, work and a trap of their own, then source
# this): tests/lib.sh, keeping the suite's $work. New suites source
# tests/lib.sh instead; remove this file once no suite sources it.
# shellcheck shell=sh
_suite_work=$work
# shellcheck source=../lib.sh
. "$srcdir/tests/lib.sh"
rm -rf "$work"
work=$_suite_work
