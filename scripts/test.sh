#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds gradc and runs every test, then
# a short, reproducible fuzzing run of the readers under ASan and UBSan
# (scripts/fuzz.sh; GRADC_FUZZ=0 skips it) and the unit and end-to-end
# tests again under ASan and UBSan (scripts/sanitize.sh; GRADC_SANITIZE=0
# skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# The tests share a compile cache of their own, empty at the start.
rm -rf build/test-cache
(cd build && XDG_CACHE_HOME="$PWD/test-cache" \
  ctest --output-on-failure -j"$(nproc)" "$@")
if [ "${GRADC_FUZZ:-1}" != 0 ]; then
  bash scripts/fuzz.sh
fi
if [ "${GRADC_SANITIZE:-1}" != 0 ]; then
  bash scripts/sanitize.sh
fi
