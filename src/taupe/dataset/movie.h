#pragma once
// Movie container ("taupe.movie" v1): full-frame images, instance label masks and the cell
// type of every instance. Axis order (T, C, H, W); x = column, y = row, pixel centres at
// integer coordinates. See docs/formats.md.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "taupe/dataset/types.h"

namespace taupe {

struct MovieInfo {
  int frames = 0, channels = 2, height = 0, width = 0;
  int bit_depth = 16;                 ///< 8 or 16: on-disk image dtype (uint8/uint16)
  double pixel_size_um = 0.5;         ///< µm per pixel
  double frame_interval_min = 4.0;    ///< minutes between frames
  std::vector<std::string> channel_names{"GFP", "RFP"};
};

/// One frame: images (C, H, W) as uint16 (uint8 data widened), labels (H, W) uint32
/// (0 = background), and the type of each label present in the frame.
struct MovieFrame {
  std::vector<std::uint16_t> images;   ///< (C, H, W)
  std::vector<std::uint32_t> labels;   ///< (H, W)
  std::map<std::uint32_t, CellType> label_types;
};

/// Streaming writer: frames are appended one at a time (chunked datasets), the file appears
/// under its final name only after close() (atomic). Destroying without close() discards it.
class MovieWriter {
 public:
  MovieWriter(const std::filesystem::path& path, const MovieInfo& info);
  ~MovieWriter();
  void append(const MovieFrame& frame);
  void close();
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Streaming reader: reads one frame at a time.
class MovieReader {
 public:
  explicit MovieReader(const std::filesystem::path& path);
  ~MovieReader();
  const MovieInfo& info() const;
  MovieFrame read(int t) const;
  const std::filesystem::path& path() const;
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
