#pragma once
// Generated encodings for the temporal tests: the class is decodable from latent dim 0 in the
// last frames before the cutoff (mitosis +signal, apoptosis -signal); everything else is noise.
#include <cstdint>

#include "taupe/core/rng.h"
#include "taupe/dataset/encodings.h"
#include "taupe/projector/pca.h"
#include "taupe/temporal/temporal_config.h"

namespace taupe::testing {

inline EncodingSet make_encodings(int n_mitosis, int n_apoptosis, int n_censored, int rotations, int dims,
                                  std::uint64_t seed, double signal = 2.0) {
  EncodingSet set;
  set.latent_dims = dims;
  set.glimpse_file = "generated";
  Rng rng(seed);
  std::int64_t id = 100;
  auto add = [&](Fate fate, int count) {
    for (int i = 0; i < count; ++i, ++id) {
      const int T = static_cast<int>(rng.integer(20, 60));
      const int cutoff = T - 1 - static_cast<int>(rng.integer(0, 3));
      const double sign = fate == Fate::kMitosis ? 1.0 : fate == Fate::kApoptosis ? -1.0 : 0.0;
      std::vector<float> base(static_cast<std::size_t>(T) * dims);
      for (int t = 0; t < T; ++t)
        for (int d = 0; d < dims; ++d)
          base[static_cast<std::size_t>(t) * dims + d] =
              static_cast<float>(rng.normal(0.0, 0.5) + (d == 0 && t >= cutoff - 8 ? sign * signal : 0.0));
      for (int r = 0; r < rotations; ++r) {
        EncodedTrajectory e;
        e.id = id;
        e.fate = fate;
        e.cutoff = cutoff;
        e.rotation = r;
        e.z_mean = std::vector<float>(base);  // copy-construct (copy-assigning into the empty vector trips a GCC 12 -Wnonnull false positive)
        for (auto& v : e.z_mean) v += static_cast<float>(rng.normal(0.0, 0.05));  // rotations differ a little
        e.z_log_var.assign(e.z_mean.size(), 0.3f);
        set.trajectories.push_back(std::move(e));
      }
    }
  };
  add(Fate::kMitosis, n_mitosis);
  add(Fate::kApoptosis, n_apoptosis);
  add(Fate::kCensored, n_censored);
  return set;
}

/// Identity PCA of `dims` dims (mean 0): PC space = latent space.
inline Pca identity_pca(int dims) {
  Pca p;
  p.dims = dims;
  p.mean.assign(dims, 0.0);
  p.components.assign(static_cast<std::size_t>(dims) * dims, 0.0);
  for (int i = 0; i < dims; ++i) p.components[static_cast<std::size_t>(i) * dims + i] = 1.0;
  p.explained_variance.assign(dims, 1.0);
  p.explained_variance_ratio.assign(dims, 1.0 / dims);
  p.samples = 100;
  return p;
}

/// A small, fast TCN configuration for tests (max_len 32, 4 blocks).
inline TemporalConfig tiny_temporal() {
  TemporalConfig c;
  c.max_len = 32;
  c.filters = 16;
  c.dilations = {1, 2, 4, 8};
  c.head_units = 16;
  c.batch_size = 32;
  c.steps_per_epoch = 15;
  c.epochs = 4;
  c.crop_max = 20;
  c.dropout = 0.1;
  return c;
}

}  // namespace taupe::testing
