// GoogleTest entry point shared by every taupe test executable: applies taupe's runtime
// set-up (threads, BLAS, malloc) so tests run under the same conditions as the CLI.
#include <gtest/gtest.h>

#include "taupe/core/runtime.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  taupe::RuntimeOptions opts;
  taupe::runtime_init(opts);
  return RUN_ALL_TESTS();
}
