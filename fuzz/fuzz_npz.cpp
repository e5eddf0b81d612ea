// libFuzzer: .npz (zip of .npy) parsing through libzip must never crash or leak.
#include <cstdint>

#include "taupe/core/errors.h"
#include "taupe/io/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  taupe::io::NpzReadOptions opts;
  opts.max_total_bytes = std::size_t{1} << 24;
  opts.npy.max_bytes = std::size_t{1} << 24;
  opts.max_members = 64;
  try {
    const auto arrays = taupe::io::parse_npz(data, size, "fuzz.npz", opts);
    if (auto it = arrays.find("cutoff"); it != arrays.end()) {
      try { (void)it->second.scalar<std::int64_t>("cutoff"); } catch (const taupe::DataError&) {}
    }
  } catch (const taupe::DataError&) {
  }
  return 0;
}
