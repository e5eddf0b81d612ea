// `taupe config show|keys|presets`: the resolved configuration, the key reference and the presets.
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/core/presets.h"
#include "taupe/pipeline/run_config.h"

namespace taupe::cli {

void register_config(CLI::App& app) {
  auto* config = app.add_subcommand("config", "show the resolved configuration and the presets");
  config->require_subcommand(1);

  // config show: every field of every section is also a flag --<section>.<key>, whose
  // default in --help comes from the struct.
  auto* show = config->add_subcommand("show", "print the resolved configuration as TOML (usable as --config)");
  auto opts = std::make_shared<ConfigOptions>();
  auto bare = std::make_shared<bool>(false);
  add_config_options(show, *opts);
  show->add_flag("--no-comments", *bare, "omit the help comment above each key");
  {
    RunConfig defaults;
    for (auto& s : sections(defaults)) bind_config_flags(show, s.name, s.fields, *opts);
  }
  set_action(show, [opts, bare] {
    RunConfig cfg = resolve_run_config(*opts);
    std::cout << run_config_toml(cfg, !*bare);
  });

  auto* keys = config->add_subcommand("keys", "print every configuration key (default, rule, meaning) as Markdown");
  set_action(keys, [] {
    RunConfig defaults;
    std::cout << config_keys_markdown(sections(defaults));
  });

  auto* list = config->add_subcommand("presets", "list the embedded presets");
  set_action(list, [] {
    for (const auto& name : preset_names()) std::cout << name << "\t" << preset_description(name) << '\n';
  });
}

}  // namespace taupe::cli
