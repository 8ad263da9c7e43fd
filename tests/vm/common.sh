# Shared helpers for the host-side VM test scripts (sourced, not executed).
# shellcheck shell=bash

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${VM_CACHE:=$VM_DIR/.cache}"
export VM_CACHE

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }

vm_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            vm_die "'$c' not found; install Debian packages: $(vm_host_packages)"
    done
}

vm_host_packages() {
    echo "qemu-system-x86 cpio kmod (and dpkg, apt, coreutils, gzip, which every Debian has)"
}

# Is $1 an ELF file? (without needing file(1))
vm_is_elf() {
    [ -f "$1" ] && [ ! -L "$1" ] && [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]
}
