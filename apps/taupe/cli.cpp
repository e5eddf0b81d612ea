#include "cli.h"

#include "taupe/encoder/torch_runtime.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "taupe/core/log.h"
#include "taupe/core/presets.h"
#include "taupe/core/runtime.h"
#include "taupe/pipeline/run_config.h"

namespace taupe::cli {
namespace {

std::map<const CLI::App*, std::function<void()>>& actions() {
  static std::map<const CLI::App*, std::function<void()>> a;
  return a;
}

std::string& command_line_storage() {
  static std::string s;
  return s;
}

std::string type_label(const Field& f) {
  const std::string t = field_type_name(f);
  if (t == "integer") return "INT";
  if (t == "float") return "FLOAT";
  if (t == "boolean") return "BOOL";
  if (t == "string") return "TEXT";
  return "LIST";
}

/// Default as shown in --help: TOML text without the quotes around strings.
std::string help_default(const Field& f) {
  std::string s = field_value_string(f);
  if (std::holds_alternative<std::string*>(f.ref)) {
    s = *std::get<std::string*>(f.ref);
    if (s.empty()) s = "\"\"";
  }
  return s;
}

}  // namespace

GlobalOptions& global_options() {
  static GlobalOptions g;
  return g;
}

void set_action(CLI::App* sub, std::function<void()> action) { actions()[sub] = std::move(action); }

bool run_selected_action(CLI::App& app) {
  CLI::App* cur = &app;
  while (true) {
    const auto subs = cur->get_subcommands();
    if (subs.empty()) break;
    cur = subs.front();
  }
  auto it = actions().find(cur);
  if (it == actions().end()) return false;
  it->second();
  return true;
}

namespace {
std::vector<std::string>& command_args_storage() {
  static std::vector<std::string> args;
  return args;
}
}  // namespace

void set_command_line(int argc, const char* const* argv) {
  command_line_storage() = join_command_line(argc, argv);
  command_args_storage().assign(argv, argv + argc);
}
const std::string& command_line() { return command_line_storage(); }
const std::vector<std::string>& command_args() { return command_args_storage(); }

std::vector<std::string> without_option(const std::vector<std::string>& args, const std::string& name) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name) {
      ++i;  // and its value
      continue;
    }
    if (args[i].rfind(name + "=", 0) == 0) continue;
    out.push_back(args[i]);
  }
  return out;
}

std::vector<std::string> ConfigOptions::all_sets() const {
  std::vector<std::string> out = sets;
  for (const auto& [opt, key] : bound)
    if (opt->count() > 0) out.push_back(key + "=" + opt->as<std::string>());
  return out;
}

void add_config_options(CLI::App* sub, ConfigOptions& opts, const std::string& default_preset) {
  opts.preset = default_preset;
  std::string names;
  for (const auto& n : preset_names()) names += (names.empty() ? "" : " | ") + n;
  sub->add_option("--config", opts.config_file, "TOML config file (applied over the preset)")
      ->check(CLI::ExistingFile)
      ->type_name("FILE")
      ->group("Configuration");
  sub->add_option("--preset", opts.preset, "embedded preset to start from: " + names)
      ->capture_default_str()
      ->type_name("NAME")
      ->group("Configuration");
  sub->add_option("--set", opts.sets, "override one value, e.g. --set run.seed=7 (repeatable, applied last)")
      ->type_name("SECTION.KEY=VALUE")
      ->allow_extra_args(false)
      ->group("Configuration");
}

void bind_config_flags(CLI::App* sub, const std::string& section, const std::vector<Field>& fields,
                       ConfigOptions& opts, const std::string& group) {
  const std::string grp = group.empty() ? "[" + section + "] options" : group;
  for (const auto& f : fields) {
    const std::string name = "--" + section + "." + f.name;
    if (sub->get_option_no_throw(name) != nullptr) continue;
    opts.storage.push_back(std::make_unique<std::string>());
    CLI::Option* opt = sub->add_option(name, *opts.storage.back(), field_help(f));
    opt->default_str(help_default(f))->type_name(type_label(f))->group(grp);
    opts.bound.emplace_back(opt, section + "." + f.name);
  }
}

