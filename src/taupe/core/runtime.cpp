// Process-wide runtime set-up: malloc tuning, single-threaded OpenBLAS, thread count, and
// detection of the BLAS actually loaded into the process.
#include "taupe/core/runtime.h"

#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace taupe {
namespace {

struct RuntimeState {
  std::mutex mu;
  bool initialized = false;
  RuntimeInfo info;
  std::vector<std::function<void(int)>> hooks;
  std::map<std::string, std::string> versions;
};

RuntimeState& state() {
  static RuntimeState s;
  return s;
}

bool contains(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

struct BlasScan {
  std::string path;
  std::string name;
};

int collect_blas(struct dl_phdr_info* info, size_t, void* data) {
  auto* scan = static_cast<BlasScan*>(data);
  if (!info->dlpi_name || !*info->dlpi_name) return 0;
  const std::string loaded = info->dlpi_name;
  std::error_code ec;
  std::string resolved = std::filesystem::canonical(loaded, ec).string();
  if (ec) resolved = loaded;
  const std::string name = blas_name_from_path(resolved);
  if (name.empty()) return 0;
  // Prefer a definite identification over "unknown BLAS" when several objects are loaded.
  if (scan->name.empty() || scan->name == "unknown BLAS") {
    scan->path = resolved;
    scan->name = name;
  }
  return 0;
}

using openblas_set_fn = void (*)(int);
using openblas_get_int_fn = int (*)();
using openblas_get_config_fn = char* (*)();

/// Fills the BLAS fields of `info` from what is loaded now; sets OpenBLAS to 1 thread when
/// `make_single_threaded`.
void probe_blas(RuntimeInfo& info, bool make_single_threaded) {
  BlasScan scan;
  dl_iterate_phdr(collect_blas, &scan);
  info.blas_library = scan.path;
  info.blas_name = scan.name.empty() ? "none loaded" : scan.name;
  info.blas_config.clear();

  auto* set_threads = reinterpret_cast<openblas_set_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  auto* get_threads = reinterpret_cast<openblas_get_int_fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  auto* get_config = reinterpret_cast<openblas_get_config_fn>(dlsym(RTLD_DEFAULT, "openblas_get_config"));
  if (get_config) {
    // The symbol proves OpenBLAS whatever the file is called (e.g. via libblas.so.3).
    info.blas_name = "OpenBLAS";
    if (const char* cfg = get_config()) info.blas_config = cfg;
  }
  if (make_single_threaded && set_threads) set_threads(1);
  if (get_threads) {
    info.blas_single_threaded = get_threads() == 1;
  } else {
    // Reference BLAS and unknown libraries do not thread; nothing loaded: nothing to thread.
    info.blas_single_threaded = info.blas_name != "OpenBLAS";
  }
}

}  // namespace

std::string blas_name_from_path(const std::string& resolved_path) {
  const std::string file = std::filesystem::path(resolved_path).filename().string();
  if (contains(file, "libopenblas")) return "OpenBLAS";
  if (contains(file, "libmkl_rt") || contains(file, "libmkl_core")) return "MKL";
  if (contains(file, "libblis")) return "BLIS";
  if (file.rfind("libblas.so", 0) == 0 || file.rfind("libcblas.so", 0) == 0) {
    if (contains(resolved_path, "openblas")) return "OpenBLAS";
    if (contains(resolved_path, "/blis")) return "BLIS";
    if (contains(resolved_path, "atlas")) return "ATLAS";
    if (contains(resolved_path, "/blas/")) return "reference BLAS";
    return "unknown BLAS";
  }
  return {};
}

int cores_available() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? static_cast<int>(hc) : 1;
}

bool release_free_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
  return true;
#else
  return false;
#endif
}

RuntimeInfo runtime_init(const RuntimeOptions& opts) {
  auto& s = state();
  std::vector<std::function<void(int)>> hooks;
  RuntimeInfo info;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (opts.tune_malloc) {
      // Large activations would otherwise be mmap'ed and page-faulted on every step.
      const bool a = mallopt(M_MMAP_MAX, 0) == 1;
      const bool b = mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
      s.info.malloc_tuned = a && b;
    }
    const int cores = cores_available();
    const int threads = opts.threads > 0 ? opts.threads : cores;
    // Read by BLAS/OpenMP libraries loaded later and by child processes; libraries already
    // loaded are configured through their API below and through the thread hooks.
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
    s.info.threads = threads;
    s.info.cores_available = cores;
    probe_blas(s.info, true);
    s.initialized = true;
    hooks = s.hooks;
    info = s.info;
  }
  for (const auto& h : hooks) h(info.threads);
  return info;
}

RuntimeInfo runtime_info() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  RuntimeInfo info = s.info;
  if (!s.initialized) {
    info.cores_available = cores_available();
    info.threads = info.cores_available;
  }
  probe_blas(info, false);
  return info;
}

void register_thread_hook(std::function<void(int)> hook) {
  auto& s = state();
  int threads = 0;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.hooks.push_back(hook);
    if (s.initialized) threads = s.info.threads;
  }
  if (threads > 0) hook(threads);
}

void register_version(const std::string& component, const std::string& version) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.versions[component] = version;
}

std::map<std::string, std::string> registered_versions() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.versions;
}

}  // namespace taupe
