#pragma once
// Threaded data pipeline for encoder training: shuffles the patches each epoch, applies the
// reference augmentation (LR flip p 0.5, UD flip p 0.5, rot90 k ∈ {0, 1, 2}) and the
// per-channel standardisation, and hands out ready float batches while the trainer runs.
//
// Determinism with threads: everything random is a pure function of (seed, epoch, position):
// the epoch's permutation comes from Rng(derive_seed(seed, epoch)), the augmentation of the
// sample at position p of epoch e from Rng(derive_seed(seed ^ aug, e·2^32 + p)). Workers only do
// the pixel work for batch indices they claim; next() returns batches strictly in index order.
// So the batches are byte-identical for any number of threads, and a resumed run that starts
// at (epoch, batch) sees exactly the batches the uninterrupted run would have seen.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "taupe/dataset/types.h"
#include "taupe/encoder/encoder_config.h"

namespace taupe {

/// Patches held in memory as uint16 (n, 2, 64, 64) (quick preset ~30k patches = 0.5 GB).
struct PatchImages {
  std::int64_t n = 0;
  std::vector<std::uint16_t> pixels;   ///< (n, 2, 64, 64)
  static constexpr std::int64_t kPixelsPerImage = kGlimpseChannels * kGlimpseSize * kGlimpseSize;
  const std::uint16_t* image(std::int64_t i) const { return pixels.data() + i * kPixelsPerImage; }
};
/// Reads the first min(size, max_patches) patches (max_patches 0 = all) of a patch container.
PatchImages load_patch_images(const std::filesystem::path& patches, std::int64_t max_patches = 0);

struct PatchPipelineOptions {
  int batch_size = 256;
  bool shuffle = true;
  bool augment_flips = true;
  bool augment_rot90 = true;
  double clip = EncoderConfig{}.normalization_clip;
  int threads = 1;                 ///< worker threads
  int prefetch = 4;                ///< batches prepared ahead
  std::uint64_t seed = 0;
};

struct ImageBatch {
  std::int64_t epoch = 0;
  std::int64_t index = 0;          ///< batch index within the epoch
  int size = 0;                    ///< B
  std::vector<float> images;       ///< (B, 2, 64, 64) standardised, augmented
  std::vector<std::int64_t> patch_index;   ///< (B,) source patch of each image
};

class PatchPipeline {
 public:
  /// Batches per epoch = n / batch_size (the last partial batch is dropped, as the reference's
  /// steps_per_epoch = num_images // batch_size). Throws DataError if n < batch_size.
  PatchPipeline(std::shared_ptr<const PatchImages> images, const PatchPipelineOptions& opts);
  ~PatchPipeline();
  PatchPipeline(const PatchPipeline&) = delete;
  PatchPipeline& operator=(const PatchPipeline&) = delete;

  std::int64_t batches_per_epoch() const;
  /// (Re)starts the stream at batch `batch` of epoch `epoch`; stops the workers first.
  void start(std::int64_t epoch, std::int64_t batch);
  /// Next batch in order (epochs roll over). Rethrows a worker's exception.
  ImageBatch next();
  /// Builds batch (epoch, index) synchronously (the same bytes next() would give).
  ImageBatch make_batch(std::int64_t epoch, std::int64_t index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
