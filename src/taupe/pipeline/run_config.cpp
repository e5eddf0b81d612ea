#include "taupe/pipeline/run_config.h"

#include "taupe/core/atomic_file.h"
#include "taupe/core/presets.h"

namespace taupe {

ConfigSections sections(RunConfig& cfg) {
  return {
      make_section("run", cfg.run),
      make_section("simulate", cfg.simulate),
      make_section("extract", cfg.extract),
      make_section("encoder", cfg.encoder),
      make_section("projector", cfg.projector),
      make_section("temporal", cfg.temporal),
      make_section("cv", cfg.cv),
      make_section("perturb", cfg.perturb),
      make_section("verdict", cfg.perturb.verdict),
      make_section("report", cfg.report),
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
  return cfg;
}

std::string run_config_toml(RunConfig& cfg, bool comments) {
  return to_toml(sections(cfg), comments);
}

}  // namespace taupe
