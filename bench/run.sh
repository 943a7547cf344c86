#!/usr/bin/env bash
# ===- run.sh - gradc vs. PyTorch training throughput ---------------------===#
#
# Trains each example model for a fixed number of steps with gradc
# (build/tools/gradc train) and with the PyTorch reference
# (bench/torch_reference.py): same model, batch size 64, same thread count,
# Adam (lr 0.001, eps 1e-7) for all -- LeNet's momentum optimizer is swapped
# for Adam in a temporary copy of its model file. Prints a table of images
# per second and the gradc/PyTorch ratio. Then the sequence models, each
# by its own script with PyTorch in the same run: the char transformer
# (bench/transformer.py, tokens per second) and the weather LSTM
# (bench/lstm.py, days per second); --sequence "" leaves them out. Builds
# nothing: run scripts/build.sh gradc first.
#
#   bench/run.sh [--threads T] [--steps N] [--data DIR] [--models "m1 m2"]
#                [--sequence "char_transformer weather_lstm"]
#                [--gradc PATH] [--python PATH] [--json FILE]
#
# ===----------------------------------------------------------------------===#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THREADS="$(nproc)"
STEPS=200
BATCH=64
DATA=/usr/share/datasets/fashion-mnist
MODELS="mnist_mlp fashion_mnist_cnn lenet"
SEQUENCE="char_transformer weather_lstm"
GRADC="$ROOT/build/tools/gradc"
PYTHON=/usr/bin/python3 # Debian's, which has python3-torch
JSON_OUT=""

usage() {
  sed -n '/^#   bench/,/^#$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  echo "defaults: --threads $THREADS --steps $STEPS --data $DATA"
  echo "          --models \"$MODELS\" --gradc $GRADC --python $PYTHON"
}

die() {
  echo "bench/run.sh: error: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
  --threads | --steps | --data | --models | --sequence | --gradc | --python | --json)
    [ $# -ge 2 ] || die "$1 needs a value"
    case "$1" in
    --threads) THREADS="$2" ;;
    --steps) STEPS="$2" ;;
    --data) DATA="$2" ;;
    --models) MODELS="$2" ;;
    --sequence) SEQUENCE="$2" ;;
    --gradc) GRADC="$2" ;;
    --python) PYTHON="$2" ;;
    --json) JSON_OUT="$2" ;;
    esac
    shift 2
    ;;
  --threads=* | --steps=* | --data=* | --models=* | --sequence=* | --gradc=* | --python=* | --json=*)
    set -- "${1%%=*}" "${1#*=}" "${@:2}"
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done

[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, got '$THREADS'"
[[ "$STEPS" =~ ^[1-9][0-9]*$ ]] || die "--steps must be a positive integer, got '$STEPS'"
[ -x "$GRADC" ] || die "$GRADC is missing or not executable; build it first (scripts/build.sh gradc) or pass --gradc PATH"
[ -x "$PYTHON" ] || die "$PYTHON not found; the PyTorch reference needs Debian's python3 with python3-torch"
"$PYTHON" -c 'import torch' 2>/dev/null || die "$PYTHON cannot import torch (apt-get install python3-torch)"
[ -d "$DATA" ] || die "data directory $DATA does not exist (apt-get install dataset-fashion-mnist, or pass --data DIR)"
for m in $MODELS; do
  [ -f "$ROOT/examples/$m.pbtxt" ] || die "no model examples/$m.pbtxt"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gradc-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Prints the value of KEY in the last JSON line of FILE, or nothing.
json_field() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
path, key = sys.argv[1], sys.argv[2]
lines = [l for l in open(path) if l.strip().startswith("{")]
if lines:
    value = json.loads(lines[-1]).get(key)
    if value is not None:
        print(value)
EOF
}

