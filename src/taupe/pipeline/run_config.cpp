#include "taupe/pipeline/run_config.h"

#include "taupe/core/atomic_file.h"
#include "taupe/core/presets.h"
#include "taupe/core/rng.h"

namespace taupe {

ConfigSections sections(RunConfig& cfg) {
  return {
      make_section(cfg.run),      make_section(cfg.simulate), make_section(cfg.extract),
      make_section(cfg.encoder),  make_section(cfg.projector), make_section(cfg.temporal),
      make_section(cfg.cv),       make_section(cfg.perturb),  make_section(cfg.perturb.verdict),
      make_section(cfg.report),
  };
}

RunConfig load_run_config(const std::string& preset, const std::filesystem::path& config_file,
                          const std::vector<std::string>& sets) {
  RunConfig cfg;
  ConfigSections secs = sections(cfg);
  std::string file_text;
  std::string base = preset;
  if (!config_file.empty()) {
    file_text = read_text_file(config_file);
    if (base.empty()) base = peek_toml_string(file_text, config_file.string(), "run", "preset");
  }
  if (!base.empty()) apply_toml(secs, preset_text(base), "preset '" + base + "'");
  if (!config_file.empty()) apply_toml(secs, file_text, config_file.string());
  cfg.run.preset = base;
  apply_sets(secs, sets);
  validate_all(secs);
  derive_stage_seeds(cfg);
  return cfg;
}

void derive_stage_seeds(RunConfig& cfg) {
  const auto run_seed = static_cast<std::uint64_t>(cfg.run.seed);
  const auto derive = [&](std::int64_t& seed, const char* stage) {
    if (seed < 0) seed = static_cast<std::int64_t>(derive_seed(run_seed, std::string(stage)) >> 1);
  };
  derive(cfg.encoder.seed, EncoderConfig::kSection);
  derive(cfg.cv.seed, CvConfig::kSection);
  derive(cfg.perturb.seed, PerturbConfig::kSection);
}

std::string run_config_toml(RunConfig& cfg, bool comments) {
  return to_toml(sections(cfg), comments);
}

}  // namespace taupe
