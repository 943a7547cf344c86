#!/usr/bin/env bash
# Installs every Debian package gradc needs to build, test and benchmark.
# Idempotent: re-running it only installs what is missing.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake ninja-build ccache g++ clang-format-14 git
  # LLVM / MLIR 19 (IR, passes, JIT, FileCheck, lit)
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools libomp-19-dev
  # libraries
  libabsl-dev libprotobuf-dev protobuf-compiler libgtest-dev libgmock-dev
  zlib1g-dev libonnx-dev libpng-dev libjpeg62-turbo-dev
  # data-parallel training (mpirun -np P gradc train)
  openmpi-bin libopenmpi-dev
  # tests and benchmark references
  python3 python3-torch python3-onnx libopenblas0-pthread
  # ONNX conformance (Debian's copy of ONNX's node tests)
  libonnx-testdata
  # the HTML report's browser test (headless)
  chromium
  # the readers' fuzz targets (libFuzzer, ASan, UBSan: scripts/fuzz.sh)
  clang-19 libclang-rt-19-dev
  # the data readers' tests (NumPy files and PNG/JPEG images they write)
  python3-numpy imagemagick
  # default data set; a real tabular one (Seattle weather, CSV) for the
  # regression example; English text (fortunes' quotations) for the
  # character-level language model
  dataset-fashion-mnist python3-vega-datasets fortunes
)

# Node and npm run ONNX Runtime in the export test (onnxruntime-node, below);
# a machine that already has Node (e.g. from NodeSource) keeps it.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime for the export test: the npm package ships its Linux x64
# library; --ignore-scripts skips its install script, which downloads extra
# binaries (and fails offline).
ORT_DIR="$(cd "$(dirname "$0")/.." && pwd)/.deps/ort"
if [ ! -f "$ORT_DIR/node_modules/onnxruntime-node/package.json" ]; then
  mkdir -p "$ORT_DIR"
  npm install --prefix "$ORT_DIR" --ignore-scripts --no-audit --no-fund \
    onnxruntime-node@1.30.0
fi
