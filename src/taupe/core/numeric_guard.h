#pragma once
// Guards of the training loops against non-finite numbers (docs/reliability.md). Torch-free:
// the trainers pass the loss value / the names of non-finite tensors.
//
// Rule: a NaN or Inf loss stops the stage at once, before the optimiser applies that step, with
// a ModelError naming the step and the last good checkpoint (whose weights were finite when it
// was written). There is no automatic rollback-and-retry: the same seed would diverge again at
// the same step, so the message says which setting to change. Weights are checked before they
// are saved as the stage's result, so no later stage (and no report) reads non-finite weights.
#include <cstdint>
#include <string>
#include <vector>

namespace taupe {

/// Where training can be resumed from when it stops.
struct LastCheckpoint {
  std::string path;        ///< "" = none written yet
  std::int64_t step = 0;   ///< optimiser steps it holds
  std::string describe() const;  ///< "<path> (step N)" or "none yet (the stage starts over)"
};

/// Throws ModelError when `loss` is NaN or infinite: "<what>: loss is nan at step N; last good
/// checkpoint: <...>", with `hint` (the setting to change).
void require_finite_loss(double loss, const std::string& what, std::int64_t step, const LastCheckpoint& last,
                         const std::string& hint);

/// Throws ModelError when `non_finite` (names of tensors holding NaN / Inf) is not empty:
/// "<what>: non-finite weights in <names>; not saved".
void require_finite_weights(const std::vector<std::string>& non_finite, const std::string& what,
                            const LastCheckpoint& last, const std::string& hint);

}  // namespace taupe
