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
//
// Bounded memory: a patch set larger than the memory budget is streamed in windows. The epoch's
// order is then a two-level shuffle: the set's storage blocks (a chunk of the file, 16 patches
// for taupe's own) are permuted, the permuted sequence is cut into windows of `window` patches
// (a multiple of the batch size), and each window's patches are permuted again. Only two windows
// are resident: the one the trainer reads and the next, loaded in the background. The order is
// still a pure function of (seed, epoch), so the determinism rules above hold unchanged.
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

/// Random access to patch pixels for a streaming pipeline.
class PatchSource {
 public:
  virtual ~PatchSource() = default;
  virtual std::int64_t size() const = 0;
  /// Patches that are cheapest read together (a storage chunk); >= 1.
  virtual std::int64_t block() const = 0;
  /// Pixels of patches [first, first + count) into out, (count, 2, 64, 64). Thread-safe.
  virtual void read(std::int64_t first, std::int64_t count, std::uint16_t* out) const = 0;
};
/// The first min(size, max_patches) patches (0 = all) of a patch container, read on demand.
std::shared_ptr<const PatchSource> open_patch_source(const std::filesystem::path& patches, std::int64_t max_patches = 0);
/// Patches already in memory, presented as blocks of `block` patches.
std::shared_ptr<const PatchSource> memory_patch_source(std::shared_ptr<const PatchImages> images, std::int64_t block);

struct PatchPipelineOptions {
  int batch_size = 256;
  bool shuffle = true;
  bool augment_flips = true;
  bool augment_rot90 = true;
  double clip = EncoderConfig{}.normalization_clip;
  int threads = 1;                 ///< worker threads
  int prefetch = 4;                ///< batches prepared ahead
  std::uint64_t seed = 0;
  /// Patches per streaming window (rounded down to whole batches); 0 = hold the whole set and
  /// shuffle it globally. A window at least the set's size is the same as 0.
  std::int64_t window = 0;
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
  /// Streams from `source` in windows of opts.window patches; with opts.window 0 (or >= the
  /// source's size) it loads every patch first and behaves as the in-memory pipeline.
  PatchPipeline(std::shared_ptr<const PatchSource> source, const PatchPipelineOptions& opts);
  ~PatchPipeline();
  PatchPipeline(const PatchPipeline&) = delete;
  PatchPipeline& operator=(const PatchPipeline&) = delete;

  std::int64_t batches_per_epoch() const;
  std::int64_t size() const;       ///< patches in the set
  bool streaming() const;          ///< windows (true) or the whole set in memory
  /// Pixels of patches [first, first + count) in file order, (count, 2, 64, 64).
  std::vector<std::uint16_t> patches(std::int64_t first, std::int64_t count) const;
  /// (Re)starts the stream at batch `batch` of epoch `epoch`; stops the workers first.
  void start(std::int64_t epoch, std::int64_t batch);
  /// Next batch in order (epochs roll over). Rethrows a worker's exception.
  ImageBatch next();
  /// Builds batch (epoch, index) synchronously (the same bytes next() would give).
  ImageBatch make_batch(std::int64_t epoch, std::int64_t index) const;

 private:
  PatchPipeline(std::shared_ptr<const PatchSource> source, const PatchPipelineOptions& opts,
                std::shared_ptr<const PatchImages> resident);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
