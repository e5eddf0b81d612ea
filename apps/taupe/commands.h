#pragma once
// The subcommands of `taupe`, one registration function per apps/taupe/cmd_<name>.cpp.
// To add a subcommand: write cmd_<name>.cpp defining register_<name>(CLI::App&) (see cli.h),
// declare it below and add it to kCommands in main.cpp. A subcommand appears only when it works.
#include <CLI/CLI.hpp>

namespace taupe::cli {

void register_info(CLI::App& app);    // cmd_info.cpp:   versions, threads, BLAS, oneDNN, CUDA
void register_config(CLI::App& app);  // cmd_config.cpp: config show / presets

void register_simulate(CLI::App& app);  // cmd_simulate.cpp: cell-competition simulator
void register_extract(CLI::App& app);   // cmd_extract.cpp: glimpses + patches from movies
void register_train(CLI::App& app);    // cmd_train.cpp (+ cmd_train_temporal.cpp): encoder, projector, temporal
void register_predict(CLI::App& app);  // cmd_predict.cpp: apply a trained model set
void register_perturb(CLI::App& app);  // cmd_perturb.cpp: virtual perturbation experiments
void register_import(CLI::App& app);   // cmd_import.cpp: cellx-predict, btrack, CTC, CSV in
void register_export(CLI::App& app);   // cmd_export.cpp: cellx-predict layout, napari CSV, TIFF stacks out
void register_run(CLI::App& app);      // cmd_run.cpp: `taupe run` (whole pipeline) and `taupe report RUN_DIR`
void register_validate(CLI::App& app); // cmd_validate.cpp: `taupe validate` (K seeds x worlds study)
void register_verify(CLI::App& app);   // cmd_verify.cpp: check a run directory's recorded files

}  // namespace taupe::cli
