// Runtime set-up: threads = cores, malloc tuning, BLAS detection and single-threaded OpenBLAS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <sched.h>

#include <cstdlib>
#include <filesystem>

#include "taupe/core/runtime.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace taupe {
namespace {

constexpr const char* kSystemBlas = "/usr/lib/x86_64-linux-gnu/libblas.so.3";

TEST(Runtime, ThreadsDefaultToCoresAvailable) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  EXPECT_EQ(cores_available(), CPU_COUNT(&set));
  const RuntimeInfo info = runtime_init(RuntimeOptions{});
  EXPECT_EQ(info.threads, cores_available());
  EXPECT_EQ(info.cores_available, cores_available());
  EXPECT_STREQ(std::getenv("OPENBLAS_NUM_THREADS"), "1");
  EXPECT_EQ(std::string(std::getenv("OMP_NUM_THREADS")), std::to_string(info.threads));
}

TEST(Runtime, ThreadOptionOverridesAndReachesHooks) {
  int seen = -1;
  register_thread_hook([&seen](int n) { seen = n; });
  EXPECT_EQ(seen, runtime_info().threads);  // called at once: runtime_init already ran
  RuntimeOptions o;
  o.threads = 3;
  EXPECT_EQ(runtime_init(o).threads, 3);
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(runtime_info().threads, 3);
  register_thread_hook([](int) {});  // hooks live for the process: leave a harmless one
  runtime_init(RuntimeOptions{});
  EXPECT_EQ(seen, cores_available());
}

TEST(Runtime, MallocIsTuned) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces malloc; mallopt is not applicable";
#else
  EXPECT_TRUE(runtime_init(RuntimeOptions{}).malloc_tuned);
#endif
}

TEST(Runtime, BlasNamesFromResolvedPaths) {
  EXPECT_EQ(blas_name_from_path("/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3"), "OpenBLAS");
  EXPECT_EQ(blas_name_from_path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"), "OpenBLAS");
  EXPECT_EQ(blas_name_from_path("/usr/lib/x86_64-linux-gnu/libopenblasp-r0.3.21.so"), "OpenBLAS");
  EXPECT_EQ(blas_name_from_path("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"), "reference BLAS");
  EXPECT_EQ(blas_name_from_path("/opt/intel/lib/libmkl_rt.so.2"), "MKL");
  EXPECT_EQ(blas_name_from_path("/usr/lib/x86_64-linux-gnu/libc.so.6"), "");
  EXPECT_EQ(blas_name_from_path("/usr/lib/x86_64-linux-gnu/liblapack.so.3"), "");
}

TEST(Runtime, DetectsTheBlasActuallyLoaded) {
  // taupe_core does not link a BLAS; load the system one the way LibTorch does (global).
  if (!fs::exists(kSystemBlas)) GTEST_SKIP() << kSystemBlas << " is not installed";
  void* handle = dlopen(kSystemBlas, RTLD_NOW | RTLD_GLOBAL);
  ASSERT_NE(handle, nullptr) << dlerror();
  const RuntimeInfo info = runtime_init(RuntimeOptions{});
  const std::string active = fs::canonical(kSystemBlas).string();
  EXPECT_EQ(info.blas_library.empty() ? "" : fs::canonical(info.blas_library).string(), active);
  if (active.find("openblas") != std::string::npos) {
    // The alternative is OpenBLAS: it must be identified and kept single-threaded.
    EXPECT_THAT(info.blas_name, HasSubstr("OpenBLAS"));
    EXPECT_THAT(info.blas_config, HasSubstr("OpenBLAS"));
    EXPECT_TRUE(info.blas_single_threaded);
  } else {
    EXPECT_EQ(info.blas_name, "reference BLAS");
  }
}

TEST(Runtime, RegisteredVersions) {
  register_version("demo-lib", "4.5.6");
  EXPECT_EQ(registered_versions().at("demo-lib"), "4.5.6");
}

}  // namespace
}  // namespace taupe
