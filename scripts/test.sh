#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds gradc and runs the tests a
# contributor needs before a commit: unit, lit, end-to-end and conformance
# tests, by ctest.
#
#   scripts/test.sh [--all] [CTEST_ARGS...]
#
# --all (what .ci/run calls) then also runs a short, reproducible fuzzing
# round of the readers under ASan and UBSan (scripts/fuzz.sh) and the unit
# and end-to-end tests again under ASan and UBSan (scripts/sanitize.sh), each
# a second build in build-fuzz/. GRADC_FUZZ=0 or GRADC_SANITIZE=0 leaves
# either out of --all.
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
if [ "${1:-}" = --all ]; then
  all=1
  shift
fi
bash scripts/setup.sh
bash scripts/build.sh
# The tests share a compile cache of their own, empty at the start.
rm -rf build/test-cache
(cd build && XDG_CACHE_HOME="$PWD/test-cache" \
  ctest --output-on-failure -j"$(nproc)" "$@")
if [ "$all" = 1 ] && [ "${GRADC_FUZZ:-1}" != 0 ]; then
  bash scripts/fuzz.sh
fi
if [ "$all" = 1 ] && [ "${GRADC_SANITIZE:-1}" != 0 ]; then
  bash scripts/sanitize.sh
fi
