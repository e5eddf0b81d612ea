#pragma once
// LibTorch side of the runtime set-up (core/runtime.h stays torch-free). main() calls
// torch_runtime_init(runtime_init(...).threads): LibTorch then uses `threads` intra-op threads
// (1.13 defaults to half the cores), later runtime_init calls (e.g. --threads) reach LibTorch
// through the registered thread hook, and the LibTorch version is registered for manifests.
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace taupe {

/// Sets LibTorch intra-op threads (<= 0: cores available) and, once and only while that is
/// still allowed, inter-op threads; registers the thread hook and the "libtorch" version.
void torch_runtime_init(int threads);

/// "1.13.0" (TORCH_VERSION of the headers we were compiled with).
std::string torch_version_string();
/// Whether oneDNN (MKL-DNN) kernels are available.
bool torch_has_mkldnn();
/// Number of CUDA devices visible (0 on CPU-only builds).
int torch_cuda_device_count();
/// LibTorch's intra-op thread count in effect.
int torch_num_threads();

/// The device the LibTorch stages compute on (`run.device`, `--device`): "cpu", "cuda",
/// "cuda:N", or "auto" (the first CUDA device when one is visible, else the CPU; the default).
/// ConfigError naming `what` when the text is none of these or CUDA is asked for and this
/// LibTorch sees no such device (the CPU-only Debian build never does).
void set_compute_device(const std::string& spec, const std::string& what = "run.device");
/// The device in effect (resolves "auto" at the first call).
c10::Device compute_device();
/// "cpu", "cuda:0", ...
std::string compute_device_name();

/// The precision of the forward passes (`run.precision`, `--precision`): "fp32" (the default)
/// or "bf16" (mixed precision: convolutions and matrix products in bfloat16 through LibTorch's
/// autocast, losses, softmax and reductions in float32, weights and optimiser state float32).
/// ConfigError naming `what` for anything else.
void set_compute_precision(const std::string& spec, const std::string& what = "run.precision");
/// Whether bf16 autocast is requested.
bool reduced_precision();
/// "fp32" or "bf16".
std::string compute_precision_name();

/// While alive, the forward passes of this thread run in the requested precision on the compute
/// device (autocast is per thread: every worker thread opens its own scope). A no-op for fp32.
/// Wrap forward passes only: backward and the losses stay outside, in float32.
class AutocastScope {
 public:
  AutocastScope();
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool was_enabled_ = false;
  c10::DeviceType type_ = c10::kCPU;
  c10::ScalarType was_dtype_ = c10::ScalarType::Float;
};

}  // namespace taupe
