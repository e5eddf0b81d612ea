// libFuzzer: the btrack HDF5 reader on in-memory file images (HDF5 core driver).
// Note: libhdf5 itself is not hardened against hostile files; crashes inside libhdf5 are
// reported separately from crashes in taupe's reader (see docs/import-export.md).
#include <cstdint>

#include "taupe/core/errors.h"
#include "taupe/io/btrack.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)taupe::io::read_btrack_image(data, size, "fuzz.h5", {}, std::size_t{1} << 20);
  } catch (const taupe::Error&) {
  }
  return 0;
}
