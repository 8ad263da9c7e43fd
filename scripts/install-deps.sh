#!/bin/sh
# Installs the Debian packages this project needs to build, test and run its
# QEMU guest suite. Idempotent: quick when everything is there already.
set -eu
packages="build-essential autoconf automake libtool pkg-config
libudev-dev libwrap0-dev libssl-dev libwslay-dev libinih-dev libsystemd-dev libavahi-client-dev systemd hwdata libcmocka-dev clang clang-format cppcheck
qemu-system-x86 busybox-static cpio kmod zstd xz-utils iproute2 nftables openssl tcpdump tinyproxy libmtp-dev procps gdb bash-completion pmccabe
curl dbus avahi-daemon avahi-utils"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
