#pragma once
// Patch container ("taupe.patches" v1): (N, 2, 64, 64) single-frame crops for encoder
// training, with the cell type of the central cell and optional per-patch ground truth.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "taupe/dataset/types.h"

namespace taupe {

struct PatchBatch {
  std::vector<std::uint16_t> images;   ///< (n, 2, 64, 64)
  std::vector<CellType> types;         ///< (n,)
  std::map<std::string, std::vector<float>> features;  ///< optional, each (n,), e.g. "nuclear_area_um2"
  std::size_t size() const { return types.size(); }
};

class PatchWriter {
 public:
  explicit PatchWriter(const std::filesystem::path& path);
  ~PatchWriter();
  void append(const PatchBatch& batch);
  void close();   ///< atomic
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class PatchReader {
 public:
  explicit PatchReader(const std::filesystem::path& path);
  ~PatchReader();
  std::size_t size() const;
  PatchBatch read(std::size_t first, std::size_t count) const;   ///< streaming
  /// Only the images of patches [first, first + count), into out (count, 2, 64, 64).
  void read_images(std::size_t first, std::size_t count, std::uint16_t* out) const;
  /// Patches per storage chunk of the images (what one decompression yields); 0 = not chunked.
  std::size_t chunk_rows() const;
  std::vector<std::string> feature_names() const;
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
