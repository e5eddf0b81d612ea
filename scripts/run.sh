#!/usr/bin/env bash
# The README's main command: installs dependencies, builds taupe and runs its main job,
# `taupe run`, on the embedded default configuration (extra arguments are passed on, e.g.
# `bash scripts/run.sh --preset quick`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh taupe
TAUPE=build/apps/taupe/taupe
if "$TAUPE" run --help >/dev/null 2>&1; then
  exec "$TAUPE" run "$@"
fi
# `taupe run` is not there yet: run the stages that exist, in pipeline order, into runs/latest.
OUT="${TAUPE_OUT:-runs/latest}"
echo "run.sh: 'taupe run' is not available in this version; running the stages that are, into $OUT" >&2
"$TAUPE" info
if "$TAUPE" simulate --help >/dev/null 2>&1; then
  "$TAUPE" simulate --out "$OUT/simulate" "$@"
fi
