// `taupe train encoder | projector | temporal`: the τ-VAE training stages. `temporal` is added by
// register_train_temporal() (cmd_train_temporal.cpp).
#include <iostream>
#include <memory>

#include "cli.h"
#include "taupe/core/progress.h"
#include "taupe/encoder/encoder_train.h"
#include "taupe/pipeline/pipeline.h"
#include "taupe/pipeline/run_config.h"
#include "taupe/projector/model_dir.h"

namespace taupe {
void register_train_temporal(CLI::App& train);   // cmd_train_temporal.cpp
}

namespace taupe::cli {

void register_train(CLI::App& app);

namespace {

struct EncoderArgs {
  std::filesystem::path patches, model_dir, work_dir;
  bool no_resume = false;
  ConfigOptions cfg;
};

struct ProjectorArgs {
  std::filesystem::path patches, model_dir;
  ConfigOptions cfg;
};

void register_train_encoder(CLI::App& train) {
  auto a = std::make_shared<EncoderArgs>();
  auto* sub = train.add_subcommand("encoder", "train the beta-VAE on a patch container (resumes after interruption)");
  sub->add_option("--patches", a->patches, "patch container (taupe.patches .h5)")->required();
  sub->add_option("-m,--model-dir", a->model_dir, "model directory to write (encoder.pt, decoder.pt, manifest.json)")
      ->required();
  sub->add_option("--work-dir", a->work_dir, "checkpoints, loss.csv and montages (default <model-dir>/encoder_training)");
  sub->add_flag("--no-resume", a->no_resume, "start over even if a checkpoint exists");
  add_config_options(sub, a->cfg);
  bind_config_flags(sub, EncoderConfig{}, a->cfg);
  set_action(sub, [a] {
    const auto lock = lock_output(a->model_dir);
    const RunConfig rc = resolve_run_config(a->cfg);
    EncoderTrainOptions o;
    o.patches = a->patches;
    o.model_dir = a->model_dir;
    o.work_dir = a->work_dir;
    o.resume = !a->no_resume;
    std::unique_ptr<Progress> progress;
    o.on_step = [&progress](std::int64_t step, std::int64_t total, double loss) {
      if (!progress) progress = std::make_unique<Progress>("train encoder", total, "steps");
      progress->set_status("loss " + std::to_string(static_cast<long long>(loss)));
      progress->update(step);
    };
    const EncoderTrainResult r = train_encoder(rc.encoder, o);
    if (progress) progress->finish();
    std::cout << r.brief() << "\n";
  });
}

void register_train_projector(CLI::App& train) {
  auto a = std::make_shared<ProjectorArgs>();
  auto* sub = train.add_subcommand("projector",
                                   "fit the PCA on z_mean of all patches (needs a trained encoder) and report what the "
                                   "PCs mean");
  sub->add_option("--patches", a->patches, "patch container (taupe.patches .h5)")->required();
  sub->add_option("-m,--model-dir", a->model_dir, "model directory holding the trained encoder")->required();
  add_config_options(sub, a->cfg);
  bind_config_flags(sub, ProjectorConfig{}, a->cfg);
  set_action(sub, [a] {
    const auto lock = lock_output(a->model_dir);
    const RunConfig rc = resolve_run_config(a->cfg);
    const ProjectorFit fit = train_projector(a->model_dir, a->patches, rc.projector);
    std::cout << "projector fitted on " << fit.samples << " patches -> " << model_files::pca(a->model_dir).string() << "\n"
              << fit.meaning.brief() << "\n";
  });
}

}  // namespace

void register_train(CLI::App& app) {
  auto* train = app.add_subcommand("train", "train the tau-VAE stages: encoder, projector, temporal");
  train->require_subcommand(1);
  register_train_encoder(*train);
  register_train_projector(*train);
  register_train_temporal(*train);
}

}  // namespace taupe::cli
