#!/usr/bin/env bash
# The README's test command: installs dependencies, builds everything into build/ and runs the
# default test suite (unit + cli + e2e; not the slow statistical tests: `ctest -L slow`).
# Usage: bash scripts/test.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd "${TAUPE_BUILD_DIR:-build}"
ctest --output-on-failure -LE slow -j2 "$@"
