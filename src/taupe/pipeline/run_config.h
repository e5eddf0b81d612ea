#pragma once
// The whole configuration of a taupe run: the [run] section plus one section per stage, each
// a plain struct owned by its stage (defaults live there, once). A preset (configs/*.toml,
// embedded), a config file and --set overrides are applied on top of the defaults, in that
// order, then every section is validated.
//
// Adding a stage section: include its config header, add a member below, and one line in
// sections() (run_config.cpp). Keep configs/*.toml in sync: unknown keys are errors.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "taupe/core/config.h"
#include "taupe/core/config_io.h"
#include "taupe/dataset/extract.h"
#include "taupe/encoder/encoder_config.h"
#include "taupe/perturb/perturb_config.h"
#include "taupe/projector/projector_config.h"
#include "taupe/report/report_config.h"
#include "taupe/simulate/sim_config.h"
#include "taupe/temporal/temporal_config.h"

namespace taupe {

/// [run]: settings of the run as a whole.
struct RunSection {
  static constexpr const char* kSection = "run";
  std::int64_t seed = 1;             ///< seeds the simulation; other stage seeds derive from it unless set
  std::string preset;                ///< preset this configuration starts from ("" = struct defaults)
  std::string world = "mechanical";  ///< planted cause of death simulated by `taupe run`
  int threads = 0;                   ///< LibTorch intra-op threads; 0 = cores available
  std::string out = "runs/latest";   ///< run directory
  std::int64_t memory_limit_mb = 0;  ///< memory the stages may plan for; 0 = what the machine / cgroup has
  int dist_timeout_s = 300;          ///< multi-process runs: rendezvous and collective time limit
  std::string device = "auto";       ///< LibTorch stages: auto | cpu | cuda | cuda:N
  std::string precision = "fp32";    ///< forward passes: fp32 | bf16 (autocast; encoder/torch_runtime.h)

  template <class V>
  void visit(V& v) {
    v("seed", seed, "master seed of the run (same seed -> same bytes)", at_least(0));
    v("preset", preset, "preset this configuration starts from (tiny | quick | paper; empty = defaults)");
    static const std::string world_help = "planted cause of scrib apoptosis for `taupe run`: " + kSimWorldChoices;
    v("world", world, world_help.c_str(), one_of(kSimWorlds));
    v("threads", threads, "LibTorch intra-op threads (0 = cores available; --threads overrides)", in_range(0, 1024), speed_only);
    v("out", out, "run directory (config.toml, manifest.json, taupe.log and stage outputs)");
    v("memory_limit_mb", memory_limit_mb,
      "memory (MiB) a stage may need before it is refused; 0 = MemAvailable, capped by the cgroup limit",
      at_least(0), speed_only);
    v("dist_timeout_s", dist_timeout_s,
      "multi-process runs (--nproc, torchrun, srun): seconds the rendezvous and each collective may take before "
      "the run stops with an error naming the missing rank",
      in_range(1, 86400), speed_only);
    v("device", device,
      "where the LibTorch stages compute: auto (CUDA when visible, else the CPU) | cpu | cuda | cuda:N; "
      "--device overrides",
      speed_only);
    v("precision", precision,
      "forward passes of the LibTorch stages: fp32 | bf16 (mixed precision through autocast; losses and weights "
      "stay float32); --precision overrides",
      one_of({"fp32", "bf16"}));
  }
  void validate() const {
    check_fields(*this);
    if (out.empty()) throw ConfigError("run.out = \"\": must name a directory");
  }
};

struct RunConfig {
  RunSection run;
  SimConfig simulate;
  ExtractConfig extract;
  EncoderConfig encoder;
  ProjectorConfig projector;
  TemporalConfig temporal;
  CvConfig cv;
  PerturbConfig perturb;
  ReportConfig report;
};

/// Sections of `cfg` in pipeline order (they refer into `cfg`, which must outlive them).
ConfigSections sections(RunConfig& cfg);

/// Defaults < preset (when not empty; else the config file's run.preset, if any) < config file
/// (when not empty) < `sets` ("section.key=value"); then validated. Throws ConfigError/IoError.
RunConfig load_run_config(const std::string& preset, const std::filesystem::path& config_file,
                          const std::vector<std::string>& sets);

/// The seed tree: run.seed seeds the simulation and derives every other stage's seed by the
/// stage's name (derive_seed(run.seed, "encoder"), "cv", "perturb"); a stage seed set
/// explicitly (>= 0) is kept. Called by load_run_config; config.toml records the seeds used.
void derive_stage_seeds(RunConfig& cfg);

/// The resolved configuration as TOML (with help comments), as written to config.toml.
std::string run_config_toml(RunConfig& cfg, bool comments = true);

}  // namespace taupe
