#!/usr/bin/env bash
# Builds the libFuzzer targets of gradc's readers with clang-19, ASan and
# UBSan (build-fuzz/) and runs each from its seed corpus in fuzz/corpus/.
# Without an argument (CI: scripts/test.sh --all) each runs a fixed number of
# inputs from seed 1, so a run is reproducible; `scripts/fuzz.sh SECONDS`
# runs each for that long from a random seed (the long run). A crash, leak
# or undefined behaviour fails the run and leaves the input in
# build-fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-}"
export CCACHE_BASEDIR="$PWD"
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-19 CXX=clang++-19 cmake -S . -B build-fuzz -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRADC_FUZZ=ON > /dev/null
fi
TARGETS=(model_text model_binary onnx idx checkpoint cache_entry npy npz csv
         image cifar text)
# Inputs per target in the reproducible run (about 10-20 s each here).
declare -A RUNS=([model_text]=100000 [model_binary]=30000 [onnx]=30000
                 [idx]=1000 [checkpoint]=30000 [cache_entry]=100000
                 [npy]=8000 [npz]=5000 [csv]=6000
                 [image]=8000 [cifar]=5000 [text]=20000)
ninja -C build-fuzz "${TARGETS[@]/#/fuzz-}"
mkdir -p build-fuzz/findings
for t in "${TARGETS[@]}"; do
  work="build-fuzz/corpus-$t"
  rm -rf "$work" && mkdir -p "$work"
  cp fuzz/corpus/"$t"/* "$work"/
  if [ -n "$SECONDS_EACH" ]; then
    limit=(-max_total_time="$SECONDS_EACH")
  else
    limit=(-runs="${RUNS[$t]}" -seed=1)
  fi
  echo "fuzz-$t: ${limit[*]} from $(ls fuzz/corpus/"$t" | wc -l) seeds"
  # -rss_limit_mb: a reader that allocates what a file claims fails here.
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/fuzz/fuzz-$t" "${limit[@]}" \
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
