#pragma once
// A small work-sharing loop over threads, used wherever taupe runs independent tasks on the
// cores (fields of view, folds, trajectories to encode).
#include <functional>

namespace taupe {

/// Runs fn(i) for i in [0, n) on min(threads, n) threads that take indices in increasing order
/// from a shared counter; with one thread, inline in order (no set-up). Every worker thread first
/// calls `thread_setup` (when given, e.g. to set its LibTorch intra-op thread count). The first
/// exception stops the remaining indices and is rethrown after all threads have joined.
void parallel_for(int n, int threads, const std::function<void(int)>& fn,
                  const std::function<void()>& thread_setup = {});

}  // namespace taupe
