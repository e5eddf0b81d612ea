// libFuzzer: TIFF stacks as the importers read them (shape, rows as doubles, glimpse reader).
// libtiff reads files, so each input is written to a per-process temporary file first.
#include <tiffio.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "taupe/core/errors.h"
#include "taupe/dataset/tiff_stack.h"
#include "taupe/io/tiff_io.h"

namespace {
std::filesystem::path scratch() {
  static const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("taupe_fuzz_tiff_" + std::to_string(::getpid()) + ".tif");
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  TIFFSetWarningHandler(nullptr);
  TIFFSetErrorHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = scratch();
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    const taupe::io::StackHeader h = taupe::io::tiff_header(path);
    std::size_t values = 1;
    for (std::size_t d : h.shape) values *= d;
    if (h.shape.size() >= 3 && h.shape[0] > 0 && values < (std::size_t{1} << 22))
      (void)taupe::io::tiff_read_rows(path, h, 0, 1);
  } catch (const taupe::Error&) {
  }
  try {
    int frames = 0;
    (void)taupe::read_glimpse_tiff(path, &frames);
  } catch (const taupe::Error&) {
  }
  return 0;
}
