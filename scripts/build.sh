#!/bin/sh
# Configures (again, when the options or configure changed) and builds.
# usage: scripts/build.sh BUILDDIR [configure options...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=$1
shift
[ -x "$top/configure" ] || (cd "$top" && ./autogen.sh >/dev/null 2>&1)
# A test file added since: make below then re-runs automake by itself.
[ ! -x "$top/scripts/gen-tests-am" ] || "$top/scripts/gen-tests-am"
mkdir -p "$builddir"
cd "$builddir"
options="$*"
if [ ! -f Makefile ] || [ "$top/configure" -nt Makefile ] ||
	[ "$(cat .configure-options 2>/dev/null)" != "$options" ]; then
	"$top/configure" "$@" >configure.out 2>&1 || { tail -20 configure.out; exit 1; }
	echo "$options" >.configure-options
fi
make -j"$(nproc)" >make.out 2>&1 || { grep -E 'error|Error' make.out | head -20; exit 1; }
