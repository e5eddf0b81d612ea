// `taupe perturb <experiment>` / `taupe perturb all`: virtual perturbation experiments on a
// trained model directory (src/taupe/perturb, docs/perturbation.md). No math here.
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/perturb/artifacts.h"
#include "taupe/perturb/perturb.h"
#include "taupe/pipeline/run_config.h"

namespace taupe::cli {

void register_perturb(CLI::App& app) {
  auto* sub = app.add_subcommand("perturb",
                                 "virtual perturbation: switch-neighbours | switch-centre | pc-shift | pc-ablate | "
                                 "pc-window | shrink-nucleus | all");
  struct Args {
    std::string experiment = "all";
    std::filesystem::path models, glimpses, encodings, out = "perturb-out";
    std::string shift_units;
    int pc = -1;
    ConfigOptions cfg;
  };
  auto a = std::make_shared<Args>();
  std::vector<std::string> allowed = perturb_experiment_names();
  allowed.push_back("all");
  sub->add_option("experiment", a->experiment, "experiment to run (all = the [perturb] experiments list)")
      ->check(CLI::IsMember(allowed))
      ->capture_default_str();
  sub->add_option("-m,--model-dir", a->models, "model directory (encoder.pt, decoder.pt, pca.h5, temporal/)")->required();
  sub->add_option("--encodings", a->encodings, "encodings of the glimpses (taupe.encodings .h5)")->required();
  sub->add_option("--glimpses", a->glimpses,
                  "glimpse file (needed by the image experiments, the nuclear-size PC and the verdicts)");
  sub->add_option("-o,--out", a->out, "output folder (results go to <out>/perturb/)")->capture_default_str();
  sub->add_option("--shift-units", a->shift_units, "pc | sd (overrides perturb.shift_units)")
      ->check(CLI::IsMember({"pc", "sd"}));
  sub->add_option("--pc", a->pc, "PC for pc-window / shrink-nucleus comparison (-1 = nuclear-size PC)");
  add_config_options(sub, a->cfg, "");
  set_action(sub, [a] {
    const auto lock = lock_output(a->out);
    PerturbConfig cfg = resolve_run_config(a->cfg).perturb;
    if (!a->shift_units.empty()) cfg.shift_units = a->shift_units;
    if (a->experiment != "all") cfg.experiments = a->experiment;
    cfg.validate();
    PerturbContext ctx = PerturbContext::load(a->models, a->glimpses, a->encodings);
    const PerturbAllResult r = run_experiment(ctx, cfg, a->experiment, a->pc, a->out);
    std::cout << r.brief() << "results: " << perturb_artifacts::dir(a->out).string() << '\n';
  });
}

}  // namespace taupe::cli
