// libFuzzer: the strict .npy parser must either return a consistent array or throw DataError.
#include <cstdint>
#include <cstring>

#include "taupe/core/errors.h"
#include "taupe/io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  taupe::io::NpyReadOptions opts;
  opts.max_bytes = std::size_t{1} << 24;
  opts.allow_big_endian = size > 0 && (data[size - 1] & 1);
  try {
    const taupe::io::NpyArray a = taupe::io::parse_npy(data, size, "fuzz.npy", opts);
    if (a.bytes.size() != a.size() * a.dtype.size) __builtin_trap();
    if (a.dtype.kind == taupe::io::NpyKind::kUnicode || a.dtype.kind == taupe::io::NpyKind::kBytes) {
      (void)a.strings("fuzz");
    } else {
      (void)a.values<double>("fuzz");
      try { (void)a.values<std::int32_t>("fuzz"); } catch (const taupe::DataError&) {}
      try { (void)a.values<std::uint16_t>("fuzz"); } catch (const taupe::DataError&) {}
    }
    // Re-serialising a parsed array and parsing it again gives the same bytes.
    const std::string again = taupe::io::serialize_npy(a);
    const auto b = taupe::io::parse_npy(reinterpret_cast<const std::uint8_t*>(again.data()), again.size(), "again", {});
    if (b.bytes != a.bytes || b.shape != a.shape) __builtin_trap();
  } catch (const taupe::DataError&) {
  }
  return 0;
}
