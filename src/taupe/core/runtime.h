#pragma once
// Process-wide runtime set-up, in one place, called first by main() (and the test main):
//  - glibc malloc tuned for large tensors: mallopt(M_MMAP_MAX, 0) + a large trim threshold
//    (measured 1.5-1.9x faster VAE training steps: no page-faulting of >32 MB activations);
//  - OpenBLAS kept single-threaded (LibTorch owns the threads; a threaded BLAS oversubscribes);
//  - LibTorch intra-op threads = cores available (1.13 defaults to half), unless overridden.
// LibTorch is configured through a hook that the torch stages register (so this header and
// taupe_core stay torch-free).
#include <functional>
#include <map>
#include <string>

namespace taupe {

struct RuntimeOptions {
  int threads = 0;            ///< 0 = cores available to this process (sched_getaffinity)
  bool tune_malloc = true;
};

struct RuntimeInfo {
  int threads = 0;                 ///< threads in effect
  int cores_available = 0;
  std::string blas_library;        ///< path of the BLAS shared object actually loaded
  std::string blas_name;           ///< "OpenBLAS", "reference BLAS", ...
  bool blas_single_threaded = false;
  std::string blas_config;         ///< openblas_get_config() text when OpenBLAS is loaded
  bool malloc_tuned = false;       ///< mallopt settings applied
};

/// Applies the settings above; idempotent. Returns what is in effect.
RuntimeInfo runtime_init(const RuntimeOptions& opts);
/// Cores this process may run on.
int cores_available();
/// Gives the heap's free pages back to the system (glibc malloc_trim over every arena). With the
/// tuning above malloc never trims on its own, so a long process would keep the largest heap any
/// earlier step needed; the pipeline calls this between stages. False where unsupported.
bool release_free_heap();
/// What is loaded now (BLAS path/name...).
RuntimeInfo runtime_info();

/// Torch stages register a function that sets LibTorch's thread count (called by runtime_init
/// and immediately if runtime_init already ran).
void register_thread_hook(std::function<void(int)> hook);

/// Versions of the libraries linked into this process ("libtorch" -> "1.13.0"); torch code
/// registers its own so that torch-free code (run directories, manifests) can report it.
void register_version(const std::string& component, const std::string& version);
/// All registered versions (empty map when none were registered).
std::map<std::string, std::string> registered_versions();

/// BLAS identification from the path of a loaded shared object ("" when it is not a BLAS):
/// "OpenBLAS" for libopenblas* or an openblas alternative, "reference BLAS" for netlib's
/// libblas.so.3 (under .../blas/), "MKL", "BLIS", or "unknown BLAS" for another libblas.
std::string blas_name_from_path(const std::string& resolved_path);

}  // namespace taupe
