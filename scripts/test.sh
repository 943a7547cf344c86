#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds gradc and runs every test, then
# a short fuzzing run of the readers under ASan and UBSan (scripts/fuzz.sh;
# GRADC_FUZZ_SECONDS=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j"$(nproc)" "$@")
if [ "${GRADC_FUZZ_SECONDS:-20}" != 0 ]; then
  bash scripts/fuzz.sh "${GRADC_FUZZ_SECONDS:-20}"
fi
