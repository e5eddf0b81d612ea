#pragma once
// Per-image, per-channel standardisation shared by everything that feeds images to the
// encoder (training, projector, encoding, perturbation): for each image and channel,
//   y = clip((x - mean) / max(std, 1/sqrt(N)), -clip, clip),   N = H·W, std = population (ddof 0)
// as tf.image.per_image_standardization + clip (reference §3). Statistics in double.
//
// Orientation (reference ambiguity 8): images are (C, H, W) row-major everywhere in taupe —
// patches and glimpses are cut by the same extractor in the same orientation — so no axis
// swap is applied anywhere; pixel (r, c) of a glimpse is pixel (r, c) of the encoder input.
// Augmentation helpers below act on (C, S, S) float images.
#include <cstdint>

#include "taupe/encoder/encoder_config.h"

namespace taupe {


/// Standardises `n` images (n, channels, pixels) in place.
void normalize_images(float* images, std::int64_t n, int channels, int pixels,
                      double clip = EncoderConfig{}.normalization_clip);
/// uint16 (n, channels, pixels) -> float (n, channels, pixels), standardised.
void normalize_images(const std::uint16_t* in, float* out, std::int64_t n, int channels, int pixels,
                      double clip = EncoderConfig{}.normalization_clip);

/// One (C, S, S) image, out-of-place (in != out): left-right flip (reverse columns).
void flip_left_right(const float* in, float* out, int channels, int size);
/// Up-down flip (reverse rows).
void flip_up_down(const float* in, float* out, int channels, int size);
/// k counter-clockwise quarter turns as numpy.rot90 / tf.image.rot90:
/// out[c][i][j] = in[c][j][S-1-i] for k = 1.
void rot90(const float* in, float* out, int channels, int size, int k);

}  // namespace taupe
