#include "taupe/encoder/torch_runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <atomic>
#include <mutex>

#include "taupe/core/runtime.h"

namespace taupe {
namespace {

void set_torch_threads(int threads) {
  if (threads <= 0) threads = cores_available();
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
}

}  // namespace

void torch_runtime_init(int threads) {
  static std::once_flag once;
  std::call_once(once, [threads] {
    register_version("libtorch", torch_version_string());
    // Inter-op threads can be set only once, before any inter-op work; taupe uses few
    // inter-op tasks, so keep them modest and never fail start-up over it.
    try {
      const int n = threads > 0 ? threads : cores_available();
      at::set_num_interop_threads(n);
    } catch (const std::exception&) {
    }
    register_thread_hook(set_torch_threads);  // applies the current runtime threads now
  });
  set_torch_threads(threads);
}

std::string torch_version_string() {
#ifdef TORCH_VERSION
  return TORCH_VERSION;
#else
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
#endif
}

bool torch_has_mkldnn() { return at::hasMKLDNN(); }

int torch_cuda_device_count() {
  try {
    return static_cast<int>(torch::cuda::device_count());
  } catch (const std::exception&) {
    return 0;
  }
}

int torch_num_threads() { return at::get_num_threads(); }

}  // namespace taupe
