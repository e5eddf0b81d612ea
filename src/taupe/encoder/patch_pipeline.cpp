// Threaded, deterministic patch pipeline (see patch_pipeline.h for the determinism rule).
#include "taupe/encoder/patch_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "taupe/core/errors.h"
#include "taupe/core/rng.h"
#include "taupe/encoder/normalize.h"

namespace taupe {

namespace {
constexpr std::uint64_t kAugStream = 0xA06u;

std::vector<std::int64_t> epoch_permutation(std::int64_t n, std::uint64_t seed, std::int64_t epoch, bool shuffle) {
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
  if (!shuffle) return perm;
  Rng rng(derive_seed(seed, static_cast<std::uint64_t>(epoch)));
  for (std::int64_t i = n - 1; i > 0; --i) std::swap(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(rng.integer(0, i))]);
  return perm;
}
}  // namespace

struct PatchPipeline::Impl {
  std::shared_ptr<const PatchImages> images;
  PatchPipelineOptions opts;
  std::int64_t per_epoch = 0;

  // Cached permutation of one epoch (workers may span two epochs).
  mutable std::mutex perm_mu;
  mutable std::map<std::int64_t, std::shared_ptr<const std::vector<std::int64_t>>> perms;

  // Stream state.
  std::mutex mu;
  std::condition_variable cv_work, cv_done;
  std::vector<std::thread> workers;
  bool stop = false;
  std::int64_t start_global = 0;      // global batch index = epoch * per_epoch + index
  std::int64_t next_claim = 0;        // next global index a worker will build
  std::int64_t next_out = 0;          // next global index next() returns
  std::map<std::int64_t, ImageBatch> ready;
  std::exception_ptr error;

  std::shared_ptr<const std::vector<std::int64_t>> permutation(std::int64_t epoch) const {
    std::lock_guard<std::mutex> lk(perm_mu);
    auto it = perms.find(epoch);
    if (it != perms.end()) return it->second;
    auto p = std::make_shared<const std::vector<std::int64_t>>(epoch_permutation(images->n, opts.seed, epoch, opts.shuffle));
    perms[epoch] = p;
    while (perms.size() > 3) perms.erase(perms.begin());
    return p;
  }

  ImageBatch build(std::int64_t epoch, std::int64_t index) const {
    const auto perm = permutation(epoch);
    const int b = opts.batch_size;
    constexpr int kC = kGlimpseChannels, kS = kGlimpseSize;
    constexpr std::int64_t kPix = PatchImages::kPixelsPerImage;
    ImageBatch out;
    out.epoch = epoch;
    out.index = index;
    out.size = b;
    out.images.resize(static_cast<std::size_t>(b * kPix));
    out.patch_index.resize(static_cast<std::size_t>(b));
    std::vector<float> tmp(kPix), tmp2(kPix);
    for (int k = 0; k < b; ++k) {
      const std::int64_t pos = index * b + k;
      const std::int64_t src = (*perm)[static_cast<std::size_t>(pos)];
      out.patch_index[static_cast<std::size_t>(k)] = src;
      float* dst = out.images.data() + k * kPix;
      normalize_images(images->image(src), tmp.data(), 1, kC, kS * kS, opts.clip);
      Rng rng(derive_seed(opts.seed ^ kAugStream, (static_cast<std::uint64_t>(epoch) << 32) + static_cast<std::uint64_t>(pos)));
      const bool lr = rng.bernoulli(0.5), ud = rng.bernoulli(0.5);
      const int rot = static_cast<int>(rng.integer(0, 2));
      float* cur = tmp.data();
      float* other = tmp2.data();
      if (opts.augment_flips && lr) { flip_left_right(cur, other, kC, kS); std::swap(cur, other); }
      if (opts.augment_flips && ud) { flip_up_down(cur, other, kC, kS); std::swap(cur, other); }
      if (opts.augment_rot90 && rot != 0) { rot90(cur, other, kC, kS, rot); std::swap(cur, other); }
      std::copy_n(cur, kPix, dst);
    }
    return out;
  }

  void worker_loop() {
    for (;;) {
      std::int64_t g;
      {
        std::unique_lock<std::mutex> lk(mu);
        cv_work.wait(lk, [&] { return stop || next_claim < next_out + opts.prefetch; });
        if (stop) return;
        g = next_claim++;
      }
      try {
        ImageBatch b = build(g / per_epoch, g % per_epoch);
        std::lock_guard<std::mutex> lk(mu);
        ready.emplace(g, std::move(b));
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu);
        if (!error) error = std::current_exception();
      }
      cv_done.notify_all();
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop = true;
    }
    cv_work.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }
};

PatchPipeline::PatchPipeline(std::shared_ptr<const PatchImages> images, const PatchPipelineOptions& opts)
    : impl_(std::make_unique<Impl>()) {
  impl_->images = std::move(images);
  impl_->opts = opts;
  if (opts.batch_size <= 0) throw ConfigError("encoder.batch_size = " + std::to_string(opts.batch_size) + ": must be > 0");
  if (impl_->images->n < opts.batch_size)
    throw DataError("patch set has " + std::to_string(impl_->images->n) + " patches, fewer than one batch of " +
                    std::to_string(opts.batch_size) + " (lower encoder.batch_size)");
  impl_->per_epoch = impl_->images->n / opts.batch_size;
}

PatchPipeline::~PatchPipeline() { impl_->stop_workers(); }

std::int64_t PatchPipeline::batches_per_epoch() const { return impl_->per_epoch; }

void PatchPipeline::start(std::int64_t epoch, std::int64_t batch) {
  impl_->stop_workers();
  impl_->stop = false;
  impl_->ready.clear();
  impl_->error = nullptr;
  impl_->start_global = epoch * impl_->per_epoch + batch;
  impl_->next_claim = impl_->next_out = impl_->start_global;
  for (int i = 0; i < std::max(1, impl_->opts.threads); ++i) impl_->workers.emplace_back([this] { impl_->worker_loop(); });
}

ImageBatch PatchPipeline::next() {
  if (impl_->workers.empty()) start(0, 0);
  std::unique_lock<std::mutex> lk(impl_->mu);
  impl_->cv_done.wait(lk, [&] { return impl_->error || impl_->ready.count(impl_->next_out) > 0; });
  if (impl_->error) std::rethrow_exception(impl_->error);
  auto it = impl_->ready.find(impl_->next_out);
  ImageBatch b = std::move(it->second);
  impl_->ready.erase(it);
  ++impl_->next_out;
  lk.unlock();
  impl_->cv_work.notify_all();
  return b;
}

ImageBatch PatchPipeline::make_batch(std::int64_t epoch, std::int64_t index) const { return impl_->build(epoch, index); }

}  // namespace taupe