echo "gradc vs. PyTorch: batch $BATCH, $THREADS thread(s), $STEPS steps, Adam, data $DATA" >&2
failed=0
declare -A GRADC_IPS TORCH_IPS
for m in $MODELS; do
  # The model with Adam as its optimizer (one 'optimizer { ... }' line).
  model="$WORK/$m.pbtxt"
  sed -E 's/^optimizer[[:space:]]*\{.*\}[[:space:]]*$/optimizer { adam { learning_rate: 0.001 epsilon: 1e-7 } }/' \
    "$ROOT/examples/$m.pbtxt" >"$model"
  grep -q '^optimizer { adam { learning_rate: 0.001 epsilon: 1e-7 } }$' "$model" ||
    die "could not set Adam in examples/$m.pbtxt (expected one 'optimizer { ... }' line)"

  echo "[$m] gradc ..." >&2
  metrics="$WORK/$m.gradc.jsonl"
  if "$GRADC" train "$model" --batch-size "$BATCH" --threads "$THREADS" \
    --max-steps "$STEPS" --epochs 1 --metrics-json "$metrics" --data "$DATA" \
    >"$WORK/$m.gradc.log" 2>&1 && [ -s "$metrics" ]; then
    GRADC_IPS[$m]="$(json_field "$metrics" images_per_second)"
  fi
  if [ -z "${GRADC_IPS[$m]:-}" ]; then
    echo "[$m] gradc failed or wrote no images_per_second; last lines of its output:" >&2
    tail -n 15 "$WORK/$m.gradc.log" >&2 || true
    GRADC_IPS[$m]=""
    failed=1
  fi

  echo "[$m] PyTorch ..." >&2
  torch_out="$WORK/$m.torch.jsonl"
  # OpenBLAS at full speed for PyTorch (the environment may pin an older
  # kernel with OPENBLAS_CORETYPE, which halves its matrix products).
  if env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
    "$PYTHON" "$ROOT/bench/torch_reference.py" --model "$m" --threads "$THREADS" \
    --steps "$STEPS" --batch-size "$BATCH" --data "$DATA" \
    >"$torch_out" 2>"$WORK/$m.torch.log"; then
    TORCH_IPS[$m]="$(json_field "$torch_out" images_per_second)"
  fi
  if [ -z "${TORCH_IPS[$m]:-}" ]; then
    echo "[$m] PyTorch reference failed; last lines of its output:" >&2
    tail -n 15 "$WORK/$m.torch.log" >&2 || true
    TORCH_IPS[$m]=""
    failed=1
  fi
  if [ -n "$JSON_OUT" ]; then
    { cat "$metrics" 2>/dev/null | tail -n 1 | sed "s/^{/{\"framework\": \"gradc\", \"model\": \"$m\", /"
      cat "$torch_out" 2>/dev/null || true; } >>"$JSON_OUT" || true
  fi
done

printf '\n%-20s %14s %14s %8s\n' model "gradc img/s" "PyTorch img/s" ratio
for m in $MODELS; do
  g="${GRADC_IPS[$m]}"
  t="${TORCH_IPS[$m]}"
  ratio="-"
  if [ -n "$g" ] && [ -n "$t" ]; then
    ratio="$(awk -v g="$g" -v t="$t" 'BEGIN { if (t > 0) printf "%.2fx", g / t; else print "-" }')"
  fi
  printf '%-20s %14s %14s %8s\n' "$m" "${g:-failed}" "${t:-failed}" "$ratio"
done
for m in $SEQUENCE; do
  echo
  case "$m" in
  char_transformer) script=transformer.py steps=20 ;;
  weather_lstm) script=lstm.py steps="$STEPS" ;;
  *) die "no sequence benchmark '$m' (char_transformer, weather_lstm)" ;;
  esac
  if ! "$PYTHON" "$ROOT/bench/$script" --gradc "$GRADC" --threads "$THREADS" \
    --steps "$steps" >"$WORK/$m.seq.log" 2>&1; then
    echo "[$m] bench/$script failed; last lines of its output:" >&2
    tail -n 15 "$WORK/$m.seq.log" >&2 || true
    failed=1
    continue
  fi
  grep -v '^{' "$WORK/$m.seq.log" || true
  if [ -n "$JSON_OUT" ]; then
    grep '^{' "$WORK/$m.seq.log" >>"$JSON_OUT" || true
  fi
done
exit "$failed"
