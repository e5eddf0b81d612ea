// `taupe predict`: apply a trained model set to encodings (or a glimpse container, encoded first
// with the model dir's encoder): per-trajectory probabilities of every fold model and their mean.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/dataset/encodings.h"
#include "taupe/encoder/encode.h"
#include "taupe/temporal/model_set.h"
#include "taupe/temporal/sequence.h"

namespace taupe::cli {

void register_predict(CLI::App& app);

namespace {
struct PredictArgs {
  std::filesystem::path encodings, glimpses, model_dir, out;
  std::int64_t memory_mb = 256;
};
}  // namespace

void register_predict(CLI::App& app) {
  auto a = std::make_shared<PredictArgs>();
  auto* sub = app.add_subcommand("predict",
                                 "per-trajectory fate probabilities of every model of a model set and their mean");
  sub->add_option("-m,--model-dir", a->model_dir, "trained model directory")->required();
  sub->add_option("--encodings", a->encodings, "encodings file (taupe.encodings .h5)");
  sub->add_option("--glimpses", a->glimpses, "glimpse container (encoded first with the model dir's encoder)");
  sub->add_option("-o,--out", a->out, "CSV to write (default: stdout)");
  sub->add_option("--memory-mb", a->memory_mb, "activation memory budget of a prediction chunk")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  set_action(sub, [a] {
    EncodingSet set;
    if (!a->glimpses.empty()) {
      const VaeModel model = VaeModel::load(a->model_dir);
      const auto tmp = a->out.empty() ? std::filesystem::temp_directory_path() / "taupe_predict_encodings.h5"
                                      : std::filesystem::path(a->out.string() + ".encodings.h5");
      set = encode_glimpse_file(model, a->glimpses, tmp);
    } else if (!a->encodings.empty()) {
      set = read_encodings(a->encodings);
    } else {
      throw ConfigError("give --encodings FILE or --glimpses FILE");
    }
    ModelSetOptions mo;
    mo.memory_budget_mb = a->memory_mb;
    const ModelSet ms = ModelSet::load(a->model_dir, mo);
    if (set.latent_dims != ms.dims())
      throw DataError("encodings have " + std::to_string(set.latent_dims) + " latent dims, the models take " +
                      std::to_string(ms.dims()));
    std::vector<int> all(set.trajectories.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    const SequenceBatch in = build_inputs(set, all, ms.max_len());
    const int K = ms.num_models();
    std::vector<std::vector<float>> probs(K);
    for (int k = 0; k < K; ++k) probs[k] = ms.predict(k, in.x);

    std::ostringstream s;
    s << std::setprecision(6) << "trajectory_id,rotation,fate,held_out_by";
    for (int k = 0; k < K; ++k)
      for (const char* c : kClassNames) s << ",m" << k << "_p_" << c;
    s << ",mean_p_mitosis,mean_p_apoptosis,mean_p_synthetic,predicted\n";
    for (int i = 0; i < in.n; ++i) {
      const auto& t = set.trajectories[i];
      s << t.id << "," << t.rotation << "," << to_string(t.fate) << "," << ms.fold_of(t.id);
      double mean[3] = {0, 0, 0};
      for (int k = 0; k < K; ++k)
        for (int c = 0; c < 3; ++c) {
          const float p = probs[k][static_cast<std::size_t>(i) * 3 + c];
          s << "," << p;
          mean[c] += p / K;
        }
      for (double m : mean) s << "," << m;
      s << "," << kClassNames[std::max_element(mean, mean + 3) - mean] << "\n";
    }
    if (a->out.empty()) {
      std::cout << s.str();
    } else {
      write_text_atomic(a->out, s.str());
      log_info("predictions of " + std::to_string(K) + " models for " + std::to_string(in.n) + " trajectories -> " +
               a->out.string());
    }
  });
}

}  // namespace taupe::cli
