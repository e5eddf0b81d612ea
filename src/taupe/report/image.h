#pragma once
// Raster images for the report: an 8-bit grey/RGB buffer, PNG encoding, base64 data URIs and
// helpers to turn float images (glimpses, reconstructions, masks) into displayable 8-bit.
//
// PNG encoding uses cv::imencode when OpenCV's headers are visible to this library (the
// report stage linking taupe_opencv); otherwise a small built-in encoder writes valid PNGs with
// stored (uncompressed) deflate blocks. Both are deterministic (same pixels → same bytes).
#include <cstdint>
#include <string>
#include <vector>

namespace taupe::report {

/// Row-major, interleaved 8-bit image: pixel (x, y) channel c at (y*width + x)*channels + c.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;  ///< 1 (grey) or 3 (RGB)
  std::vector<std::uint8_t> pixels;

  bool empty() const { return width <= 0 || height <= 0; }
  /// Throws DataError if the buffer size does not match width × height × channels or channels ∉ {1, 3}.
  void check() const;
};

/// Grey image from floats, mapping [lo, hi] linearly to [0, 255] (clipped; NaN → 0).
Image grey_from_float(const float* data, int width, int height, float lo = 0.f, float hi = 1.f);
/// RGB composite of two float channels (e.g. GFP → green, RFP → magenta), each mapped from
/// [lo, hi] to [0, 255]; channel b may be null.
Image composite_from_float(const float* a, const float* b, int width, int height, float lo = 0.f, float hi = 1.f);
/// Label image → RGB with a fixed colour per label value (0 = black background; the paper's
/// mask colours: 1 → grey (wild type), 2 → dark (scribble); other values → palette).
Image labels_to_rgb(const std::uint8_t* labels, int width, int height);

/// PNG file bytes (8-bit grey or RGB). Throws DataError on an invalid image.
std::string encode_png(const Image& img);
/// Standard base64 (RFC 4648, with padding).
std::string base64_encode(const std::string& bytes);
/// "data:image/png;base64,..." for an <img src> or SVG <image href>.
std::string png_data_uri(const Image& img);
/// Name of the PNG encoder compiled in: "opencv" or "builtin".
const char* png_encoder_name();

}  // namespace taupe::report
