#!/usr/bin/env bash
# Builds the libFuzzer targets of gradc's readers with clang-19, ASan and
# UBSan (build-fuzz/) and runs each for SECONDS (default 20) from its seed
# corpus in fuzz/corpus/. A crash, leak or undefined behaviour fails the
# run and leaves the input in build-fuzz/findings/. CI runs it short;
# `scripts/fuzz.sh 600` is the long run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-20}"
export CCACHE_BASEDIR="$PWD"
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADC_FUZZ=ON > /dev/null
fi
TARGETS=(model_text model_binary onnx idx checkpoint)
ninja -C build-fuzz "${TARGETS[@]/#/fuzz-}"
mkdir -p build-fuzz/findings
for t in "${TARGETS[@]}"; do
  work="build-fuzz/corpus-$t"
  rm -rf "$work" && mkdir -p "$work"
  cp fuzz/corpus/"$t"/* "$work"/
  echo "fuzz-$t: ${SECONDS_EACH}s from $(ls fuzz/corpus/"$t" | wc -l) seeds"
  # -rss_limit_mb: a reader that allocates what a file claims fails here.
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/fuzz/fuzz-$t" -max_total_time="$SECONDS_EACH" \
      -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
      -artifact_prefix="build-fuzz/findings/$t-" "$work" \
      > "build-fuzz/fuzz-$t.log" 2>&1; then
    tail -40 "build-fuzz/fuzz-$t.log"
    echo "fuzz-$t: FAILED (input in build-fuzz/findings/)"
    exit 1
  fi
  grep -E '^Done|#[0-9]+.*DONE' "build-fuzz/fuzz-$t.log" | tail -1
done
echo "fuzzing: all targets ran without findings"
