#pragma once
// LibTorch side of the runtime set-up (core/runtime.h stays torch-free). main() calls
// torch_runtime_init(runtime_init(...).threads): LibTorch then uses `threads` intra-op threads
// (1.13 defaults to half the cores), later runtime_init calls (e.g. --threads) reach LibTorch
// through the registered thread hook, and the LibTorch version is registered for manifests.
#include <string>

#include <c10/core/Device.h>

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

}  // namespace taupe
