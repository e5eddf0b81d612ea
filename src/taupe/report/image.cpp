#include "taupe/report/image.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "taupe/core/errors.h"

#if __has_include(<opencv2/imgcodecs.hpp>)
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#define TAUPE_REPORT_OPENCV 1
#else
#define TAUPE_REPORT_OPENCV 0
#endif

namespace taupe::report {

void Image::check() const {
  if (channels != 1 && channels != 3)
    throw DataError("report image: channels = " + std::to_string(channels) + ": must be 1 or 3");
  if (width < 0 || height < 0)
    throw DataError("report image: negative size " + std::to_string(width) + "x" + std::to_string(height));
  const std::size_t need = static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * channels;
  if (pixels.size() != need)
    throw DataError("report image: " + std::to_string(pixels.size()) + " bytes for " + std::to_string(width) + "x" +
                    std::to_string(height) + "x" + std::to_string(channels) + " (expected " +
                    std::to_string(need) + ")");
}

namespace {
std::uint8_t to_byte(float v, float lo, float hi) {
  if (!std::isfinite(v) || !(hi > lo)) return 0;
  const float t = std::clamp((v - lo) / (hi - lo), 0.f, 1.f);
  return static_cast<std::uint8_t>(std::lround(t * 255.f));
}
}  // namespace

Image grey_from_float(const float* data, int width, int height, float lo, float hi) {
  Image img{width, height, 1, {}};
  img.pixels.resize(static_cast<std::size_t>(width) * height);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = to_byte(data[i], lo, hi);
  return img;
}

Image composite_from_float(const float* a, const float* b, int width, int height, float lo, float hi) {
  Image img{width, height, 3, {}};
  const std::size_t n = static_cast<std::size_t>(width) * height;
  img.pixels.resize(n * 3);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t g = to_byte(a[i], lo, hi);
    const std::uint8_t m = b ? to_byte(b[i], lo, hi) : 0;
    img.pixels[i * 3 + 0] = m;  // magenta = red + blue
    img.pixels[i * 3 + 1] = g;
    img.pixels[i * 3 + 2] = m;
  }
  return img;
}

Image labels_to_rgb(const std::uint8_t* labels, int width, int height) {
  static const std::array<std::array<std::uint8_t, 3>, 8> extra = {{{0, 114, 178},
                                                                   {213, 94, 0},
                                                                   {0, 158, 115},
                                                                   {230, 159, 0},
                                                                   {86, 180, 233},
                                                                   {204, 121, 167},
                                                                   {240, 228, 66},
                                                                   {255, 255, 255}}};
  Image img{width, height, 3, {}};
  const std::size_t n = static_cast<std::size_t>(width) * height;
  img.pixels.resize(n * 3);
  for (std::size_t i = 0; i < n; ++i) {
    std::array<std::uint8_t, 3> c;
    switch (labels[i]) {
      case 0: c = {0, 0, 0}; break;
      case 1: c = {170, 170, 170}; break;
      case 2: c = {70, 70, 70}; break;
      default: c = extra[(labels[i] - 3) % extra.size()];
    }
    for (int k = 0; k < 3; ++k) img.pixels[i * 3 + k] = c[k];
  }
  return img;
}

