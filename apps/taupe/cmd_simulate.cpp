// `taupe simulate`: the cell-competition simulator with a planted cause of fate (docs/simulator.md).
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/core/atomic_file.h"
#include "taupe/core/log.h"
#include "taupe/pipeline/run_config.h"
#include "taupe/simulate/simulate.h"

namespace taupe::cli {

void register_simulate(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "simulate", "simulate WT/scrib competition movies with a planted cause of death: tracks, ground truth, "
                  "glimpses, patches, pictures");
  auto opts = std::make_shared<ConfigOptions>();
  auto world = std::make_shared<std::string>();
  auto seed = std::make_shared<std::int64_t>(-1);
  auto out = std::make_shared<std::string>();
  auto movies = std::make_shared<bool>(false);
  add_config_options(sub, *opts, "quick");
  sub->add_option("--world", *world, "planted cause of scrib apoptosis (default: simulate.world)")
      ->check(CLI::IsMember(kSimWorlds));
  sub->add_option("--seed", *seed, "simulation seed (default: run.seed)");
  sub->add_option("-o,--out", *out, "output directory")->required();
  sub->add_flag("--movies", *movies, "also write full-frame movies and masks (large)");
  bind_config_flags(sub, SimConfig{}, *opts);
  bind_config_flags(sub, ExtractConfig{}, *opts);
  set_action(sub, [opts, world, seed, out, movies] {
    const auto lock = lock_output(*out);
    RunConfig cfg = resolve_run_config(*opts);
    if (!world->empty()) cfg.simulate.world = *world;
    if (*movies) cfg.simulate.movies = true;
    if (global_options().threads > 0) cfg.simulate.threads = global_options().threads;
    cfg.simulate.validate();
    const std::uint64_t s = static_cast<std::uint64_t>(*seed >= 0 ? *seed : cfg.run.seed);
    log_info("simulate: world " + cfg.simulate.world + ", seed " + std::to_string(s) + ", " +
             std::to_string(cfg.simulate.fovs) + " fields of view -> " + *out);
    const SimulateResult r = run_simulate(cfg.simulate, cfg.extract, s, *out);
    write_text_atomic(std::filesystem::path(*out) / "config.toml", run_config_toml(cfg));
    std::cout << r.brief() << std::endl;
  });
}

}  // namespace taupe::cli
