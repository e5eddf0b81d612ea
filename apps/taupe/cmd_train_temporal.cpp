// `taupe train temporal`: K-fold cross-validation of the TCN on stored encodings (one TCN per
// fold, each tested on its held-out fold). Resumes after interruption. Registered under `train`
// by cmd_train.cpp.
#include <iostream>
#include <map>
#include <memory>

#include "cli.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/progress.h"
#include "taupe/dataset/encodings.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/encode.h"
#include "taupe/pipeline/run_config.h"
#include "taupe/projector/projector.h"
#include "taupe/temporal/artifacts.h"
#include "taupe/temporal/cross_validation.h"

namespace taupe {

namespace {
struct TemporalArgs {
  std::filesystem::path encodings, glimpses, model_dir;
  int only_fold = -1;
  cli::ConfigOptions cfg;
};

/// The encodings to train on: the given file, or (with --glimpses) the glimpses encoded by the
/// model dir's encoder into --encodings (default <model-dir>/encodings.h5), reused if present.
EncodingSet load_or_encode(const TemporalArgs& a) {
  if (a.glimpses.empty()) {
    if (a.encodings.empty()) throw ConfigError("give --encodings FILE, or --glimpses FILE to encode them first");
    return read_encodings(a.encodings);
  }
  const auto out = a.encodings.empty() ? encoder_artifacts::encodings(a.model_dir) : a.encodings;
  if (std::filesystem::exists(out)) {
    log_info("reusing encodings " + out.string());
    return read_encodings(out);
  }
  log_info("encoding " + a.glimpses.string() + " -> " + out.string());
  const VaeModel model = VaeModel::load(a.model_dir);
  return encode_glimpse_file(model, a.glimpses, out);
}
}  // namespace

void register_train_temporal(CLI::App& train) {
  auto a = std::make_shared<TemporalArgs>();
  auto* sub = train.add_subcommand(
      "temporal", "K-fold cross-validation of the TCN on stored encodings (resumes after interruption)");
  sub->add_option("--encodings", a->encodings, "encodings file (taupe.encodings .h5)");
  sub->add_option("--glimpses", a->glimpses, "glimpse container to encode first with the model dir's encoder");
  sub->add_option("-m,--model-dir", a->model_dir, "model directory holding pca.h5 (and the encoder)")->required();
  sub->add_option("--only-fold", a->only_fold, "train and test only this fold (others are reused if finished)");
  cli::add_config_options(sub, a->cfg);
  cli::bind_config_flags(sub, TemporalConfig{}, a->cfg);
  cli::bind_config_flags(sub, CvConfig{}, a->cfg);
  cli::set_action(sub, [a] {
    const auto lock = cli::lock_output(a->model_dir);
    const RunConfig rc = cli::resolve_run_config(a->cfg);
    const EncodingSet set = load_or_encode(*a);
    const Pca pca = load_projector(a->model_dir);
    const std::int64_t per_fold = static_cast<std::int64_t>(rc.temporal.epochs) * rc.temporal.steps_per_epoch;
    std::unique_ptr<Progress> progress;
    CvOptions opts;
    opts.only_fold = a->only_fold;
    std::map<int, int> epochs_by_fold;  // folds train in parallel: count every fold's epochs
    auto on_epoch = [&](const CvProgressEvent& e) {
      epochs_by_fold[e.fold] = e.epoch;
      std::int64_t epochs_done = 0;
      for (const auto& [fold, n] : epochs_by_fold) epochs_done += n;
      if (!progress) progress = std::make_unique<Progress>("train temporal", per_fold * rc.cv.folds, "steps");
      char status[160];
      std::snprintf(status, sizeof status, "fold %d/%d epoch %d/%d loss %.3f acc %.2f val %.2f%s", e.fold + 1,
                    rc.cv.folds, e.epoch, e.epochs, e.train_loss, e.train_accuracy, e.val_accuracy,
                    e.resumed ? " (resumed)" : "");
      progress->set_status(status);
      progress->update(epochs_done * rc.temporal.steps_per_epoch);
    };
    const CvResult r = run_cross_validation(set, pca, rc.temporal, rc.cv, a->model_dir, on_epoch, opts);
    if (progress) progress->finish();
    std::cout << r.full() << "results in " << temporal_artifacts::dir(a->model_dir).string() << "\n";
  });
}

}  // namespace taupe
