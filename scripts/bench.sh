#!/usr/bin/env bash
# Builds the Google Benchmark targets (bench/) in build-bench/ and runs them. Speed targets are
# checked here, never in unit tests. Usage: bash scripts/bench.sh [benchmark-name-regex]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
TAUPE_BUILD_DIR=build-bench TAUPE_CMAKE_ARGS="-DTAUPE_BUILD_BENCHMARKS=ON -DTAUPE_BUILD_TESTS=OFF" \
  bash scripts/build.sh
for b in build-bench/bench/*_bench; do
  [ -x "$b" ] || continue
  if [ "$#" -gt 0 ] && ! [[ "$(basename "$b")" =~ $1 ]]; then continue; fi
  echo "== $(basename "$b")"
  "$b" --benchmark_counters_tabular=true
done
