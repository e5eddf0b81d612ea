#!/usr/bin/env bash
# Configures (once) and builds taupe into build/ (Release, Ninja, ccache when present).
# Usage: bash scripts/build.sh [targets...]     (default: everything)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${TAUPE_BUILD_DIR:-build}"
JOBS="${TAUPE_JOBS:-$(nproc)}"
# ccache: hash paths relative to the checkout so every clone (CI uses a fresh one) shares the
# cache, and let precompiled headers be cached.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-8G}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${TAUPE_CMAKE_ARGS:-}
fi
if [ "$#" -gt 0 ]; then
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "$@"
else
  cmake --build "$BUILD_DIR" -j "$JOBS"
fi
