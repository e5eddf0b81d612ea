// libFuzzer: the OME-XML reader of OME-TIFF descriptions (sizes, DimensionOrder, units,
// channels) and the plane re-ordering it drives.
#include <cstdint>
#include <string>

#include "taupe/core/errors.h"
#include "taupe/dataset/ome_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    taupe::OmePixels p;
    if (taupe::parse_ome_xml(text, "fuzz.ome.tif", &p)) {
      // Every plane index lies inside the file's planes (the reader indexes pages with it).
      const long long planes = p.nz * p.nc * p.nt;
      if (planes <= 4096)
        for (long long t = 0; t < p.nt; ++t)
          for (long long z = 0; z < p.nz; ++z)
            for (long long c = 0; c < p.nc; ++c) {
              const long long i = p.plane_index(t, z, c);
              if (i < 0 || i >= planes) __builtin_trap();
            }
    }
  } catch (const taupe::DataError&) {
  }
  return 0;
}
