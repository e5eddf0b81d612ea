// Raster images: base64 vectors, PNG structure (and pixels for the built-in encoder).
#include <gtest/gtest.h>

#include <cmath>

#include <cstring>

#include "taupe/core/errors.h"
#include "taupe/report/image.h"

namespace taupe::report {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

std::uint32_t be32(const std::string& s, std::size_t p) {
  return (std::uint32_t(std::uint8_t(s[p])) << 24) | (std::uint32_t(std::uint8_t(s[p + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[p + 2])) << 8) | std::uint32_t(std::uint8_t(s[p + 3]));
}

Image gradient(int w, int h, int channels) {
  Image img{w, h, channels, {}};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) img.pixels.push_back(static_cast<std::uint8_t>((x * 7 + y * 13 + c * 50) & 0xFF));
  return img;
}

TEST(Png, SignatureHeaderAndDeterminism) {
  for (int channels : {1, 3}) {
    const Image img = gradient(37, 11, channels);
    const std::string png = encode_png(img);
    ASSERT_GT(png.size(), 33u);
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    EXPECT_EQ(png.substr(12, 4), "IHDR");
    EXPECT_EQ(be32(png, 16), 37u);
    EXPECT_EQ(be32(png, 20), 11u);
    EXPECT_EQ(static_cast<int>(png[24]), 8);                        // bit depth
    EXPECT_EQ(static_cast<int>(png[25]), channels == 3 ? 2 : 0);    // colour type
    EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
    EXPECT_EQ(encode_png(img), png);
  }
}

TEST(Png, BuiltinEncoderStoresExactPixels) {
  if (std::string(png_encoder_name()) != "builtin") GTEST_SKIP() << "PNG encoder is " << png_encoder_name();
  // With stored deflate blocks the IDAT payload is: zlib header, [BFINAL/LEN/NLEN, raw]..., adler.
  const Image img = gradient(300, 120, 3);  // > 65535 raw bytes: several stored blocks
  const std::string png = encode_png(img);
  std::string idat;
  for (std::size_t p = 8; p + 8 <= png.size();) {
    const std::uint32_t len = be32(png, p);
    if (png.substr(p + 4, 4) == "IDAT") idat += png.substr(p + 8, len);
    p += 12 + len;
  }
  std::string raw;
  std::size_t p = 2;
  for (;;) {
    const bool last = idat[p] & 1;
    const std::size_t len = std::uint8_t(idat[p + 1]) | (std::uint8_t(idat[p + 2]) << 8);
    const std::size_t nlen = std::uint8_t(idat[p + 3]) | (std::uint8_t(idat[p + 4]) << 8);
    ASSERT_EQ(len ^ 0xFFFF, nlen);
    raw += idat.substr(p + 5, len);
    p += 5 + len;
    if (last) break;
  }
  ASSERT_EQ(raw.size(), (300u * 3 + 1) * 120u);
  for (int y = 0; y < 120; ++y) {
    EXPECT_EQ(raw[y * 901], '\0');
    ASSERT_EQ(std::memcmp(raw.data() + y * 901 + 1, img.pixels.data() + y * 900, 900), 0) << "row " << y;
  }
}

TEST(Png, InvalidImagesThrow) {
  Image bad{4, 4, 3, std::vector<std::uint8_t>(10)};
  EXPECT_THROW(encode_png(bad), DataError);
  Image two{1, 1, 2, {0, 0}};
  EXPECT_THROW(encode_png(two), DataError);
  EXPECT_THROW(encode_png(Image{}), DataError);
}

TEST(ImageHelpers, FloatMappingAndDataUri) {
  const float v[4] = {-1.f, 0.f, 0.5f, 2.f};
  const Image g = grey_from_float(v, 2, 2, 0.f, 1.f);
  EXPECT_EQ(g.pixels, (std::vector<std::uint8_t>{0, 0, 128, 255}));
  const Image c = composite_from_float(v, nullptr, 2, 2);
  EXPECT_EQ(c.pixels[3 * 2 + 1], 128);  // green carries channel a
  EXPECT_EQ(c.pixels[3 * 2 + 0], 0);
  EXPECT_EQ(png_data_uri(g).rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);
}

}  // namespace
}  // namespace taupe::report
