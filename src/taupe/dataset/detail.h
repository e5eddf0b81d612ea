#pragma once
// Internal helpers shared by the container implementations (not part of the public API).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "taupe/core/errors.h"
#include "taupe/dataset/types.h"

namespace taupe::detail {

/// Compression used by every container: gzip level 1 + byte shuffle. Level 1 compresses
/// noisy microscopy images within a few % of level 4-9 at 2-3x the speed (see docs/formats.md).
inline constexpr int kGzipLevel = 1;

inline Fate fate_from_code(std::int8_t code, const std::string& where) {
  if (code < 0 || code > 3)
    throw DataError(where + ": fate code " + std::to_string(code) +
                    " is invalid (0 censored, 1 mitosis, 2 apoptosis, 3 left_field)");
  return static_cast<Fate>(code);
}

inline CellType cell_type_from_code(std::int8_t code, const std::string& where) {
  if (code < 0 || code > 2)
    throw DataError(where + ": cell type code " + std::to_string(code) + " is invalid (0 unknown, 1 wt, 2 scrib)");
  return static_cast<CellType>(code);
}

inline void check_feature_name(const std::string& name, const std::string& where) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw DataError(where + ": feature name '" + name + "' is invalid (non-empty, no '/')");
}

template <class K, class V>
std::vector<K> keys(const std::map<K, V>& m) {
  std::vector<K> out;
  out.reserve(m.size());
  for (const auto& kv : m) out.push_back(kv.first);
  return out;
}

}  // namespace taupe::detail
