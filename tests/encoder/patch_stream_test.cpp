// Streaming pipeline (bounded memory): a patch set larger than the budget is read in windows.
// Each epoch is still a permutation; every window is a set of whole storage blocks; batches
// are the same for any thread count, after a restart, and from the file or from memory; a
// window at least the set's size is exactly the in-memory pipeline.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "support/fixtures.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/patches.h"
#include "taupe/encoder/encoder_config.h"
#include "taupe/encoder/patch_pipeline.h"

namespace taupe {
namespace {

constexpr std::int64_t kPix = PatchImages::kPixelsPerImage;

std::shared_ptr<PatchImages> numbered_patches(std::int64_t n) {
  auto p = std::make_shared<PatchImages>();
  p->n = n;
  p->pixels.resize(static_cast<std::size_t>(n * kPix));
  for (std::size_t i = 0; i < p->pixels.size(); ++i)
    p->pixels[i] = static_cast<std::uint16_t>((i * 2654435761u + i / 8192 * 977) % 60000);
  return p;
}

PatchPipelineOptions windowed(std::int64_t window) {
  PatchPipelineOptions o;
  o.batch_size = 8;
  o.seed = 5;
  o.window = window;
  return o;
}

TEST(PatchStream, EveryEpochIsAPermutationAndEveryWindowIsWholeBlocks) {
  auto imgs = numbered_patches(96);
  PatchPipeline p(memory_patch_source(imgs, 4), windowed(32));  // 3 windows of 4 batches
  ASSERT_TRUE(p.streaming());
  ASSERT_EQ(p.batches_per_epoch(), 12);
  std::vector<std::int64_t> first_epoch;
  for (int e = 0; e < 2; ++e) {
    std::set<std::int64_t> seen;
    for (int w = 0; w < 3; ++w) {
      std::set<std::int64_t> blocks, in_window;
      for (int b = 0; b < 4; ++b) {
        const ImageBatch batch = p.next();
        EXPECT_EQ(batch.epoch, e);
        for (std::int64_t i : batch.patch_index) {
          in_window.insert(i);
          blocks.insert(i / 4);
          if (e == 0) first_epoch.push_back(i);
        }
      }
      EXPECT_EQ(in_window.size(), 32u);
      EXPECT_EQ(blocks.size(), 8u) << "a window of 32 patches is 8 whole blocks of 4";
      seen.insert(in_window.begin(), in_window.end());
    }
    EXPECT_EQ(seen.size(), 96u);
  }
  // Shuffled within windows too: the window's order is not the blocks' order.
  int in_block_order = 0;
  for (std::size_t k = 1; k < first_epoch.size(); ++k) in_block_order += first_epoch[k] == first_epoch[k - 1] + 1;
  EXPECT_LT(in_block_order, 20);
}

TEST(PatchStream, SameBatchesForAnyThreadCountAndAfterARestart) {
  auto imgs = numbered_patches(100);  // windows of 24: the last one is short
  PatchPipelineOptions o = windowed(24);
  o.threads = 1;
  PatchPipeline one(memory_patch_source(imgs, 4), o);
  o.threads = 3;
  o.prefetch = 5;
  PatchPipeline three(memory_patch_source(imgs, 4), o);
  ASSERT_EQ(one.batches_per_epoch(), 12);
  std::vector<ImageBatch> seq;
  for (int i = 0; i < 30; ++i) {  // two epoch boundaries, many window boundaries
    ImageBatch a = one.next(), b = three.next();
    EXPECT_EQ(a.patch_index, b.patch_index);
    EXPECT_EQ(a.images, b.images);
    seq.push_back(std::move(a));
  }
  three.start(1, 4);  // resume in the middle of a window
  for (int i = 16; i < 30; ++i) EXPECT_EQ(three.next().images, seq[static_cast<std::size_t>(i)].images);
  one.start(0, 3);
  EXPECT_EQ(one.next().patch_index, seq[3].patch_index);
  EXPECT_EQ(one.make_batch(2, 1).images, seq[25].images);
}

TEST(PatchStream, WindowsReadFromTheFileEqualWindowsFromMemory) {
  test::TempDir dir;
  const auto path = dir / "patches.h5";
  auto imgs = numbered_patches(80);
  {
    PatchWriter w(path);
    PatchBatch b;
    b.images = imgs->pixels;
    b.types.assign(80, CellType::kScrib);
    w.append(b);
    w.close();
  }
  const auto file = open_patch_source(path);
  EXPECT_EQ(file->size(), 80);
  EXPECT_EQ(file->block(), 16) << "taupe writes 16 patches per chunk";
  PatchPipeline from_file(file, windowed(32)), from_memory(memory_patch_source(imgs, 16), windowed(32));
  for (int i = 0; i < 15; ++i) {
    const ImageBatch a = from_file.next(), b = from_memory.next();
    EXPECT_EQ(a.patch_index, b.patch_index);
    EXPECT_EQ(a.images, b.images);
  }
  const std::vector<std::uint16_t> first = from_file.patches(0, 2);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), imgs->pixels.begin()));
  EXPECT_EQ(open_patch_source(path, 50)->size(), 50);  // encoder.max_patches
}

TEST(PatchStream, AWindowAsLargeAsTheSetIsTheInMemoryPipeline) {
  auto imgs = numbered_patches(40);
  PatchPipelineOptions o = windowed(0);
  PatchPipeline memory(imgs, o);
  o.window = 64;
  PatchPipeline large(memory_patch_source(imgs, 4), o);
  EXPECT_FALSE(large.streaming());
  for (int i = 0; i < 8; ++i) EXPECT_EQ(memory.next().images, large.next().images);
  o.window = 5;  // less than one batch of 8
  EXPECT_THROW(PatchPipeline(memory_patch_source(imgs, 4), o), ConfigError);
}

TEST(PatchStream, TheMemoryBudgetSetsTheWindow) {
  EncoderConfig c;
  c.batch_size = 256;
  c.patch_memory_mb = 1024;  // two windows of 512 MiB = 32,768 patches of 16 KiB
  EXPECT_EQ(c.patch_window(), 32768);
  EXPECT_EQ(c.patch_window(65536), 0) << "exactly the budget: held whole";
  EXPECT_EQ(c.patch_window(65537), 32768);
  c.patch_memory_mb = 0;
  EXPECT_EQ(c.patch_window(1000000), 0);
  c.patch_memory_mb = 7;  // 224 patches per window < one batch
  EXPECT_THROW(c.validate(), ConfigError);
  c.patch_memory_mb = 8;
  EXPECT_NO_THROW(c.validate());
}

}  // namespace
}  // namespace taupe
