#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds gradc and trains the
# Fashion-MNIST CNN on Debian's dataset-fashion-mnist. Extra arguments go
# to `gradc train` (e.g. --epochs 1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec build/tools/gradc train examples/fashion_mnist_cnn.pbtxt "$@"
