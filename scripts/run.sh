#!/usr/bin/env bash
# The README's main command: installs dependencies, builds taupe and runs its main job,
# `taupe run`, on the embedded default configuration (extra arguments are passed on, e.g.
# `bash scripts/run.sh --preset quick`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh taupe
exec build/apps/taupe/taupe run "$@"
