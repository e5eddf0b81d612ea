#pragma once
// Presets: named TOML configurations shipped in configs/*.toml and embedded into the binary at
// build time (cmake/TaupeEmbed.cmake), so `taupe --preset tiny` works from any directory.
// A preset is applied on top of the struct defaults and below a config file and --set.
#include <string>
#include <vector>

namespace taupe {

struct Preset {
  std::string name;  ///< file stem: configs/tiny.toml -> "tiny"
  std::string toml;  ///< file content
};

/// All embedded presets, sorted by name.
const std::vector<Preset>& presets();
std::vector<std::string> preset_names();
bool has_preset(const std::string& name);
/// TOML text of a preset; throws ConfigError naming the preset (with did-you-mean) when unknown.
const std::string& preset_text(const std::string& name);
/// The first line of the preset's leading comment block (its one-line description).
std::string preset_description(const std::string& name);

}  // namespace taupe
