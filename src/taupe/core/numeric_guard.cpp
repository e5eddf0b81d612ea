// Non-finite loss / weight guards (numeric_guard.h).
#include "taupe/core/numeric_guard.h"

#include <cmath>
#include <sstream>

#include "taupe/core/errors.h"

namespace taupe {

std::string LastCheckpoint::describe() const {
  if (path.empty()) return "none yet (the stage starts over when run again)";
  return path + " (step " + std::to_string(step) + ")";
}

void require_finite_loss(double loss, const std::string& what, std::int64_t step, const LastCheckpoint& last,
                         const std::string& hint) {
  if (std::isfinite(loss)) return;
  std::ostringstream v;
  v << loss;
  throw ModelError(what + ": loss is " + v.str() + " at step " + std::to_string(step) +
                       "; training stopped before applying it; last good checkpoint: " + last.describe(),
                   hint);
}

void require_finite_weights(const std::vector<std::string>& non_finite, const std::string& what,
                            const LastCheckpoint& last, const std::string& hint) {
  if (non_finite.empty()) return;
  std::string names;
  for (std::size_t i = 0; i < non_finite.size() && i < 5; ++i) names += (i ? ", " : "") + non_finite[i];
  if (non_finite.size() > 5) names += " and " + std::to_string(non_finite.size() - 5) + " more";
  throw ModelError(what + ": non-finite weights (NaN or Inf) in " + names +
                       "; not saved; last good checkpoint: " + last.describe(),
                   hint);
}

}  // namespace taupe