RunConfig resolve_run_config(const ConfigOptions& opts) {
  RunConfig cfg = load_run_config(opts.preset, opts.config_file, opts.all_sets());
  const GlobalOptions& g = global_options();
  if (!g.device.empty()) cfg.run.device = g.device;
  set_compute_device(cfg.run.device, g.device.empty() ? "run.device" : "--device");
  if (!g.precision.empty()) cfg.run.precision = g.precision;
  set_compute_precision(cfg.run.precision, g.precision.empty() ? "run.precision" : "--precision");
  if (g.threads > 0) {
    cfg.run.threads = g.threads;
  } else if (cfg.run.threads > 0) {
    RuntimeOptions ro;
    ro.threads = cfg.run.threads;
    runtime_init(ro);  // reaches LibTorch through the registered thread hook
  }
  return cfg;
}

std::unique_ptr<RunDir> open_run_dir(const std::filesystem::path& dir, const std::string& config_toml,
                                     std::uint64_t seed, bool resume) {
  RunDirOptions o;
  o.command_line = command_line();
  o.seed = seed;
  o.threads = runtime_info().threads;
  o.config_toml = config_toml;
  o.resume = resume;
  o.force_unlock = global_options().force_unlock;
  auto rd = std::make_unique<RunDir>(dir, o);
  log_debug("run directory: " + dir.string());
  return rd;
}

namespace {

std::string md_cell(const std::string& t) {
  std::string out;
  for (char c : t) out += c == '|' ? std::string("\\|") : c == '\n' ? std::string(" ") : std::string(1, c);
  return out;
}

/// "[encoder] options" and the like: flags bound to a config section by bind_config_flags.
bool is_config_group(const std::string& group) {
  return group.size() > 10 && group.front() == '[' && group.compare(group.size() - 9, 9, "] options") == 0;
}

void describe_command(std::ostringstream& out, const CLI::App& app, const std::string& path) {
  out << "\n### `" << path << "`\n\n" << app.get_description() << "\n";
  std::vector<std::string> rows, config_groups;
  for (const CLI::Option* o : app.get_options()) {
    const std::string name = o->get_name(false, true);
    if (name == "--help" || name.empty()) continue;
    if (is_config_group(o->get_group())) {
      if (std::find(config_groups.begin(), config_groups.end(), o->get_group()) == config_groups.end())
        config_groups.push_back(o->get_group());
      continue;
    }
    std::string names = o->get_positional() ? o->get_name() : "";
    if (!o->get_positional()) {
      for (const auto& s : o->get_snames()) names += (names.empty() ? "-" : ", -") + s;
      for (const auto& l : o->get_lnames()) names += (names.empty() ? "--" : ", --") + l;
    }
    std::string value = o->get_type_size() == 0 ? std::string() : o->get_type_name();
    if (!o->get_default_str().empty()) value += " (default " + o->get_default_str() + ")";
    rows.push_back("| `" + md_cell(names) + "` | " + md_cell(value) + " | " + (o->get_required() ? "yes" : "") + " | " +
                   md_cell(o->get_description()) + " |");
  }
  if (!rows.empty()) {
    out << "\n| option | value | required | meaning |\n|---|---|---|---|\n";
    for (const auto& r : rows) out << r << "\n";
  }
  for (const auto& g : config_groups) {
    const std::string section = g.substr(1, g.size() - 10);
    out << "\nEvery key of `[" << section << "]` is also a flag `--" << section
        << ".<key>` (docs/config-keys.md).\n";
  }
  for (const CLI::App* s : app.get_subcommands([](const CLI::App* a) { return !a->get_group().empty(); }))
    describe_command(out, *s, path + " " + s->get_name());
}

}  // namespace

std::string cli_reference_markdown(const CLI::App& app) {
  std::ostringstream out;
  out << "## Reference\n\nEvery command with its options, as `taupe <command> --help` prints them.\n";
  describe_command(out, app, "taupe");
  return out.str();
}

std::unique_ptr<RunLock> lock_output(const std::filesystem::path& output, bool output_is_file) {
  return std::make_unique<RunLock>(lock_root_for(output, output_is_file), command_line(), global_options().force_unlock);
}

}  // namespace taupe::cli
