// `taupe validate STUDY_DIR`: a validation study of the verdicts, K seeds × worlds, one
// `taupe run` each (src/taupe/validate/, docs/validation.md). `taupe validate gather STUDY_DIR`
// aggregates the finished runs without running anything.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/runtime.h"
#include "taupe/validate/validate.h"

namespace taupe::cli {

namespace {

struct ValidateArgs {
  ConfigOptions cfg;
  std::vector<std::string> positional;  // STUDY_DIR, or "gather" STUDY_DIR
  std::vector<std::string> worlds;
  std::string seeds;
  int index = -1;
  int jobs = 1;
  bool gather = false;
};

void run_validate(const ValidateArgs& a) {
  if (a.positional.size() == 2 && a.positional[0] != "gather")
    throw ConfigError("taupe validate " + a.positional[0] + " " + a.positional[1] +
                      ": expected STUDY_DIR or `gather STUDY_DIR`");
  const std::filesystem::path dir = a.positional.back();
  if (a.gather || a.positional.size() == 2) {
    std::cout << validate::gather(dir).brief();
    return;
  }
  validate::StudySpec given;
  given.preset = a.cfg.preset;
  given.config_file = a.cfg.config_file;
  given.sets = a.cfg.all_sets();
  given.worlds = a.worlds;
  if (!a.seeds.empty()) given.seeds = validate::parse_seed_list(a.seeds);
  validate::StudyOptions o;
  o.index = a.index;
  if (const char* task = std::getenv("SLURM_ARRAY_TASK_ID"); task && o.index < 0) {
    const auto v = validate::parse_seed_list(task, "SLURM_ARRAY_TASK_ID");
    if (v.size() != 1) throw ConfigError(std::string("SLURM_ARRAY_TASK_ID = \"") + task + "\": expected one index");
    o.index = static_cast<int>(v[0]);
  }
  o.jobs = a.jobs;
  o.progress = log_enabled(LogLevel::kInfo) && a.jobs == 1;
  o.command_line = command_line();
  if (o.jobs > 1) {
    const int threads = std::max(1, runtime_info().threads / o.jobs);
    o.child_command = {std::filesystem::read_symlink("/proc/self/exe").string(), "validate", dir.string(),
                       "--quiet", "--threads", std::to_string(threads)};
  }
  const validate::StudyResult r = validate::run_study(dir, given, o);
  if (r.validation) std::cout << r.validation->brief();
  for (const auto& m : r.ran)
    if (!r.validation) std::cout << "ran " << m.world << " seed " << m.seed << " -> " << m.dir.string() << "\n";
  if (!r.failed.empty()) {
    std::string list;
    for (const auto& f : r.failed) list += "\n  " + f;
    throw Error(std::to_string(r.failed.size()) + " run(s) of the study failed:" + list,
                "rerun the same command to resume them");
  }
}

}  // namespace

void register_validate(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "validate",
      "validation study: K seeds x worlds, one `taupe run` each in STUDY_DIR/<world>/seed-<n>/, then "
      "validation.json + validation.html with each verdict's accuracy, false-effect rate and power (rerun to resume)");
  auto a = std::make_shared<ValidateArgs>();
  sub->add_option("study_dir", a->positional,
                  "study directory (study.json records the study; rerun to resume); `gather STUDY_DIR` only "
                  "aggregates the finished runs")
      ->required()
      ->expected(1, 2)
      ->type_name("[gather] STUDY_DIR");
  add_config_options(sub, a->cfg);
  sub->get_option("--preset")->description(std::string("embedded preset every run starts from (default ") +
                                           validate::kDefaultPreset + ")");
  sub->add_option("--worlds", a->worlds, "worlds to run (default: every world simulate.world accepts)")
      ->delimiter(',')
      ->type_name("W[,W...]");
  sub->add_option("--seeds", a->seeds,
                  "seeds, e.g. 1..10 or 2,5,9 (default 1.." + std::to_string(validate::kDefaultSeeds) + ")")
      ->type_name("LIST");
  sub->add_option("--index", a->index,
                  "run only the run at this 0-based index of the study (world-major, seed-minor; default "
                  "$SLURM_ARRAY_TASK_ID when set); no gather")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--jobs", a->jobs, "runs at once, each a separate process (threads are split between them)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  sub->add_flag("--gather", a->gather, "only aggregate the finished runs (same as `taupe validate gather`)");

  set_action(sub, [a] { run_validate(*a); });
}

}  // namespace taupe::cli
