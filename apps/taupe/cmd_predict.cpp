// `taupe predict`: apply a trained model set to encodings (or a glimpse container, encoded first
// with the model dir's encoder): per-trajectory probabilities of every fold model and their mean,
// as a tidy long CSV keyed by (movie, track_id) (docs/cli.md).
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include "cli.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/dataset/encodings.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/report/csv.h"
#include "taupe/encoder/encode.h"
#include "taupe/temporal/model_set.h"
#include "taupe/temporal/predictions.h"
#include "taupe/temporal/sequence.h"

namespace taupe::cli {

void register_predict(CLI::App& app);

namespace {
struct PredictArgs {
  std::filesystem::path encodings, glimpses, model_dir, out;
  std::int64_t memory_mb = ModelSetOptions{}.memory_budget_mb;
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
    std::unique_ptr<RunLock> lock;
    if (!a->out.empty()) lock = lock_output(a->out, /*output_is_file=*/true);
    EncodingSet set;
    if (!a->glimpses.empty()) {
      // Encoded in memory: nothing is written besides the table.
      set = encode_glimpse_file(VaeModel::load(a->model_dir), a->glimpses, {});
    } else if (!a->encodings.empty()) {
      set = read_encodings(a->encodings);
      // Encodings written before they carried the join key: take it from their glimpse file.
      const bool keyless = std::any_of(set.trajectories.begin(), set.trajectories.end(),
                                       [](const EncodedTrajectory& t) { return t.movie.empty(); });
      if (keyless && !set.glimpse_file.empty() && std::filesystem::is_regular_file(set.glimpse_file)) {
        const GlimpseReader gr(set.glimpse_file);
        std::map<std::int64_t, const GlimpseInfo*> by_id;
        for (const GlimpseInfo& g : gr.infos()) by_id[g.id] = &g;
        for (EncodedTrajectory& t : set.trajectories)
          if (auto it = by_id.find(t.id); it != by_id.end() && t.movie.empty()) {
            t.movie = it->second->movie;
            t.track_id = it->second->track_id;
          }
      }
    } else {
      throw ConfigError("give --encodings FILE or --glimpses FILE");
    }
    ModelSetOptions mo;
    mo.memory_budget_mb = a->memory_mb;
    const ModelSet ms = ModelSet::load(a->model_dir, mo);
    // Tidy long table: one row per trajectory x model (m0.., mean) x class; (movie, track_id)
    // joins it back to the tracks.
    const Predictions p = predict_trajectories(set, ms);
    const CsvTable t = prediction_table(set, ms, p);
    if (a->out.empty()) {
      std::cout << report::to_csv(t);
    } else {
      report::write_csv(a->out, t);
      log_info("predictions of " + std::to_string(p.num_models) + " models for " + std::to_string(p.n) + " trajectories -> " +
               a->out.string());
    }
  });
}

}  // namespace taupe::cli
