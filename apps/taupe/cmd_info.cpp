// `taupe info`: what this build and this machine will use.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "commands.h"
#include "taupe/core/errors.h"
#include "taupe/core/launch_env.h"
#include "taupe/core/runtime.h"
#include "taupe/core/version.h"
#include "taupe/encoder/torch_runtime.h"

namespace taupe::cli {

void register_info(CLI::App& app) {
  auto* sub = app.add_subcommand("info", "show versions, threads, the BLAS actually loaded, oneDNN, CUDA devices and the launcher's rank / world size");
  auto json_out = std::make_shared<bool>(false);
  sub->add_flag("--json", *json_out, "print as JSON");
  set_action(sub, [json_out] {
    const RuntimeInfo rt = runtime_info();
    const int torch_threads = torch_num_threads();
    const bool mkldnn = torch_has_mkldnn();
    const int cuda = torch_cuda_device_count();
    const std::string device = compute_device_name();
    LaunchEnv launch;
    std::string launch_text;
    try {
      launch = read_launch_env();
      launch_text = launch.describe();
    } catch (const ConfigError& e) {  // info reports a broken launcher environment, it does not stop on it
      launch.launcher = "invalid";
      launch_text = std::string("invalid: ") + e.what();
    }
    if (*json_out) {
      nlohmann::json j = {
          {"taupe", kVersion},
          {"libtorch", torch_version_string()},
          {"threads", torch_threads},
          {"cores_available", rt.cores_available},
          {"blas", {{"name", rt.blas_name}, {"library", rt.blas_library}, {"config", rt.blas_config},
                    {"single_threaded", rt.blas_single_threaded}}},
          {"malloc_tuned", rt.malloc_tuned},
          {"onednn", mkldnn},
          {"cuda_devices", cuda},
          {"device", device},
          {"precision", compute_precision_name()},
          {"launch", {{"launcher", launch.launcher}, {"rank", launch.rank}, {"world_size", launch.world_size},
                      {"local_rank", launch.local_rank}, {"master_addr", launch.master_addr},
                      {"master_port", launch.master_port}}},
      };
      std::cout << j.dump(2) << '\n';
      return;
    }
    std::string blas = rt.blas_name;
    if (!rt.blas_config.empty()) blas += " (" + rt.blas_config + ")";
    if (!rt.blas_library.empty()) blas += " at " + rt.blas_library;
    if (rt.blas_name == "OpenBLAS") blas += rt.blas_single_threaded ? ", single-threaded" : ", multi-threaded";
    std::cout << "taupe      " << kVersion << '\n'
              << "LibTorch   " << torch_version_string() << '\n'
              << "threads    " << torch_threads << " (cores available: " << rt.cores_available << ")\n"
              << "BLAS       " << blas << '\n'
              << "malloc     " << (rt.malloc_tuned ? "tuned (no mmap, large trim threshold)" : "default") << '\n'
              << "oneDNN     " << (mkldnn ? "on" : "off") << '\n'
              << "CUDA       " << cuda << (cuda == 1 ? " device" : " devices") << '\n'
              << "device     " << device << " (--device / run.device)\n"
              << "precision  " << compute_precision_name() << " (--precision / run.precision)\n"
              << "launch     " << launch_text << '\n';
    if (rt.blas_name == "reference BLAS")
      std::cerr << "warning: the reference BLAS is active; LibTorch is 2-4x slower with it.\n"
                << "hint: bash scripts/setup.sh (installs OpenBLAS and selects it)\n";
  });
}

}  // namespace taupe::cli
