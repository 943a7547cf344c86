#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds gradc and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