namespace {
// ---- built-in PNG: stored deflate blocks, CRC-32, Adler-32 --------------------------------
std::uint32_t crc32(const std::string& data, std::size_t begin) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = begin; i < data.size(); ++i)
    c = table[(c ^ static_cast<std::uint8_t>(data[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}
void put_u32(std::string& s, std::uint32_t v) {
  s += static_cast<char>((v >> 24) & 0xFF);
  s += static_cast<char>((v >> 16) & 0xFF);
  s += static_cast<char>((v >> 8) & 0xFF);
  s += static_cast<char>(v & 0xFF);
}
void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t start = out.size();
  out += type;
  out += data;
  put_u32(out, crc32(out, start));
}
[[maybe_unused]] std::string encode_png_builtin(const Image& img) {
  const std::size_t row = static_cast<std::size_t>(img.width) * img.channels;
  std::string raw;  // filter byte 0 + row bytes
  raw.reserve((row + 1) * img.height);
  for (int y = 0; y < img.height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(img.pixels.data()) + y * row, row);
  }
  std::string z;
  z += static_cast<char>(0x78);
  z += static_cast<char>(0x01);
  std::size_t pos = 0;
  do {
    const std::size_t len = std::min<std::size_t>(65535, raw.size() - pos);
    const bool last = pos + len == raw.size();
    z += static_cast<char>(last ? 1 : 0);
    z += static_cast<char>(len & 0xFF);
    z += static_cast<char>((len >> 8) & 0xFF);
    z += static_cast<char>(~len & 0xFF);
    z += static_cast<char>((~len >> 8) & 0xFF);
    z.append(raw, pos, len);
    pos += len;
  } while (pos < raw.size());
  std::uint32_t a = 1, b = 0;
  for (char c : raw) {
    a = (a + static_cast<std::uint8_t>(c)) % 65521u;
    b = (b + a) % 65521u;
  }
  put_u32(z, (b << 16) | a);

  std::string out = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put_u32(ihdr, static_cast<std::uint32_t>(img.width));
  put_u32(ihdr, static_cast<std::uint32_t>(img.height));
  ihdr += static_cast<char>(8);                        // bit depth
  ihdr += static_cast<char>(img.channels == 3 ? 2 : 0);  // colour type: RGB or grey
  ihdr += std::string(3, '\0');                        // compression, filter, interlace
  put_chunk(out, "IHDR", ihdr);
  put_chunk(out, "IDAT", z);
  put_chunk(out, "IEND", std::string());
  return out;
}
}  // namespace

std::string encode_png(const Image& img) {
  img.check();
  if (img.empty()) throw DataError("report image: cannot encode an empty image as PNG");
#if TAUPE_REPORT_OPENCV
  cv::Mat m(img.height, img.width, img.channels == 3 ? CV_8UC3 : CV_8UC1);
  const std::size_t row = static_cast<std::size_t>(img.width) * img.channels;
  for (int y = 0; y < img.height; ++y) {
    auto* dst = m.ptr<std::uint8_t>(y);
    const auto* src = img.pixels.data() + y * row;
    if (img.channels == 3) {
      for (int x = 0; x < img.width; ++x) {  // RGB → OpenCV's BGR
        dst[3 * x + 0] = src[3 * x + 2];
        dst[3 * x + 1] = src[3 * x + 1];
        dst[3 * x + 2] = src[3 * x + 0];
      }
    } else {
      std::copy(src, src + row, dst);
    }
  }
  std::vector<uchar> buf;
  if (!cv::imencode(".png", m, buf, {cv::IMWRITE_PNG_COMPRESSION, 6}))
    throw DataError("report image: cv::imencode failed for a " + std::to_string(img.width) + "x" +
                    std::to_string(img.height) + " image");
  return std::string(buf.begin(), buf.end());
#else
  return encode_png_builtin(img);
#endif
}

const char* png_encoder_name() { return TAUPE_REPORT_OPENCV ? "opencv" : "builtin"; }

std::string base64_encode(const std::string& bytes) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t v = (static_cast<std::uint8_t>(bytes[i]) << 16) |
                            (static_cast<std::uint8_t>(bytes[i + 1]) << 8) | static_cast<std::uint8_t>(bytes[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = static_cast<std::uint8_t>(bytes[i]) << 16;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (static_cast<std::uint8_t>(bytes[i]) << 16) | (static_cast<std::uint8_t>(bytes[i + 1]) << 8);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string png_data_uri(const Image& img) { return "data:image/png;base64," + base64_encode(encode_png(img)); }

}  // namespace taupe::report
