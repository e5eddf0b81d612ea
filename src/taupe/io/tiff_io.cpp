#include "taupe/io/tiff_io.h"

#include <cmath>

#include "taupe/core/errors.h"
#include "taupe/dataset/tiff_stack.h"

namespace taupe::io {

std::string StackHeader::dtype() const {
  switch (kind) {
    case PixelKind::kUInt: return "uint" + std::to_string(bits);
    case PixelKind::kInt: return "int" + std::to_string(bits);
    case PixelKind::kFloat: return "float" + std::to_string(bits);
  }
  return "?";
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

StackHeader tiff_header(const std::filesystem::path& path) {
  const TiffInfo info = read_tiff_info(path);
  StackHeader h;
  if ((info.imagej || info.ome) && !info.axes.empty()) {
    // ImageJ and OME-TIFF (re-ordered on read) give (T, Z, C, Y, X) with size-1 axes dropped: restore T and C so
    // callers always see the axes they asked for; Z only when present.
    const TiffShape& s = info.shape;
    h.shape = {static_cast<std::size_t>(s.frames)};
    if (s.slices > 1) h.shape.push_back(static_cast<std::size_t>(s.slices));
    h.shape.push_back(static_cast<std::size_t>(s.channels));
    h.shape.push_back(static_cast<std::size_t>(s.height));
    h.shape.push_back(static_cast<std::size_t>(s.width));
    h.has_z = s.slices > 1;
  } else {
    h.shape = info.dims;
  }
  switch (info.pixel) {
    case TiffPixel::kUInt8: h.kind = PixelKind::kUInt; h.bits = 8; break;
    case TiffPixel::kUInt16: h.kind = PixelKind::kUInt; h.bits = 16; break;
    case TiffPixel::kUInt32: h.kind = PixelKind::kUInt; h.bits = 32; break;
    case TiffPixel::kInt8: h.kind = PixelKind::kInt; h.bits = 8; break;
    case TiffPixel::kInt16: h.kind = PixelKind::kInt; h.bits = 16; break;
    case TiffPixel::kInt32: h.kind = PixelKind::kInt; h.bits = 32; break;
    case TiffPixel::kFloat32: h.kind = PixelKind::kFloat; h.bits = 32; break;
  }
  h.pages = info.pages;
  return h;
}

std::vector<double> tiff_read_rows(const std::filesystem::path& path, const StackHeader& h, std::size_t row0,
                                   std::size_t nrows) {
  if (h.shape.size() < 3)
    throw DataError(path.string() + ": expected at least 3 axes, found " + std::to_string(h.shape.size()) + " " +
                    shape_text(h.shape));
  const std::size_t rows = h.shape[0];
  if (row0 + nrows > rows)
    throw DataError(path.string() + ": rows [" + std::to_string(row0) + ", " + std::to_string(row0 + nrows) +
                    ") outside axis 0 of size " + std::to_string(rows));
  const std::size_t planes_per_row = rows ? h.pages / rows : 0;
  std::vector<double> v = read_tiff_planes_as<double>(path, row0 * planes_per_row, nrows * planes_per_row);
  if (h.kind == PixelKind::kFloat) {
    const std::size_t per_row = nrows ? v.size() / nrows : 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        throw DataError(path.string() + ": frame " + std::to_string(row0 + i / per_row) + ": value #" +
                        std::to_string(i % per_row) + " is " + (std::isnan(v[i]) ? "NaN" : "Inf") +
                        " (NaN/Inf pixels are not allowed)");
  }
  return v;
}

namespace {
TiffShape shape_from(const std::vector<std::size_t>& shape, const std::filesystem::path& path) {
  TiffShape s;
  if (shape.size() == 4) {
    s = tcyx(int(shape[0]), int(shape[1]), int(shape[2]), int(shape[3]));
  } else if (shape.size() == 3) {
    s = tcyx(int(shape[0]), 1, int(shape[1]), int(shape[2]));
  } else {
    throw DataError(path.string() + ": cannot write a TIFF stack of shape " + shape_text(shape) +
                    " (expected (T, Y, X) or (T, C, Y, X))");
  }
  return s;
}
TiffWriteOptions options_of(const OmeMeta* ome) {
  TiffWriteOptions o;
  if (!ome) return o;
  o.ome = true;
  o.imagej = false;
  o.pixel_size_um = ome->pixel_size_um;
  o.frame_interval_s = ome->frame_interval_s;
  o.channel_names = ome->channel_names;
  return o;
}
}  // namespace

void tiff_write_u16(const std::filesystem::path& path, const std::vector<std::size_t>& shape,
                    const std::vector<std::uint16_t>& data, const OmeMeta* ome) {
  write_tiff(path, data, shape_from(shape, path), options_of(ome));
}

void tiff_write_u8(const std::filesystem::path& path, const std::vector<std::size_t>& shape,
                   const std::vector<std::uint8_t>& data, const OmeMeta* ome) {
  write_tiff(path, data, shape_from(shape, path), options_of(ome));
}

}  // namespace taupe::io
