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
#include "taupe/validate/sweep.h"

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

struct RunArgs {
  ConfigOptions cfg;
  std::string world, out;
  std::int64_t seed = -1;
  std::vector<std::string> data;
  std::string stop_before;
  int nproc = 1;
  std::string seeds;
  int index = -1;
};

/// What a run's configuration is made of: the preset, the file and every --set (the flags,
/// --world, --seed and --out included).
struct RunSource {
  std::string preset;
  std::filesystem::path config_file;
  std::vector<std::string> sets;

  RunConfig resolve() const {
    ConfigOptions o;
    o.preset = preset;
    o.config_file = config_file;
    o.sets = sets;
    return resolve_run_config(o);
  }
};

RunSource run_source(const RunArgs& a) {
  RunSource src{a.cfg.preset, a.cfg.config_file, a.cfg.all_sets()};
  if (src.preset.empty() && src.config_file.empty()) src.preset = "quick";
  if (!a.world.empty()) src.sets.push_back("run.world=" + a.world);
  if (a.seed >= 0) src.sets.push_back("run.seed=" + std::to_string(a.seed));
  if (!a.out.empty()) src.sets.push_back("run.out=\"" + a.out + "\"");
  return src;
}

/// One pipeline run (or this rank's part of one) into `out` on `data` (empty: simulate).
void run_one(const RunArgs& a, const RunSource& src, const std::filesystem::path& out,
             const std::filesystem::path& data) {
  RunConfig cfg = src.resolve();
  PipelineOptions po;
  po.out = out.empty() ? std::filesystem::path(cfg.run.out) : out;
  po.data = data;
  po.command_line = command_line();
  po.progress = log_enabled(LogLevel::kInfo);
  po.stop_before = a.stop_before;
  po.force_unlock = global_options().force_unlock;
  const std::unique_ptr<Cluster> cluster = join_job(cfg);
  po.cluster = cluster.get();
  if (cluster && !cluster->leader()) po.progress = false;
  const PipelineResult r = run_pipeline(cfg, po);
  if (!cluster || cluster->leader()) std::cout << r.brief() << std::flush;
}

/// --seeds and / or several --data: one run per member (validate/sweep.h); --index or
/// SLURM_ARRAY_TASK_ID picks one; without it every member runs and the table is gathered.
void run_sweep(const RunArgs& a, const validate::SweepSpec& given) {
  const RunSource src = run_source(a);
  const std::filesystem::path out = src.resolve().run.out;
  // Rank 0 alone records the sweep (the ranks of a multi-process member run this too).
  const validate::SweepSpec spec = validate::resolve_sweep(out, given, read_launch_env().rank == 0);
  const std::vector<validate::SweepMember> members = validate::sweep_members(spec, out);
  const int index = validate::sweep_index(a.index, members.size());
  if (index < 0 && members.size() > 1 && read_launch_env().distributed())
    throw ConfigError("a sweep's runs are independent: run them as a job array (--index / SLURM_ARRAY_TASK_ID), "
                      "each with its own ranks");
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (index >= 0 && static_cast<int>(i) != index) continue;
    const validate::SweepMember& m = members[i];
    log_info("sweep: run " + std::to_string(i) + " of " + std::to_string(members.size()) + ": " + m.name);
    RunSource o = src;
    if (m.seed >= 0) o.sets.push_back("run.seed=" + std::to_string(m.seed));
    if (index >= 0) return run_one(a, o, m.dir, m.data);  // a job-array task fails as itself
    try {
      run_one(a, o, m.dir, m.data);
    } catch (const Error& e) {
      log_error("sweep: " + m.name + " failed: " + e.what());
      failed.push_back(m.name + ": " + e.what());
    }
  }
  std::cout << validate::gather_sweep(out).brief();
  if (!failed.empty()) {
    std::string list;
    for (const auto& f : failed) list += "\n  " + f;
    throw Error(std::to_string(failed.size()) + " run(s) of the sweep failed:" + list, "rerun the same command to resume them");
  }
}

}  // namespace

void register_run(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "run",
      "the whole pipeline: simulate -> train encoder -> projector -> encode -> cross-validated TCNs -> virtual "
      "perturbation -> report.html + summary.json (rerun to resume; changed settings rerun what depends on them)");
  auto a = std::make_shared<RunArgs>();
  add_config_options(sub, a->cfg, "quick");
  sub->add_option("--world", a->world, "planted cause of scrib apoptosis (default: run.world = mechanical)")
      ->check(CLI::IsMember(kSimWorlds));
  sub->add_option("--seed", a->seed, "master seed: seeds the simulation (default: run.seed)");
  sub->add_option("-o,--out", a->out, "run directory (default: run.out of the preset, e.g. runs/quick)");
  sub->add_option("--data", a->data,
                  "use an existing glimpse dataset instead of simulating: a directory with glimpses.h5 (and "
                  "patches.h5; derived from the glimpse frames when absent), or a glimpse file; several, "
                  "comma-separated: one run per dataset (a sweep)")
      ->delimiter(',');
  sub->add_option("--seeds", a->seeds,
                  "a sweep: one run per seed (e.g. 1..10 or 2,5,9) in OUT/seed-<n>/; `taupe gather OUT` tabulates them")
      ->type_name("LIST");
  sub->add_option("--index", a->index,
                  "of a sweep, run only the run at this 0-based index (dataset-major, seed-minor; default "
                  "$SLURM_ARRAY_TASK_ID when set)")
      ->check(CLI::NonNegativeNumber);
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
    validate::SweepSpec sweep;
    if (!a->seeds.empty()) sweep.seeds = validate::parse_seed_list(a->seeds);
    if (a->data.size() > 1 || (!sweep.seeds.empty() && !a->data.empty()))
      for (const auto& d : a->data) sweep.inputs.push_back(std::filesystem::absolute(d));
    if (!sweep.empty() || a->index >= 0) {
      run_sweep(*a, sweep);
      return;
    }
    run_one(*a, run_source(*a), {}, a->data.empty() ? std::filesystem::path() : std::filesystem::path(a->data[0]));
  });

  auto* gat = app.add_subcommand(
      "gather", "tabulate a sweep's runs (`taupe run --seeds` / several --data): OUT/runs.json + runs.csv, one row per "
                "run; the seeds of one --data source are combined into one verdict per experiment (seed replicates)");
  auto gdir = std::make_shared<std::filesystem::path>();
  gat->add_option("out", *gdir, "the sweep's --out directory (holds sweep.json)")->required()->check(CLI::ExistingDirectory);
  set_action(gat, [gdir] { std::cout << validate::gather_sweep(*gdir).brief(); });

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
