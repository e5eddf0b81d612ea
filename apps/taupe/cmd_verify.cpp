// `taupe verify RUN_DIR`: checks every file recorded in the run directory's manifest.json (size
// and SHA-256, core/artifacts.h). Exit 0 when all are intact, 9 (VerifyError) otherwise.
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/core/errors.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/run_lock.h"

namespace taupe::cli {

void register_verify(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "verify", "check that every file a finished stage recorded in RUN_DIR/manifest.json is present with the same "
                "size and SHA-256 (exit 9 when one is missing or changed)");
  auto dir = std::make_shared<std::filesystem::path>();
  sub->add_option("run_dir", *dir, "run directory")->required()->check(CLI::ExistingDirectory);
  set_action(sub, [dir] {
    LockHolder holder;
    if (read_lock_holder(*dir, holder))
      std::cout << "note: a writer holds this run directory (" << holder.describe()
                << "); files it is writing may not verify yet\n";
    const auto result = verify_run_dir(*dir);
    std::size_t files_bad = 0, stages_bad = 0;
    for (const auto& [stage, problems] : result) {
      std::cout << stage << ": " << (problems.empty() ? "ok" : "FAILED") << "\n";
      for (const auto& p : problems) std::cout << "  " << p << "\n";
      files_bad += problems.size();
      stages_bad += problems.empty() ? 0 : 1;
    }
    if (stages_bad > 0)
      throw VerifyError(dir->string() + ": " + std::to_string(stages_bad) + " stage(s) do not verify (" +
                            std::to_string(files_bad) + " problem(s), listed above)",
                        "`taupe run` with the same configuration reruns the stages whose files changed");
    std::cout << dir->string() << ": every recorded file verified (" << result.size() << " stages)\n";
  });
}

}  // namespace taupe::cli
