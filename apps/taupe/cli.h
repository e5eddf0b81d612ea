#pragma once
// Shared CLI plumbing for the `taupe` subcommands (one apps/taupe/cmd_<name>.cpp each).
//
// A subcommand file defines `void register_<name>(CLI::App& app)` (declared in commands.h),
// which adds its CLI11 subcommand, its options, and an action with set_action(). main()
// parses the command line, applies the global options (threads, log level) and runs the
// action of the subcommand that was selected. Actions throw taupe::Error on failure.
//
// Config-driven subcommands use ConfigOptions: --config FILE, --preset NAME and repeatable
// --set section.key=value, plus bind_config_flags() which turns every field of a config struct
// into `--<section>.<key>` with the struct's default shown in --help (never retyped). The flag
// convention is in docs/cli.md.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "taupe/core/config.h"
#include "taupe/core/config_io.h"
#include "taupe/core/run_dir.h"

namespace taupe {
struct RunConfig;
}

namespace taupe::cli {

/// Options every subcommand sees (set on the top-level app).
struct GlobalOptions {
  int threads = 0;  ///< 0 = cores available
  bool quiet = false;
  bool verbose = false;
  bool force_unlock = false;  ///< take a run directory's lock from a holder on another host
  std::string device;         ///< "" = run.device (auto); else auto | cpu | cuda | cuda:N
  std::string precision;      ///< "" = run.precision (fp32); else fp32 | bf16
};
GlobalOptions& global_options();

/// The action run when `sub` is the selected (deepest) subcommand.
void set_action(CLI::App* sub, std::function<void()> action);
/// Runs the action of the deepest selected subcommand; false when it has none.
bool run_selected_action(CLI::App& app);

/// The process command line (set by main) for manifests.
void set_command_line(int argc, const char* const* argv);
const std::string& command_line();
/// The same, one argument per element (argv[0] first).
const std::vector<std::string>& command_args();
/// `args` without the option `name` and its value (`name V` or `name=V`).
std::vector<std::string> without_option(const std::vector<std::string>& args, const std::string& name);

/// --config / --preset / --set of a config-driven subcommand.
struct ConfigOptions {
  std::filesystem::path config_file;
  std::string preset;
  std::vector<std::string> sets;  ///< --set values, then bound flags given on the command line
  /// Options made by bind_config_flags: (option, "section.key"); given ones become sets.
  std::vector<std::pair<CLI::Option*, std::string>> bound;
  std::vector<std::unique_ptr<std::string>> storage;

  /// --set assignments followed by the bound flags that were given (call after parsing).
  std::vector<std::string> all_sets() const;
};

/// Adds --config, --preset (with the embedded preset names in its help) and --set to `sub`.
void add_config_options(CLI::App* sub, ConfigOptions& opts, const std::string& default_preset = "");

/// Adds `--<section>.<key>` for every field in `fields` (a struct's fields_of()), with the
/// field's current value shown as the default and its help text and rule. Given flags are
/// applied as `--set <section>.<key>=<value>`, i.e. after preset and config file. Names that
/// already exist on `sub` are skipped. `group` names the help section (default: "[<section>] options").
void bind_config_flags(CLI::App* sub, const std::string& section, const std::vector<Field>& fields,
                       ConfigOptions& opts, const std::string& group = "");

/// Same for a config struct's defaults: bind_config_flags(sub, SimConfig{}, opts).
template <class Config>
void bind_config_flags(CLI::App* sub, Config defaults, ConfigOptions& opts, const std::string& group = "") {
  bind_config_flags(sub, Config::kSection, fields_of(defaults), opts, group);
}

/// Markdown reference of every command of `app` and its options (the generated part of
/// docs/cli.md; `taupe cli-reference`). Config-bound flag groups are summarised in one line.
std::string cli_reference_markdown(const CLI::App& app);

/// Resolves the run configuration from `opts` (preset, file, --set, bound flags) and the
/// global --threads (which overrides run.threads when given).
RunConfig resolve_run_config(const ConfigOptions& opts);

/// Opens the run directory `dir` for a command: writes config.toml (`config_toml`), starts the
/// manifest (command line, seed, threads, versions) and mirrors the log into it.
std::unique_ptr<RunDir> open_run_dir(const std::filesystem::path& dir, const std::string& config_toml,
                                     std::uint64_t seed, bool resume = false);

/// Takes the lock of the run directory a stage subcommand writes into (core/run_lock.h
/// lock_root_for: the enclosing run directory, else the output directory itself) for as long as
/// the returned object lives. Every subcommand that writes files calls it before writing.
std::unique_ptr<RunLock> lock_output(const std::filesystem::path& output, bool output_is_file = false);

}  // namespace taupe::cli
