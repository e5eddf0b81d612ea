#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build of everything (build-asan/) and the default
# test suite under it (`ctest -LE slow`). Debug build (assertions on) at -O1, the level the
# ASan documentation recommends: our own loops (simulator, renderer) stay fast enough and the
# reports keep exact file:line. The sanitizer run-time options (ASAN/LSAN/UBSAN_OPTIONS, with the
# third-party leak suppressions in tests/sanitizer/lsan.supp) are attached to every test by
# CMake when TAUPE_SANITIZE=ON (tests/CMakeLists.txt), so plain `ctest` in build-asan/ uses them.
#
# Usage: bash scripts/sanitize.sh [extra ctest args]        e.g. -R test_core
# Env:   TAUPE_ASAN_BUILD_DIR (default build-asan), TAUPE_JOBS (default: cores).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${TAUPE_ASAN_BUILD_DIR:-build-asan}"
JOBS="${TAUPE_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
        -DTAUPE_SANITIZE=ON ${TAUPE_CMAKE_ARGS:-}
fi
cmake --build "$BUILD_DIR" -j "$JOBS"
cd "$BUILD_DIR"
ctest --output-on-failure -LE slow -j "$JOBS" "$@"
