// Threaded, deterministic patch pipeline (see patch_pipeline.h for the determinism rule).
#include "taupe/encoder/patch_pipeline.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <sys/mman.h>

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

constexpr std::uint64_t kWindowStream = 0x3D0u;

/// The streaming order of one epoch: `seq` = the source's blocks in a permuted order (patch
/// indices), `local[p]` = where in its window's stretch of `seq` position p reads.
struct WindowedEpoch {
  std::vector<std::int64_t> seq;
  std::vector<std::int64_t> local;
};

WindowedEpoch windowed_epoch(std::int64_t n, std::int64_t block, std::int64_t window, std::uint64_t seed,
                             std::int64_t epoch, bool shuffle) {
  WindowedEpoch e;
  const std::int64_t blocks = (n + block - 1) / block;
  const std::vector<std::int64_t> order = epoch_permutation(blocks, seed, epoch, shuffle);
  e.seq.reserve(static_cast<std::size_t>(n));
  for (std::int64_t b : order)
    for (std::int64_t i = b * block; i < std::min(n, (b + 1) * block); ++i) e.seq.push_back(i);
  e.local.resize(static_cast<std::size_t>(n));
  for (std::int64_t w0 = 0, w = 0; w0 < n; w0 += window, ++w) {
    const std::int64_t len = std::min(window, n - w0);
    const std::vector<std::int64_t> inner = epoch_permutation(
        len, derive_seed(seed ^ kWindowStream, static_cast<std::uint64_t>(epoch)), w, shuffle);
    std::copy(inner.begin(), inner.end(), e.local.begin() + w0);
  }
  return e;
}

/// The pixels of one window, in `seq` order, in memory mapped for it alone: the window's bytes
/// go back to the system when it is released. (From the heap they would stay: taupe tunes
/// malloc never to unmap or trim, core/runtime.h, and windows loaded on other threads land in
/// other arenas, so a released window's space is not reused by the next one.)
class Window {
 public:
  explicit Window(std::size_t values) : bytes_(std::max<std::size_t>(1, values) * sizeof(std::uint16_t)) {
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      throw ResourceError("cannot map " + std::to_string(bytes_ >> 20) +
                          " MiB for a patch window (lower encoder.patch_memory_mb)");
    data_ = static_cast<std::uint16_t*>(p);
  }
  ~Window() { munmap(data_, bytes_); }
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;
  std::uint16_t* data() { return data_; }
  const std::uint16_t* data() const { return data_; }

 private:
  std::size_t bytes_;
  std::uint16_t* data_ = nullptr;
};

/// Streaming state: epoch orders and resident windows, keyed by the global window number
/// epoch * windows_per_epoch + w. Loads run on std::async threads; at most the window in use
/// and the next stay cached (release_before).
class WindowStore {
 public:
  WindowStore(std::shared_ptr<const PatchSource> src, std::int64_t window, std::uint64_t seed, bool shuffle)
      : src_(std::move(src)), n_(src_->size()), window_(window), per_epoch_((n_ + window - 1) / window),
        seed_(seed), shuffle_(shuffle) {}

  std::int64_t window() const { return window_; }
  std::int64_t window_of(std::int64_t epoch, std::int64_t pos) const { return epoch * per_epoch_ + pos / window_; }

