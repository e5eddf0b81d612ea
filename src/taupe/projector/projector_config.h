#pragma once
// Configuration of the projector stage (`[projector]` in the presets): PCA on the z_mean of
// the patches (reference §4) and the PC-meaning report.
#include <cstdint>

#include "taupe/core/config.h"

namespace taupe {

struct ProjectorConfig {
  static constexpr const char* kSection = "projector";
  std::int64_t max_patches = 0;   ///< fit on at most this many patches (0 = all, as the reference)
  int batch_size = 128;           ///< encoding batch size (reference: 512; 128 fastest on CPU)

  template <class V>
  void visit(V& v) {
    v("max_patches", max_patches, "fit the PCA on at most this many patches (0 = all)", at_least(0));
    v("batch_size", batch_size, "encoding batch size while fitting (results equal up to float rounding)", above(0),
      speed_only);
  }
  void validate() const {
    check_fields(*this);
  }
};

}  // namespace taupe
