#pragma once
// Fate probabilities of every trajectory of an encoding set under every model of a model set,
// and their mean: what `taupe predict` writes and what the napari export attaches to tracks.
//
//   const Predictions p = predict_trajectories(set, ms);
//   double apo = p.mean_of(i, 1);                       // mean over models, trajectory i
//   CsvTable t = prediction_table(set, ms, p);          // tidy long table keyed by (movie, track_id)
#include <cstdint>
#include <vector>

#include "taupe/dataset/csv.h"
#include "taupe/dataset/encodings.h"

namespace taupe {

class ModelSet;

struct Predictions {
  int num_models = 0;
  std::int64_t n = 0;            ///< trajectories, in set.trajectories order
  std::vector<float> per_model;  ///< (num_models, n, 3) probabilities, typicality gate applied
  std::vector<double> mean;      ///< (n, 3) mean over the models
  float of(int model, std::int64_t i, int c) const {
    return per_model[(static_cast<std::size_t>(model) * static_cast<std::size_t>(n) + static_cast<std::size_t>(i)) * 3 +
                     static_cast<std::size_t>(c)];
  }
  double mean_of(std::int64_t i, int c) const { return mean[static_cast<std::size_t>(i) * 3 + static_cast<std::size_t>(c)]; }
};

/// Every trajectory (exact cutoff, unaugmented inputs) through every model. Throws DataError when
/// the encodings' latent size differs from the models'.
Predictions predict_trajectories(const EncodingSet& set, const ModelSet& ms);

/// Tidy long table: one row per trajectory × model (m0 … m<K−1>, mean) × class, columns movie,
/// track_id, trajectory_id, rotation, fate, held_out_by, model, class, probability.
CsvTable prediction_table(const EncodingSet& set, const ModelSet& ms, const Predictions& p);

}  // namespace taupe