  std::shared_ptr<const WindowedEpoch> epoch_order(std::int64_t epoch) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = epochs_.find(epoch);
    if (it != epochs_.end()) return it->second;
    auto e = std::make_shared<const WindowedEpoch>(windowed_epoch(n_, src_->block(), window_, seed_, epoch, shuffle_));
    epochs_[epoch] = e;
    while (epochs_.size() > 3) epochs_.erase(epochs_.begin());
    return e;
  }

  /// The window holding global window number g (loads it if needed; rethrows a load's error).
  std::shared_ptr<const Window> get(std::int64_t g) const { return schedule(g).get(); }
  void prefetch(std::int64_t g) const { schedule(g); }
  /// Forgets windows before g, and with `and_after` those after g + 1 too (a worker still
  /// reading one keeps it alive until done).
  void release_before(std::int64_t g, bool and_after = false) const {
    std::vector<std::shared_future<std::shared_ptr<const Window>>> gone;  // destroyed outside the lock
    std::lock_guard<std::mutex> lk(mu_);
    for (auto it = windows_.begin(); it != windows_.end();) {
      if (it->first < g || (and_after && it->first > g + 1)) {
        gone.push_back(it->second);
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  std::shared_future<std::shared_ptr<const Window>> schedule(std::int64_t g) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = windows_.find(g);
    if (it != windows_.end()) return it->second;
    auto f = std::async(std::launch::async, [this, g] { return load(g); }).share();
    windows_.emplace(g, f);
    return f;
  }

  std::shared_ptr<const Window> load(std::int64_t g) const {
    const std::int64_t epoch = g / per_epoch_, w0 = (g % per_epoch_) * window_;
    const std::int64_t len = std::min(window_, n_ - w0);
    const auto order = epoch_order(epoch);
    constexpr std::int64_t kPix = PatchImages::kPixelsPerImage;
    auto win = std::make_shared<Window>(static_cast<std::size_t>(len * kPix));
    for (std::int64_t k = 0; k < len;) {  // runs of consecutive patch indices, one read each
      const std::int64_t first = order->seq[static_cast<std::size_t>(w0 + k)];
      std::int64_t run = 1;
      while (k + run < len && order->seq[static_cast<std::size_t>(w0 + k + run)] == first + run) ++run;
      src_->read(first, run, win->data() + k * kPix);
      k += run;
    }
    return win;
  }

  std::shared_ptr<const PatchSource> src_;
  std::int64_t n_, window_, per_epoch_;
  std::uint64_t seed_;
  bool shuffle_;
  mutable std::mutex mu_;
  mutable std::map<std::int64_t, std::shared_ptr<const WindowedEpoch>> epochs_;
  mutable std::map<std::int64_t, std::shared_future<std::shared_ptr<const Window>>> windows_;
};
}  // namespace

