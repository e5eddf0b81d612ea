// `taupe perturb <experiment>` / `taupe perturb all`: virtual perturbation experiments on a
// trained model directory (src/taupe/perturb, docs/perturbation.md). No math here.
#include <iostream>
#include <memory>
#include <type_traits>

#include "cli.h"
#include "commands.h"
#include "taupe/core/config_io.h"
#include "taupe/core/log.h"
#include "taupe/perturb/perturb.h"
#include "taupe/pipeline/run_config.h"

namespace taupe::cli {

namespace {

template <class T, class = void>
struct HasPerturb : std::false_type {};
template <class T>
struct HasPerturb<T, std::void_t<decltype(std::declval<T&>().perturb)>> : std::true_type {};

/// [perturb] from preset / config file / --set: through RunConfig when it carries the section,
/// else from the struct defaults plus the perturb.* assignments (the rest still validated).
template <class RC>
PerturbConfig resolve_perturb(const ConfigOptions& opts) {
  if constexpr (HasPerturb<RC>::value) {
    RC rc = resolve_run_config(opts);
    return rc.perturb;
  } else {
    ConfigOptions rest;
    rest.config_file = opts.config_file;
    rest.preset = opts.preset;
    PerturbConfig cfg;
    ConfigSections secs = {make_section("perturb", cfg), make_section("verdict", cfg.verdict)};
    for (const auto& s : opts.all_sets()) {
      if (s.rfind("perturb.", 0) == 0 || s.rfind("verdict.", 0) == 0) apply_set(secs, s);
      else rest.sets.push_back(s);
    }
    (void)resolve_run_config(rest);
    validate_all(secs);
    return cfg;
  }
}

}  // namespace

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
  sub->add_option("--models", a->models, "model directory (encoder.pt, decoder.pt, pca.h5, temporal/)")->required();
  sub->add_option("--encodings", a->encodings, "encodings of the glimpses (taupe.encodings .h5)")->required();
  sub->add_option("--glimpses", a->glimpses,
                  "glimpse file (needed by the image experiments, the nuclear-size PC and the verdicts)");
  sub->add_option("--out", a->out, "output folder (results go to <out>/perturb/)")->capture_default_str();
  sub->add_option("--shift-units", a->shift_units, "pc | sd (overrides perturb.shift_units)")
      ->check(CLI::IsMember({"pc", "sd"}));
  sub->add_option("--pc", a->pc, "PC for pc-window / shrink-nucleus comparison (-1 = nuclear-size PC)");
  add_config_options(sub, a->cfg, "");
  set_action(sub, [a] {
    const auto lock = lock_output(a->out);
    PerturbConfig cfg = resolve_perturb<RunConfig>(a->cfg);
    if (!a->shift_units.empty()) cfg.shift_units = a->shift_units;
    if (a->experiment != "all") cfg.experiments = a->experiment;
    cfg.validate();
    PerturbContext ctx = PerturbContext::load(a->models, a->glimpses, a->encodings);
    PerturbAllResult r;
    if (a->experiment == "all") {
      r = run_all(ctx, cfg, a->out);
    } else {
      const auto dir = a->out / "perturb";
      std::filesystem::create_directories(dir);
      r.world = ctx.world();
      const std::string& e = a->experiment;
      if (e == "switch-neighbours") r.switch_neighbours = run_switch(ctx, cfg, Switch::kNeighbours, dir);
      if (e == "switch-centre") r.switch_centre = run_switch(ctx, cfg, Switch::kCentre, dir);
      if (e == "pc-shift") r.pc_shift = run_pc_shift(ctx, cfg, dir);
      if (e == "pc-ablate") r.pc_ablate = run_pc_ablate(ctx, cfg);
      if (e == "pc-window") r.pc_window = run_pc_window(ctx, cfg, a->pc);
      if (e == "shrink-nucleus") r.shrink_nucleus = run_shrink_nucleus(ctx, cfg, a->pc);
      r.verdicts = perturb_verdicts(r, cfg);
      write_results(r, a->out);
    }
    std::cout << r.brief() << "results: " << (a->out / "perturb").string() << '\n';
  });
}

}  // namespace taupe::cli
