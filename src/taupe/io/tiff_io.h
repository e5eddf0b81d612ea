#pragma once
// The importers' narrow view of TIFF stacks: shape + pixel type, slabs along axis 0 as
// doubles (exact for every integer type up to 32 bits and for float32), and writers for the
// dtypes export needs. Implemented on top of taupe/dataset/tiff_stack.h (the project's one
// TIFF library); this file only adapts it to what io/ needs and adds the importers' rules
// (finite pixels, axis checks) with messages that name the file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taupe::io {

enum class PixelKind : std::uint8_t { kUInt, kInt, kFloat };

struct StackHeader {
  std::vector<std::size_t> shape;   ///< logical axes, slowest first (e.g. T, C, Y, X)
  PixelKind kind = PixelKind::kUInt;
  int bits = 16;
  std::size_t pages = 0;            ///< 2-D planes in the file
  bool has_z = false;               ///< ImageJ stack with a Z axis (T, Z, C, Y, X)
  std::string dtype() const;        ///< "uint16", "float32", ...
};

/// Shape of the stack: ImageJ hyperstacks always as (T, C, Y, X) (or (T, Z, C, Y, X)) with
/// size-1 T/C restored; otherwise the shape stated by the metadata (tifffile JSON), or
/// (pages, Y, X).
StackHeader tiff_header(const std::filesystem::path& path);
/// Elements of rows [row0, row0 + nrows) along axis 0 (needs >= 3 axes), C order. NaN/Inf
/// pixels are a DataError "<file>: frame <t>: value #<i> is NaN (NaN/Inf pixels are not allowed)".
std::vector<double> tiff_read_rows(const std::filesystem::path& path, const StackHeader& header,
                                   std::size_t row0, std::size_t nrows);
/// "(T, C, Y, X)"-style text of a shape.
std::string shape_text(const std::vector<std::size_t>& shape);

/// Calibration written as OME-TIFF (Fiji and napari then show µm and seconds).
struct OmeMeta {
  double pixel_size_um = 0;      ///< 0: not written
  double frame_interval_s = 0;   ///< 0: not written
  std::vector<std::string> channel_names;   ///< empty or one per channel
};
/// Atomic writers (shape slowest-first; pages = all axes but the last two): ImageJ hyperstacks,
/// or OME-TIFF when `ome` is given.
void tiff_write_u16(const std::filesystem::path& path, const std::vector<std::size_t>& shape,
                    const std::vector<std::uint16_t>& data, const OmeMeta* ome = nullptr);
void tiff_write_u8(const std::filesystem::path& path, const std::vector<std::size_t>& shape,
                   const std::vector<std::uint8_t>& data, const OmeMeta* ome = nullptr);

}  // namespace taupe::io
