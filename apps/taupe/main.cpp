// `taupe`: entry point. Parses the command line (CLI11), applies the runtime set-up (threads,
// BLAS, malloc) and runs the selected subcommand. The only place that prints errors and picks
// exit codes (docs/cli.md): taupe::Error -> its exit_code(), bad command line -> 2.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli.h"
#include "commands.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/runtime.h"
#include "taupe/core/signals.h"
#include "taupe/core/version.h"
#include "taupe/encoder/torch_runtime.h"

namespace {

using Register = void (*)(CLI::App&);
// Subcommands in the order they appear in --help (see commands.h).
constexpr Register kCommands[] = {
    taupe::cli::register_run,
    taupe::cli::register_validate,
    taupe::cli::register_info,
    taupe::cli::register_config,
    taupe::cli::register_simulate,
    taupe::cli::register_extract,
    taupe::cli::register_train,
    taupe::cli::register_predict,
    taupe::cli::register_perturb,
    taupe::cli::register_import,
    taupe::cli::register_export,
    taupe::cli::register_verify,
};

}  // namespace

int main(int argc, char** argv) {
  using namespace taupe;
  install_signal_handlers();  // SIGXFSZ ignored; SIGINT / SIGTERM stop at the next safe point
  cli::set_command_line(argc, argv);

  CLI::App app{"taupe: tau-VAE cell-fate prediction from time-lapse microscopy, explained by virtual perturbation",
               "taupe"};
  app.fallthrough();  // global options are accepted after the subcommand too
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("taupe ") + kVersion);
  auto& g = cli::global_options();
  app.add_option("--threads", g.threads, "LibTorch intra-op threads (0 = cores available)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024))
      ->group("Global options");
  app.add_option("--device", g.device,
                 "where LibTorch computes: auto (CUDA when visible, else CPU) | cpu | cuda | cuda:N (default: run.device)")
      ->group("Global options");
  app.add_option("--precision", g.precision,
                 "forward passes of the LibTorch stages: fp32 | bf16 (mixed precision) (default: run.precision)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->group("Global options");
  app.add_flag("-q,--quiet", g.quiet, "only warnings and errors (no progress)")->group("Global options");
  app.add_flag("-v,--verbose", g.verbose, "debug messages")->group("Global options");
  app.add_flag("--force-unlock", g.force_unlock,
               "take a run directory's lock even from a holder on another host (only when that process is gone)")
      ->group("Global options");
  for (Register reg : kCommands) reg(app);
  // The generated part of docs/cli.md (build target `docs`); hidden from --help.
  auto* ref = app.add_subcommand("cli-reference", "print the command reference of docs/cli.md (Markdown)");
  ref->group("");
  cli::set_action(ref, [&app] { std::cout << cli::cli_reference_markdown(app); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help/version (rc 0) or the parse error
    return rc == 0 ? kExitOk : kExitUsage;
  }

  try {
    log_set_level(log_level_from_flags(g.quiet, g.verbose));
    RuntimeOptions ro;
    ro.threads = g.threads;
    const RuntimeInfo rt = runtime_init(ro);
    torch_runtime_init(rt.threads);
    if (!g.device.empty()) set_compute_device(g.device, "--device");
    if (!g.precision.empty()) set_compute_precision(g.precision, "--precision");
    if (!cli::run_selected_action(app)) {
      std::cerr << app.help();
      return kExitUsage;
    }
  } catch (const ResourceError& e) {
    std::cerr << "error: " << e.what() << '\n';
    if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << '\n';
    // The run directory is already closed (manifest, lock) by unwinding. Library exit handlers
    // are skipped: libhdf5 1.10 can crash closing a file whose write failed (disk full, EFBIG).
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(e.exit_code());
  } catch (const Error& e) {
    std::cerr << "error: " << e.what() << '\n';
    if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << '\n';
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return kExitRuntime;
  }
  return kExitOk;
}
