#include "taupe/encoder/torch_runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "taupe/core/errors.h"
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

namespace {

std::mutex device_mutex;
std::string device_spec = "auto";
c10::Device device_in_effect = c10::Device(c10::kCPU);
bool device_resolved = false;

c10::Device resolve_device(const std::string& spec, const std::string& what) {
  const int visible = torch_cuda_device_count();
  if (spec == "auto") return visible > 0 ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (spec == "cpu") return c10::Device(c10::kCPU);
  int index = 0;
  if (spec != "cuda") {
    const std::string prefix = "cuda:";
    char* end = nullptr;
    const long v = spec.rfind(prefix, 0) == 0 ? std::strtol(spec.c_str() + prefix.size(), &end, 10) : -1;
    if (spec.rfind(prefix, 0) != 0 || end == spec.c_str() + prefix.size() || *end != '\0' || v < 0)
      throw ConfigError(what + " = \"" + spec + "\": expected auto, cpu, cuda or cuda:N");
    index = static_cast<int>(v);
  }
  if (index >= visible)
    throw ConfigError(what + " = \"" + spec + "\": " +
                          (visible == 0 ? std::string("this LibTorch sees no CUDA device")
                                        : "only " + std::to_string(visible) + " CUDA device(s) visible"),
                      "use --device cpu (or auto), or build against a CUDA LibTorch (docs/building.md)");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace

void set_compute_device(const std::string& spec, const std::string& what) {
  const c10::Device d = resolve_device(spec, what);
  std::lock_guard<std::mutex> lock(device_mutex);
  device_spec = spec;
  device_in_effect = d;
  device_resolved = true;
}

c10::Device compute_device() {
  std::lock_guard<std::mutex> lock(device_mutex);
  if (!device_resolved) {
    device_in_effect = resolve_device(device_spec, "run.device");
    device_resolved = true;
  }
  return device_in_effect;
}

std::string compute_device_name() { return compute_device().str(); }

}  // namespace taupe
