#!/bin/sh
# Generates ./configure and the Makefile templates from configure.ac/Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4
autoreconf --force --install --warnings=all