struct PatchPipeline::Impl {
  std::shared_ptr<const PatchImages> images;   // the whole set in memory, or
  std::unique_ptr<WindowStore> windows;        // streamed in windows
  std::shared_ptr<const PatchSource> source;   // (streaming) where the windows come from
  PatchPipelineOptions opts;
  std::int64_t n = 0;
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
    auto p = std::make_shared<const std::vector<std::int64_t>>(epoch_permutation(n, opts.seed, epoch, opts.shuffle));
    perms[epoch] = p;
    while (perms.size() > 3) perms.erase(perms.begin());
    return p;
  }

  /// Sets src[k] (patch index) and pix[k] (its pixels) for the b positions of batch `index`;
  /// `keep` holds what the pointers point into.
  void locate(std::int64_t epoch, std::int64_t index, int b, std::vector<std::int64_t>& src,
              std::vector<const std::uint16_t*>& pix, std::shared_ptr<const void>& keep) const {
    if (!windows) {
      const auto perm = permutation(epoch);
      for (int k = 0; k < b; ++k) {
        src[static_cast<std::size_t>(k)] = (*perm)[static_cast<std::size_t>(index * b + k)];
        pix[static_cast<std::size_t>(k)] = images->image(src[static_cast<std::size_t>(k)]);
      }
      return;
    }
    const std::int64_t pos0 = index * b, w0 = pos0 / windows->window() * windows->window();
    const auto order = windows->epoch_order(epoch);
    const auto win = windows->get(windows->window_of(epoch, pos0));  // a batch never straddles two windows
    for (int k = 0; k < b; ++k) {
      const std::int64_t local = order->local[static_cast<std::size_t>(pos0 + k)];
      src[static_cast<std::size_t>(k)] = order->seq[static_cast<std::size_t>(w0 + local)];
      pix[static_cast<std::size_t>(k)] = win->data() + local * PatchImages::kPixelsPerImage;
    }
    keep = win;
  }

  ImageBatch build(std::int64_t epoch, std::int64_t index) const {
    const int b = opts.batch_size;
    constexpr int kC = kGlimpseChannels, kS = kGlimpseSize;
    constexpr std::int64_t kPix = PatchImages::kPixelsPerImage;
    ImageBatch out;
    out.epoch = epoch;
    out.index = index;
    out.size = b;
    out.images.resize(static_cast<std::size_t>(b * kPix));
    out.patch_index.resize(static_cast<std::size_t>(b));
    std::vector<const std::uint16_t*> pix(static_cast<std::size_t>(b));
    std::shared_ptr<const void> keep;
    locate(epoch, index, b, out.patch_index, pix, keep);
    std::vector<float> tmp(kPix), tmp2(kPix);
    for (int k = 0; k < b; ++k) {
      const std::int64_t pos = index * b + k;
      float* dst = out.images.data() + k * kPix;
      normalize_images(pix[static_cast<std::size_t>(k)], tmp.data(), 1, kC, kS * kS, opts.clip);
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

namespace {
void check_batch(const PatchPipelineOptions& opts, std::int64_t n) {
  if (opts.batch_size <= 0) throw ConfigError("encoder.batch_size = " + std::to_string(opts.batch_size) + ": must be > 0");
  if (n < opts.batch_size)
    throw DataError("patch set has " + std::to_string(n) + " patches, fewer than one batch of " +
                    std::to_string(opts.batch_size) + " (lower encoder.batch_size)");
}
}  // namespace

PatchPipeline::PatchPipeline(std::shared_ptr<const PatchImages> images, const PatchPipelineOptions& opts)
    : PatchPipeline(memory_patch_source(images, 1), opts, images) {}

PatchPipeline::PatchPipeline(std::shared_ptr<const PatchSource> source, const PatchPipelineOptions& opts)
    : PatchPipeline(std::move(source), opts, nullptr) {}

PatchPipeline::PatchPipeline(std::shared_ptr<const PatchSource> source, const PatchPipelineOptions& opts,
                             std::shared_ptr<const PatchImages> resident)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.opts = opts;
  m.n = source->size();
  check_batch(opts, m.n);
  m.per_epoch = m.n / opts.batch_size;
  const std::int64_t window = opts.window / opts.batch_size * opts.batch_size;  // whole batches
  if (opts.window > 0 && window < m.n) {
    if (window == 0)
      throw ConfigError("streaming window of " + std::to_string(opts.window) + " patches holds less than one batch of " +
                        std::to_string(opts.batch_size));
    m.source = source;
    m.windows = std::make_unique<WindowStore>(std::move(source), window, opts.seed, opts.shuffle);
    return;
  }
  if (resident) {
    m.images = std::move(resident);
    return;
  }
  auto all = std::make_shared<PatchImages>();
  all->n = m.n;
  all->pixels.resize(static_cast<std::size_t>(m.n * PatchImages::kPixelsPerImage));
  source->read(0, m.n, all->pixels.data());
  m.images = std::move(all);
}

PatchPipeline::~PatchPipeline() { impl_->stop_workers(); }

std::int64_t PatchPipeline::batches_per_epoch() const { return impl_->per_epoch; }
std::int64_t PatchPipeline::size() const { return impl_->n; }
bool PatchPipeline::streaming() const { return impl_->windows != nullptr; }

std::vector<std::uint16_t> PatchPipeline::patches(std::int64_t first, std::int64_t count) const {
  constexpr std::int64_t kPix = PatchImages::kPixelsPerImage;
  std::vector<std::uint16_t> out(static_cast<std::size_t>(count * kPix));
  if (impl_->windows) {
    impl_->source->read(first, count, out.data());
  } else {
    if (first < 0 || count < 0 || first + count > impl_->n)
      throw DataError("patches [" + std::to_string(first) + ", " + std::to_string(first + count) +
                      ") out of range (set holds " + std::to_string(impl_->n) + ")");
    std::copy_n(impl_->images->image(first), count * kPix, out.data());
  }
  return out;
}

void PatchPipeline::start(std::int64_t epoch, std::int64_t batch) {
  impl_->stop_workers();
  impl_->stop = false;
  impl_->ready.clear();
  impl_->error = nullptr;
  impl_->start_global = epoch * impl_->per_epoch + batch;
  impl_->next_claim = impl_->next_out = impl_->start_global;
  if (impl_->windows) {  // the window to start in, and the next one, in the background
    const std::int64_t g = impl_->windows->window_of(epoch, batch * impl_->opts.batch_size);
    impl_->windows->release_before(g, /*and_after=*/true);
    impl_->windows->prefetch(g);
    impl_->windows->prefetch(g + 1);
  }
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
  if (impl_->windows) {  // entering a window: forget the last one, load the next in the background
    const WindowStore& ws = *impl_->windows;
    const std::int64_t g = ws.window_of(b.epoch, b.index * impl_->opts.batch_size);
    if (b.index == 0 || ws.window_of(b.epoch, (b.index - 1) * impl_->opts.batch_size) != g) {
      ws.release_before(g);
      ws.prefetch(g + 1);
    }
  }
  impl_->cv_work.notify_all();
  return b;
}

ImageBatch PatchPipeline::make_batch(std::int64_t epoch, std::int64_t index) const { return impl_->build(epoch, index); }

}  // namespace taupe
