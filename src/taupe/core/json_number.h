#pragma once
// A double as JSON the way every taupe file writes it: finite numbers as they are, NaN and
// infinities ("undefined", e.g. a slope over an empty realistic range) as null.
#include <cmath>

#include <nlohmann/json.hpp>

namespace taupe {

inline nlohmann::json json_number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace taupe
