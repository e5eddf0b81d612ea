#include "taupe/temporal/predictions.h"

#include <string>

#include "taupe/core/errors.h"
#include "taupe/temporal/model_set.h"
#include "taupe/temporal/sequence.h"

namespace taupe {

Predictions predict_trajectories(const EncodingSet& set, const ModelSet& ms) {
  if (set.latent_dims != ms.dims())
    throw DataError("encodings have " + std::to_string(set.latent_dims) + " latent dims, the models take " +
                    std::to_string(ms.dims()));
  std::vector<int> all(set.trajectories.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  const SequenceBatch in = build_inputs(set, all, ms.max_len());
  Predictions p;
  p.num_models = ms.num_models();
  p.n = in.n;
  p.mean.assign(static_cast<std::size_t>(in.n) * 3, 0.0);
  for (int k = 0; k < p.num_models; ++k) {
    const std::vector<float> probs = ms.predict(k, in.x);
    p.per_model.insert(p.per_model.end(), probs.begin(), probs.end());
    for (std::size_t j = 0; j < probs.size(); ++j) p.mean[j] += static_cast<double>(probs[j]) / p.num_models;
  }
  return p;
}

CsvTable prediction_table(const EncodingSet& set, const ModelSet& ms, const Predictions& p) {
  CsvTable t({"movie", "track_id", "trajectory_id", "rotation", "fate", "held_out_by", "model", "class",
              "probability"});
  for (std::int64_t i = 0; i < p.n; ++i) {
    const auto& tr = set.trajectories[static_cast<std::size_t>(i)];
    auto add = [&](const std::string& model, int c, double v) {
      t.add_row({tr.movie, cell(static_cast<long long>(tr.track_id)), cell(static_cast<long long>(tr.id)),
                 cell(tr.rotation), to_string(tr.fate), cell(ms.fold_of(tr.id)), model, kClassNames[c], cell(v)});
    };
    for (int k = 0; k < p.num_models; ++k)
      for (int c = 0; c < 3; ++c) add("m" + std::to_string(k), c, p.of(k, i, c));
    for (int c = 0; c < 3; ++c) add("mean", c, p.mean_of(i, c));
  }
  return t;
}

}  // namespace taupe
