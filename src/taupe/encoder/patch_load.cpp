// Loading a patch container into memory for the training pipeline.
#include <algorithm>

#include "taupe/core/errors.h"
#include "taupe/dataset/patches.h"
#include "taupe/encoder/patch_pipeline.h"

namespace taupe {

PatchImages load_patch_images(const std::filesystem::path& patches, std::int64_t max_patches) {
  PatchReader reader(patches);
  std::int64_t n = static_cast<std::int64_t>(reader.size());
  if (max_patches > 0) n = std::min(n, max_patches);
  PatchImages out;
  out.n = n;
  out.pixels.reserve(static_cast<std::size_t>(n * PatchImages::kPixelsPerImage));
  constexpr std::int64_t kChunk = 2048;
  for (std::int64_t first = 0; first < n; first += kChunk) {
    const std::int64_t count = std::min(kChunk, n - first);
    PatchBatch b = reader.read(static_cast<std::size_t>(first), static_cast<std::size_t>(count));
    if (static_cast<std::int64_t>(b.images.size()) != count * PatchImages::kPixelsPerImage)
      throw DataError(patches.string() + ": patches [" + std::to_string(first) + ", " + std::to_string(first + count) +
                      "): expected " + std::to_string(count * PatchImages::kPixelsPerImage) + " pixels, got " +
                      std::to_string(b.images.size()));
    out.pixels.insert(out.pixels.end(), b.images.begin(), b.images.end());
  }
  return out;
}

}  // namespace taupe
