// Data pipeline: deterministic for any number of threads, resumable at (epoch, batch), each
// epoch a permutation, every output a normalised dihedral transform of its source.
#include <gtest/gtest.h>

#include <set>

#include "taupe/core/errors.h"
#include "taupe/encoder/normalize.h"
#include "taupe/encoder/patch_pipeline.h"

namespace taupe {
namespace {

std::shared_ptr<PatchImages> fake_patches(std::int64_t n) {
  auto p = std::make_shared<PatchImages>();
  p->n = n;
  p->pixels.resize(static_cast<std::size_t>(n * PatchImages::kPixelsPerImage));
  for (std::size_t i = 0; i < p->pixels.size(); ++i)
    p->pixels[i] = static_cast<std::uint16_t>((i * 2654435761u + i / 8192 * 977) % 60000);
  return p;
}

TEST(PatchPipeline, SameBatchesForAnyThreadCountAndAfterRestart) {
  auto imgs = fake_patches(50);
  PatchPipelineOptions o;
  o.batch_size = 8;
  o.seed = 42;
  o.threads = 1;
  PatchPipeline one(imgs, o);
  o.threads = 3;
  o.prefetch = 2;
  PatchPipeline three(imgs, o);
  EXPECT_EQ(one.batches_per_epoch(), 6);
  std::vector<ImageBatch> seq;
  for (int i = 0; i < 14; ++i) {   // crosses two epoch boundaries
    ImageBatch a = one.next(), b = three.next();
    EXPECT_EQ(a.epoch, i / 6);
    EXPECT_EQ(a.index, i % 6);
    EXPECT_EQ(a.images, b.images);
    EXPECT_EQ(a.patch_index, b.patch_index);
    seq.push_back(std::move(a));
  }
  three.start(1, 4);   // resume in the middle of epoch 1
  for (int i = 10; i < 14; ++i) EXPECT_EQ(three.next().images, seq[i].images);
  EXPECT_EQ(one.make_batch(0, 3).images, seq[3].images);
}

TEST(PatchPipeline, EpochIsAPermutationAndSeedsDiffer) {
  auto imgs = fake_patches(40);
  PatchPipelineOptions o;
  o.batch_size = 10;
  o.seed = 1;
  PatchPipeline p(imgs, o);
  std::set<std::int64_t> seen;
  std::vector<std::int64_t> order;
  for (int b = 0; b < 4; ++b)
    for (auto i : p.next().patch_index) { seen.insert(i); order.push_back(i); }
  EXPECT_EQ(seen.size(), 40u);
  std::vector<std::int64_t> order2;
  for (int b = 0; b < 4; ++b) for (auto i : p.next().patch_index) order2.push_back(i);
  EXPECT_NE(order, order2);   // reshuffled every epoch
  o.seed = 2;
  EXPECT_NE(PatchPipeline(imgs, o).make_batch(0, 0).patch_index, p.make_batch(0, 0).patch_index);
}

TEST(PatchPipeline, OutputsAreNormalisedDihedralTransformsWithRot90BelowThree) {
  auto imgs = fake_patches(64);
  PatchPipelineOptions o;
  o.batch_size = 64;
  o.seed = 3;
  PatchPipeline p(imgs, o);
  constexpr std::int64_t kPix = PatchImages::kPixelsPerImage;
  int unchanged = 0;
  std::set<int> elements;   // first matching (lr, ud, r): one per dihedral group element
  for (int e = 0; e < 4; ++e) {
    const ImageBatch b = p.make_batch(e, 0);
    for (int k = 0; k < b.size; ++k) {
      std::vector<float> base(kPix), t(kPix), t2(kPix);
      normalize_images(imgs->image(b.patch_index[k]), base.data(), 1, 2, 4096);
      const float* got = b.images.data() + k * kPix;
      bool found = false;
      for (int lr = 0; lr < 2 && !found; ++lr)
        for (int ud = 0; ud < 2 && !found; ++ud)
          for (int r = 0; r < 3 && !found; ++r) {
            t = base;
            if (lr) { flip_left_right(t.data(), t2.data(), 2, 64); t.swap(t2); }
            if (ud) { flip_up_down(t.data(), t2.data(), 2, 64); t.swap(t2); }
            rot90(t.data(), t2.data(), 2, 64, r);
            if (std::equal(t2.begin(), t2.end(), got)) {
              found = true;
              if (!lr && !ud && r == 0) ++unchanged;
              elements.insert(lr * 100 + ud * 10 + r);
            }
          }
      EXPECT_TRUE(found) << "epoch " << e << " item " << k;
    }
  }
  // Identity: (no flip, k 0) or (LR, UD, k 2) -> p 2/12 of 256 draws (~43); every one of the 8
  // orientations occurs (k in {0, 1, 2} with both flips reaches all of them).
  EXPECT_GT(unchanged, 15);
  EXPECT_EQ(elements.size(), 8u);
  o.augment_flips = o.augment_rot90 = false;
  PatchPipeline plain(imgs, o);
  const ImageBatch b = plain.make_batch(0, 0);
  std::vector<float> base(kPix);
  normalize_images(imgs->image(b.patch_index[0]), base.data(), 1, 2, 4096);
  EXPECT_TRUE(std::equal(base.begin(), base.end(), b.images.begin()));
}

TEST(PatchPipeline, TooFewPatchesForOneBatchIsADataError) {
  PatchPipelineOptions o;
  o.batch_size = 256;
  EXPECT_THROW(PatchPipeline(fake_patches(10), o), DataError);
}

}  // namespace
}  // namespace taupe
