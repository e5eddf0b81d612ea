#!/usr/bin/env bash
# Configures (once) and builds taupe into build/ (Release, Ninja, ccache when present).
# Usage: bash scripts/build.sh [targets...]     (default: everything)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${TAUPE_BUILD_DIR:-build}"
JOBS="${TAUPE_JOBS:-$(nproc)}"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release ${TAUPE_CMAKE_ARGS:-}
fi
if [ "$#" -gt 0 ]; then
  cmake --build "$BUILD_DIR" -j "$JOBS" --target "$@"
else
  cmake --build "$BUILD_DIR" -j "$JOBS"
fi
