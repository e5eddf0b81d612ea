// `taupe run`: the whole pipeline in one run directory, resumable (src/taupe/pipeline/, docs/pipeline.md).
// `taupe report RUN_DIR`: regenerates report.html + summary.json from an existing run directory.
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/core/launch_env.h"
#include "taupe/core/log.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/runtime.h"
#include "taupe/dist/cluster.h"
#include "taupe/dist/launcher.h"
#include "taupe/pipeline/pipeline.h"
#include "taupe/pipeline/run_config.h"

namespace taupe::cli {
namespace {

/// `--nproc N`: this command again as N local ranks, each with its share of the threads.
void launch_ranks(int nproc) {
  const LaunchEnv env = read_launch_env();
  if (env.distributed())
    throw ConfigError("--nproc " + std::to_string(nproc) + ": this process is already " + env.describe() +
                      "; use either --nproc or a launcher (torchrun, srun), not both");
  std::vector<std::string> args = without_option(without_option(command_args(), "--nproc"), "--threads");
  args[0] = std::filesystem::read_symlink("/proc/self/exe").string();
  const int threads = std::max(1, runtime_info().threads / nproc);
  args.insert(args.begin() + 1, {"--threads", std::to_string(threads)});
  LocalLaunchOptions lo;
  lo.nproc = nproc;
  lo.command = args;
  launch_local(lo);
}

/// The job this process belongs to, when a launcher started it as one of several ranks.
std::unique_ptr<Cluster> join_job(const RunConfig& cfg) {
  const LaunchEnv env = read_launch_env();
  if (!env.distributed()) return nullptr;
  if (env.rank > 0) log_set_prefix("[rank " + std::to_string(env.rank) + "] ");
  ClusterOptions co;
  co.timeout = std::chrono::seconds(cfg.run.dist_timeout_s);
  auto cluster = Cluster::connect(env, co);
  log_info("run: " + env.describe() + ", " + std::to_string(runtime_info().threads) + " thread(s) per rank");
  return cluster;
}

}  // namespace

void register_run(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "run",
      "the whole pipeline: simulate -> train encoder -> projector -> encode -> cross-validated TCNs -> virtual "
      "perturbation -> report.html + summary.json (rerun to resume; changed settings rerun what depends on them)");
  struct Args {
    ConfigOptions cfg;
    std::string world, out;
    std::int64_t seed = -1;
    std::filesystem::path data;
    std::string stop_before;
    int nproc = 1;
  };
  auto a = std::make_shared<Args>();
  add_config_options(sub, a->cfg, "quick");
  sub->add_option("--world", a->world, "planted cause of scrib apoptosis (default: run.world = mechanical)")
      ->check(CLI::IsMember(kSimWorlds));
  sub->add_option("--seed", a->seed, "master seed: seeds the simulation (default: run.seed)");
  sub->add_option("-o,--out", a->out, "run directory (default: run.out of the preset, e.g. runs/quick)");
  sub->add_option("--data", a->data,
                  "use an existing glimpse dataset instead of simulating: a directory with glimpses.h5 (and "
                  "patches.h5; derived from the glimpse frames when absent), or a glimpse file");
  sub->add_option("--stop-before", a->stop_before, "stop before this stage (testing aid)")->group("");
  sub->add_option("--nproc", a->nproc,
                  "run as N processes on this machine (ranks on 127.0.0.1 with torchrun's variables, threads split "
                  "between them); under torchrun or srun the ranks come from the launcher (docs/distributed.md)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  set_action(sub, [a] {
    if (a->nproc > 1) {
      launch_ranks(a->nproc);
      return;
    }
    ConfigOptions& opts = a->cfg;  // the action runs once per process
    if (opts.preset.empty() && opts.config_file.empty()) opts.preset = "quick";
    if (!a->world.empty()) opts.sets.push_back("run.world=" + a->world);
    if (a->seed >= 0) opts.sets.push_back("run.seed=" + std::to_string(a->seed));
    if (!a->out.empty()) opts.sets.push_back("run.out=\"" + a->out + "\"");
    RunConfig cfg = resolve_run_config(opts);
    PipelineOptions po;
    po.out = cfg.run.out;
    po.data = a->data;
    po.command_line = command_line();
    po.progress = log_enabled(LogLevel::kInfo);
    po.stop_before = a->stop_before;
    po.force_unlock = global_options().force_unlock;
    const std::unique_ptr<Cluster> cluster = join_job(cfg);
    po.cluster = cluster.get();
    if (cluster && !cluster->leader()) po.progress = false;
    const PipelineResult r = run_pipeline(cfg, po);
    if (!cluster || cluster->leader()) std::cout << r.brief() << std::flush;
  });

  auto* rep = app.add_subcommand("report", "regenerate report.html and summary.json from an existing `taupe run` directory");
  auto dir = std::make_shared<std::filesystem::path>();
  rep->add_option("run_dir", *dir, "run directory of `taupe run`")->required()->check(CLI::ExistingDirectory);
  set_action(rep, [dir] {
    const auto lock = lock_output(*dir);
    const report::RunSummary s = regenerate_report(*dir);
    std::cout << s.brief() << "report:  " << report_artifacts::report_html(*dir).string() << "\nsummary: "
              << report_artifacts::summary_json(*dir).string() << "\n";
  });
}

}  // namespace taupe::cli
