#!/bin/sh
# Generates ./configure and the Makefile templates from configure.ac/Makefile.am,
# and first tests/tests.am, the list of the tests (scripts/gen-tests-am).
set -e
cd "$(dirname "$0")"
scripts/gen-tests-am
mkdir -p m4
autoreconf --force --install --warnings=all
