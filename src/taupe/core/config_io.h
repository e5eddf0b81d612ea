#pragma once
// Config files and overrides on top of the reflection in config.h.
//
// A program's configuration is an ordered list of sections ("run", "simulate", ...), each a
// list of Fields of one config struct plus its validate(). On that list:
//   - TOML text or files are applied (toml++): unknown sections/keys and mistyped values are
//     ConfigErrors naming `section.key` (with a did-you-mean suggestion when one is close);
//   - `section.key=value` overrides (--set) are applied;
//   - every section is validated;
//   - the whole configuration is serialised back to TOML (`taupe config show`, run dirs).
// Precedence used by callers: struct defaults < preset < config file < --set / CLI flags.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "taupe/core/config.h"

namespace taupe {

/// One section of a configuration: `[name]` in TOML.
struct ConfigSection {
  std::string name;
  std::vector<Field> fields;
  std::function<void()> validate;  ///< throws ConfigError naming section.key
};
using ConfigSections = std::vector<ConfigSection>;

/// Section bound to a config struct (which must outlive the section).
template <class Config>
ConfigSection make_section(const std::string& name, Config& cfg) {
  return ConfigSection{name, fields_of(cfg), [&cfg] { cfg.validate(); }};
}
/// The same, named by the struct's own section name (Config::kSection).
template <class Config>
ConfigSection make_section(Config& cfg) {
  return make_section(Config::kSection, cfg);
}

/// Applies TOML text (`source` names it in messages: a file path or "preset 'tiny'").
void apply_toml(ConfigSections& sections, const std::string& toml_text, const std::string& source);
/// Applies a TOML file; IoError when it cannot be read, ConfigError when it does not fit.
void apply_toml_file(ConfigSections& sections, const std::filesystem::path& file);
/// Applies one `section.key=value` override (value in TOML or plain form: 3, 0.5, true,
/// mechanical, "a b", [1, 2]).
void apply_set(ConfigSections& sections, const std::string& assignment);
void apply_sets(ConfigSections& sections, const std::vector<std::string>& assignments);
/// Runs every section's validate().
void validate_all(const ConfigSections& sections);

/// Serialises every section as TOML; with `comments`, each key is preceded by its help text.
std::string to_toml(const ConfigSections& sections, bool comments = true);

/// Every key of every section as a Markdown reference (one table per section: key, default,
/// rule, whether it changes results or only speed, meaning), as in docs/config-keys.md.
std::string config_keys_markdown(const ConfigSections& sections);

/// The field `section.key`; throws ConfigError (with did-you-mean) when there is none.
const Field& find_field(const ConfigSections& sections, const std::string& section, const std::string& key);

/// Reads the string value at `section.key` from TOML text without applying anything ("" when
/// absent or not a string). Used to find a config file's base preset before applying it.
std::string peek_toml_string(const std::string& toml_text, const std::string& source, const std::string& section,
                             const std::string& key);

/// Edit distance (insert, delete, substitute and adjacent transposition cost 1).
std::size_t edit_distance(const std::string& a, const std::string& b);
/// The closest candidate within a small distance of `word` ("" when none is close).
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace taupe
