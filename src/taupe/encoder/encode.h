#pragma once
// Encoding with a trained β-VAE (torch-free header; pimpl):
//  - every glimpse frame encoded once (z_mean, z_log_var) and stored as a taupe.encodings
//    file, which everything downstream reads instead of re-encoding;
//  - all patches encoded for the projector (z_mean, in inference mode);
//  - an API for the perturbation engine: encode arbitrary (N, 2, 64, 64) uint16 / float images
//    and decode latents back to images.
// Encoding is deterministic: BatchNorm in inference mode, z_mean / z_log_var only (no sampling),
// images standardised with normalize.h. Results do not depend on the batch size (beyond float
// summation order inside the convolution kernels).
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "taupe/dataset/encodings.h"
#include "taupe/dataset/types.h"
#include "taupe/encoder/encoder_config.h"

namespace taupe {

class Encoder;   // vae.h (torch)
class Decoder;

struct EncodedBatch {
  std::int64_t n = 0;
  int dims = 0;                      ///< D
  std::vector<float> z_mean;         ///< (n, D)
  std::vector<float> z_log_var;      ///< (n, D)
};

/// Raw uint16 images (n, 2, 64, 64) -> standardised (clip) -> encoder (inference mode).
EncodedBatch encode_images(const Encoder& enc, const std::uint16_t* images, std::int64_t n,
                           double clip = EncoderConfig{}.normalization_clip, int batch_size = EncoderConfig{}.encode_batch_size);
/// Float images (n, 2, 64, 64); `normalized` = already standardised (else standardised here).
EncodedBatch encode_images(const Encoder& enc, const float* images, std::int64_t n, bool normalized,
                           double clip = EncoderConfig{}.normalization_clip, int batch_size = EncoderConfig{}.encode_batch_size);
/// Latents (n, D) -> decoded images (n, 2, 64, 64) in standardised units.
std::vector<float> decode_latents(const Decoder& dec, const float* z, std::int64_t n, int dims,
                                  int batch_size = 512);

/// A trained encoder + decoder and the config they were built with.
class VaeModel {
 public:
  /// Reads <model_dir>/manifest.json ("encoder" section), encoder.pt and decoder.pt; checks
  /// format version and tensor shapes; throws ModelError naming the file and what is wrong.
  static VaeModel load(const std::filesystem::path& model_dir);
  /// Freshly initialised (untrained) model; torch::manual_seed(cfg.seed) first.
  explicit VaeModel(const EncoderConfig& cfg);
  ~VaeModel();
  VaeModel(VaeModel&&) noexcept;
  VaeModel& operator=(VaeModel&&) noexcept;

  const EncoderConfig& config() const;
  int latent_dims() const;
  /// Encodes images (n, 2, 64, 64) in batches of `batch_size` (0 = encoder.encode_batch_size)
  /// with BatchNorm folded into the convolutions (the same function as the module in eval mode;
  /// the folded weights are made at the first call). Safe to call from several threads.
  EncodedBatch encode(const std::uint16_t* images, std::int64_t n, int batch_size = 0) const;
  EncodedBatch encode(const float* images, std::int64_t n, bool normalized, int batch_size = 0) const;
  std::vector<float> decode(const float* z, std::int64_t n) const;   ///< (n, D) -> (n, 2, 64, 64)
  /// The module itself; taking it drops the folded inference weights (they are made again from
  /// the module at the next encode, so changes made through it are seen).
  Encoder& encoder() const;
  Decoder& decoder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct EncodeGlimpsesOptions {
  /// Quarter turns (counter-clockwise) applied to every trajectory before encoding; one
  /// EncodedTrajectory per (trajectory, rotation). Rotations are absolute, not cumulative
  /// (reference ambiguity 9 fixed).
  std::vector<int> rotations = {0};
  int batch_size = 512;
  /// Trajectories encoded at once, each on its own thread with one intra-op thread
  /// (0 = the intra-op thread count). Small convolutions scale better this way than with
  /// intra-op threads; the output is the same for any value.
  int workers = 0;
};
/// Encodes every frame of every trajectory of a glimpse file and writes taupe.encodings
/// (atomic) to `out` unless it is empty. Each encoding keeps its trajectory's (movie, track id).
/// Returns the set.
EncodingSet encode_glimpse_file(const VaeModel& model, const std::filesystem::path& glimpses,
                                const std::filesystem::path& out, const EncodeGlimpsesOptions& opts = {});

/// Every patch of a patch container encoded (inference mode), with its labels.
struct PatchEncodings {
  EncodedBatch enc;
  std::vector<CellType> types;                          ///< (n,)
  std::map<std::string, std::vector<float>> features;   ///< each (n,)
};
PatchEncodings encode_patch_file(const VaeModel& model, const std::filesystem::path& patches,
                                 std::int64_t max_patches = 0, int batch_size = 512);

}  // namespace taupe
