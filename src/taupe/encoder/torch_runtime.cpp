#include "taupe/encoder/torch_runtime.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "taupe/core/errors.h"
#include "taupe/core/launch_env.h"
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
  if (spec == "cpu" || (spec == "auto" && visible == 0)) return c10::Device(c10::kCPU);
  // "auto" and "cuda" give each rank of a multi-process job its own GPU (LOCAL_RANK / SLURM_LOCALID).
  int index = read_launch_env().cuda_device(visible);
  if (spec == "auto") return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
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

namespace {
std::atomic<bool> bf16_requested{false};

// LibTorch 2.4 replaced the per-device-type autocast functions by ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(c10::DeviceType t) { return at::autocast::is_autocast_enabled(t); }
void set_autocast(c10::DeviceType t, bool on) { at::autocast::set_autocast_enabled(t, on); }
c10::ScalarType autocast_dtype(c10::DeviceType t) { return at::autocast::get_autocast_dtype(t); }
void set_autocast_dtype(c10::DeviceType t, c10::ScalarType d) { at::autocast::set_autocast_dtype(t, d); }
#else
bool autocast_enabled(c10::DeviceType t) {
  return t == c10::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast(c10::DeviceType t, bool on) {
  if (t == c10::kCUDA) at::autocast::set_enabled(on);
  else at::autocast::set_cpu_enabled(on);
}
c10::ScalarType autocast_dtype(c10::DeviceType t) {
  return t == c10::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(c10::DeviceType t, c10::ScalarType d) {
  if (t == c10::kCUDA) at::autocast::set_autocast_gpu_dtype(d);
  else at::autocast::set_autocast_cpu_dtype(d);
}
#endif
}  // namespace

void set_compute_precision(const std::string& spec, const std::string& what) {
  if (spec != "fp32" && spec != "bf16") throw ConfigError(what + " = \"" + spec + "\": expected fp32 or bf16");
  bf16_requested = spec == "bf16";
}

bool reduced_precision() { return bf16_requested; }

std::string compute_precision_name() { return reduced_precision() ? "bf16" : "fp32"; }

AutocastScope::AutocastScope() {
  if (!reduced_precision()) return;
  type_ = compute_device().type();
  was_enabled_ = autocast_enabled(type_);
  was_dtype_ = autocast_dtype(type_);
  set_autocast(type_, true);
  set_autocast_dtype(type_, c10::ScalarType::BFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost scope drops the casts autocast cached (the weights change at the next
  // optimiser step).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(type_, was_enabled_);
  set_autocast_dtype(type_, was_dtype_);
}

}  // namespace taupe
