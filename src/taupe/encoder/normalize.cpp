// Per-image per-channel standardisation + the flip / rot90 augmentation kernels.
#include "taupe/encoder/normalize.h"

#include <algorithm>
#include <cmath>

namespace taupe {
namespace {

template <class T>
void standardize_channel(const T* in, float* out, int pixels, double clip) {
  double sum = 0.0;
  for (int i = 0; i < pixels; ++i) sum += static_cast<double>(in[i]);
  const double mean = sum / pixels;
  double ss = 0.0;
  for (int i = 0; i < pixels; ++i) {
    const double d = static_cast<double>(in[i]) - mean;
    ss += d * d;
  }
  const double sd = std::sqrt(ss / pixels);                    // population std (ddof 0)
  const double denom = std::max(sd, 1.0 / std::sqrt(static_cast<double>(pixels)));
  const double scale = 1.0 / denom;
  for (int i = 0; i < pixels; ++i) {
    const double v = (static_cast<double>(in[i]) - mean) * scale;
    out[i] = static_cast<float>(std::clamp(v, -clip, clip));
  }
}

}  // namespace

void normalize_images(float* images, std::int64_t n, int channels, int pixels, double clip) {
  for (std::int64_t k = 0; k < n * channels; ++k) {
    float* p = images + k * pixels;
    standardize_channel(p, p, pixels, clip);
  }
}

void normalize_images(const std::uint16_t* in, float* out, std::int64_t n, int channels, int pixels, double clip) {
  for (std::int64_t k = 0; k < n * channels; ++k) standardize_channel(in + k * pixels, out + k * pixels, pixels, clip);
}

void flip_left_right(const float* in, float* out, int channels, int size) {
  for (int c = 0; c < channels; ++c)
    for (int r = 0; r < size; ++r) {
      const float* src = in + (static_cast<std::int64_t>(c) * size + r) * size;
      float* dst = out + (static_cast<std::int64_t>(c) * size + r) * size;
      for (int j = 0; j < size; ++j) dst[j] = src[size - 1 - j];
    }
}

void flip_up_down(const float* in, float* out, int channels, int size) {
  for (int c = 0; c < channels; ++c)
    for (int r = 0; r < size; ++r)
      std::copy_n(in + (static_cast<std::int64_t>(c) * size + (size - 1 - r)) * size, size,
                  out + (static_cast<std::int64_t>(c) * size + r) * size);
}

void rot90(const float* in, float* out, int channels, int size, int k) {
  k = ((k % 4) + 4) % 4;
  const std::int64_t plane = static_cast<std::int64_t>(size) * size;
  for (int c = 0; c < channels; ++c) {
    const float* src = in + c * plane;
    float* dst = out + c * plane;
    for (int i = 0; i < size; ++i)
      for (int j = 0; j < size; ++j) {
        float v;
        switch (k) {
          case 0: v = src[i * size + j]; break;
          case 1: v = src[j * size + (size - 1 - i)]; break;                       // CCW 90
          case 2: v = src[(size - 1 - i) * size + (size - 1 - j)]; break;          // 180
          default: v = src[(size - 1 - j) * size + i]; break;                      // CCW 270
        }
        dst[i * size + j] = v;
      }
  }
}

}  // namespace taupe
