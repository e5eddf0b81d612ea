// `taupe perturb <experiment>`: one experiment by name (perturb.h).
#include <filesystem>

#include "taupe/perturb/artifacts.h"
#include "taupe/perturb/perturb.h"

namespace taupe {

PerturbAllResult run_experiment(PerturbContext& ctx, const PerturbConfig& cfg, const std::string& experiment, int pc,
                                const std::filesystem::path& out_dir) {
  if (experiment == "all") return run_all(ctx, cfg, out_dir);
  const auto dir = perturb_artifacts::dir(out_dir);
  std::filesystem::create_directories(dir);
  PerturbAllResult r;
  r.world = ctx.world();
  if (experiment == "switch-neighbours") r.switch_neighbours = run_switch(ctx, cfg, Switch::kNeighbours, dir);
  if (experiment == "switch-centre") r.switch_centre = run_switch(ctx, cfg, Switch::kCentre, dir);
  if (experiment == "pc-shift") r.pc_shift = run_pc_shift(ctx, cfg, dir);
  if (experiment == "pc-ablate") r.pc_ablate = run_pc_ablate(ctx, cfg);
  if (experiment == "pc-window") r.pc_window = run_pc_window(ctx, cfg, pc);
  if (experiment == "shrink-nucleus") r.shrink_nucleus = run_shrink_nucleus(ctx, cfg, pc);
  r.verdicts = perturb_verdicts(r, cfg);
  write_results(r, out_dir);
  return r;
}

}  // namespace taupe
