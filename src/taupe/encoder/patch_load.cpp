// Patch pixels for the training pipeline: a whole container in memory, or read on demand.
#include <algorithm>
#include <cstring>

#include "taupe/core/errors.h"
#include "taupe/dataset/patches.h"
#include "taupe/encoder/patch_pipeline.h"

namespace taupe {

namespace {
/// A patch container read on demand (the reader serialises HDF5 calls).
class FilePatchSource final : public PatchSource {
 public:
  FilePatchSource(const std::filesystem::path& path, std::int64_t max_patches) : path_(path), reader_(path) {
    n_ = static_cast<std::int64_t>(reader_.size());
    if (max_patches > 0) n_ = std::min(n_, max_patches);
    block_ = std::max<std::int64_t>(1, static_cast<std::int64_t>(reader_.chunk_rows()));
  }
  std::int64_t size() const override { return n_; }
  std::int64_t block() const override { return block_; }
  void read(std::int64_t first, std::int64_t count, std::uint16_t* out) const override {
    if (first < 0 || count < 0 || first + count > n_)
      throw DataError(path_.string() + ": patches [" + std::to_string(first) + ", " + std::to_string(first + count) +
                      ") out of range (using " + std::to_string(n_) + ")");
    reader_.read_images(static_cast<std::size_t>(first), static_cast<std::size_t>(count), out);
  }

 private:
  std::filesystem::path path_;
  PatchReader reader_;
  std::int64_t n_ = 0, block_ = 1;
};

class MemoryPatchSource final : public PatchSource {
 public:
  MemoryPatchSource(std::shared_ptr<const PatchImages> images, std::int64_t block)
      : images_(std::move(images)), block_(std::max<std::int64_t>(1, block)) {}
  std::int64_t size() const override { return images_->n; }
  std::int64_t block() const override { return block_; }
  void read(std::int64_t first, std::int64_t count, std::uint16_t* out) const override {
    if (first < 0 || count < 0 || first + count > images_->n)
      throw DataError("patches [" + std::to_string(first) + ", " + std::to_string(first + count) +
                      ") out of range (set holds " + std::to_string(images_->n) + ")");
    std::memcpy(out, images_->image(first),
                static_cast<std::size_t>(count * PatchImages::kPixelsPerImage) * sizeof(std::uint16_t));
  }

 private:
  std::shared_ptr<const PatchImages> images_;
  std::int64_t block_;
};
}  // namespace

std::shared_ptr<const PatchSource> open_patch_source(const std::filesystem::path& patches, std::int64_t max_patches) {
  return std::make_shared<FilePatchSource>(patches, max_patches);
}

std::shared_ptr<const PatchSource> memory_patch_source(std::shared_ptr<const PatchImages> images, std::int64_t block) {
  return std::make_shared<MemoryPatchSource>(std::move(images), block);
}

PatchImages load_patch_images(const std::filesystem::path& patches, std::int64_t max_patches) {
  PatchReader reader(patches);
  std::int64_t n = static_cast<std::int64_t>(reader.size());
  if (max_patches > 0) n = std::min(n, max_patches);
  PatchImages out;
  out.n = n;
  out.pixels.resize(static_cast<std::size_t>(n * PatchImages::kPixelsPerImage));
  constexpr std::int64_t kChunk = 2048;
  for (std::int64_t first = 0; first < n; first += kChunk) {
    const std::int64_t count = std::min(kChunk, n - first);
    reader.read_images(static_cast<std::size_t>(first), static_cast<std::size_t>(count),
                       out.pixels.data() + first * PatchImages::kPixelsPerImage);
  }
  return out;
}

}  // namespace taupe
