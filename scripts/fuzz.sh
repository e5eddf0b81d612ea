#!/usr/bin/env bash
# Builds taupe's libFuzzer targets (clang, -DTAUPE_FUZZ=ON) and runs each for a set time on
# the committed seed corpus (fuzz/corpus/<target>), one after the other.
#
#   scripts/fuzz.sh [seconds-per-target (default 60)] [target ...]
#
# Env: BUILD_DIR (default build-fuzz), JOBS (build jobs, default 2), FUZZ_ARGS (extra libFuzzer
# flags). New corpus entries go to $BUILD_DIR/corpus/<target> (the committed seeds are never
# modified); crashes to $BUILD_DIR/artifacts/<target>/. Prints one summary line per target:
# executions, executions per second, coverage (edges) and features, corpus size, and
# crash/leak/sanitizer reports.
# Exit status is non-zero if any target found a problem.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_npy fuzz_npz fuzz_tracks_text fuzz_tiff fuzz_btrack)
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}

if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
        -DTAUPE_FUZZ=ON -DTAUPE_BUILD_TESTS=OFF -DTAUPE_BUILD_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$build" --target "${targets[@]}" -j "$jobs"

status=0
printf '%-18s %10s %7s %8s %8s %8s  %s\n' target execs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  seeds=fuzz/corpus/${t#fuzz_}
  work=$build/corpus/$t
  art=$build/artifacts/$t/
  mkdir -p "$work" "$art"
  log=$build/$t.log
  set +e
  export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0"
  # -rss_limit_mb guards against decompression bombs; leaks are detected (ASan/LSan default).
  limits="-rss_limit_mb=2048"
  asan="${ASAN_OPTIONS:-}"
  if [ "$t" = fuzz_btrack ]; then
    # Structure-aware: the input is decoder bytes (lineage + damages), not an HDF5 file; longer
    # inputs describe more tracks and more damages than libFuzzer's default length would allow.
    limits="$limits -max_len=1024"
  fi
  ASAN_OPTIONS="$asan" "$build/fuzz/$t" "$work" "$seeds" -max_total_time="$seconds" $limits -timeout=20 \
      -print_final_stats=1 -artifact_prefix="$art" ${FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
  rate=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}' | tail -1)
  last=$(grep -E '#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
  if [ $rc -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    result=ok
  else
    result="PROBLEM (rc $rc, see $log)"
    status=1
  fi
  printf '%-18s %10s %7s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $status
