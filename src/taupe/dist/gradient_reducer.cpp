// GradientReducer (gradient_reducer.h): per-parameter autograd hooks fill flat buckets; a full
// bucket starts its all-reduce while the backward pass goes on.
#include "taupe/dist/gradient_reducer.h"

#include <string>

#include <torch/torch.h>

#include "taupe/core/errors.h"
#include "taupe/dist/cluster.h"

namespace taupe {

struct GradientReducer::Impl {
  struct Slot {
    at::Tensor param;
    std::size_t bucket = 0;
    std::int64_t offset = 0;  ///< in the bucket's flat buffer
    bool arrived = false;
    unsigned hook = 0;
  };
  struct Bucket {
    at::Tensor flat;                  ///< (n,) the bucket's gradients, then their sum
    std::vector<std::size_t> slots;   ///< indices into `slots`
    std::size_t arrived = 0;
    PendingCollective pending;
  };

  Cluster& cluster;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  std::size_t next = 0;  ///< first bucket not started; buckets start in index order
  std::size_t early = 0;
  bool armed = false;

  explicit Impl(Cluster& c) : cluster(c) {}

  void start_ready() {
    while (next < buckets.size() && buckets[next].arrived == buckets[next].slots.size()) {
      buckets[next].pending = cluster.start_all_reduce_sum(buckets[next].flat);
      ++next;
    }
  }

  /// Autograd hook of slot i: `grad` is the parameter's gradient of this backward pass.
  void on_grad(std::size_t i, const at::Tensor& grad) {
    if (!armed) return;  // a backward pass outside a reduced step
    Slot& s = slots[i];
    if (s.arrived)
      throw ModelError("gradient all-reduce: a parameter received two gradients in one step (a second backward "
                       "pass before the reduction finished)",
                       "set encoder.grad_bucket_mb = 0 (one all-reduce after the backward passes)");
    Bucket& b = buckets[s.bucket];
    b.flat.narrow(0, s.offset, s.param.numel()).copy_(grad.reshape({-1}));
    s.arrived = true;
    ++b.arrived;
    start_ready();
  }
};

GradientReducer::GradientReducer(Cluster& cluster, const std::vector<at::Tensor>& params, std::int64_t bucket_bytes)
    : impl_(std::make_unique<Impl>(cluster)) {
  Impl& m = *impl_;
  std::vector<at::Tensor> trained;
  for (const auto& p : params)
    if (p.requires_grad()) trained.push_back(p);
  if (trained.empty()) return;
  const auto options = trained.front().options();
  const auto element = static_cast<std::int64_t>(trained.front().element_size());
  const std::int64_t cap = std::max<std::int64_t>(1, bucket_bytes / element);  // elements per bucket
  std::vector<std::vector<std::size_t>> members;
  std::vector<std::int64_t> sizes;
  for (auto it = trained.rbegin(); it != trained.rend(); ++it) {  // backward order: last parameter first
    const at::Tensor& p = *it;
    if (p.device() != options.device() || p.scalar_type() != trained.front().scalar_type() || p.is_sparse())
      throw ModelError("gradient all-reduce: the parameters must be dense and of one device and dtype (" +
                       p.device().str() + " " + std::string(c10::toString(p.scalar_type())) + " vs " +
                       options.device().str() + " " + std::string(c10::toString(trained.front().scalar_type())) + ")");
    if (members.empty() || (sizes.back() > 0 && sizes.back() + p.numel() > cap)) {
      members.emplace_back();
      sizes.push_back(0);
    }
    Impl::Slot s;
    s.param = p;
    s.bucket = members.size() - 1;
    s.offset = sizes.back();
    members.back().push_back(m.slots.size());
    sizes.back() += p.numel();
    m.slots.push_back(std::move(s));
  }
  for (std::size_t b = 0; b < members.size(); ++b) {
    Impl::Bucket bk;
    bk.flat = torch::zeros({sizes[b]}, options.requires_grad(false));
    bk.slots = std::move(members[b]);
    m.buckets.push_back(std::move(bk));
  }
  for (std::size_t i = 0; i < m.slots.size(); ++i) {
    Impl* self = impl_.get();
    m.slots[i].hook = m.slots[i].param.register_hook([self, i](const at::Tensor& g) { self->on_grad(i, g); });
  }
}

GradientReducer::~GradientReducer() {
  if (!impl_) return;
  for (auto& s : impl_->slots) {
    try {
      s.param.remove_hook(s.hook);
    } catch (...) {  // never throw from a destructor
    }
  }
}

void GradientReducer::arm() {
  Impl& m = *impl_;
  for (auto& s : m.slots) s.arrived = false;
  for (auto& b : m.buckets) {
    b.arrived = 0;
    b.pending = PendingCollective();
  }
  m.next = 0;
  m.armed = true;
}

void GradientReducer::finish() {
  Impl& m = *impl_;
  m.armed = false;
  m.early = m.next;
  for (std::size_t b = m.next; b < m.buckets.size(); ++b) {
    Impl::Bucket& bk = m.buckets[b];
    for (std::size_t i : bk.slots) {
      Impl::Slot& s = m.slots[i];
      if (s.arrived) continue;
      bk.flat.narrow(0, s.offset, s.param.numel()).zero_();  // no gradient in this step
      s.arrived = true;
      ++bk.arrived;
    }
  }
  m.start_ready();
  for (auto& bk : m.buckets) bk.pending.wait();
  torch::NoGradGuard ng;
  for (auto& s : m.slots) {
    const at::Tensor sum = m.buckets[s.bucket].flat.narrow(0, s.offset, s.param.numel()).view(s.param.sizes());
    at::Tensor& g = s.param.mutable_grad();
    if (g.defined())
      g.copy_(sum);
    else
      g = sum.clone();
  }
}

std::size_t GradientReducer::buckets() const { return impl_->buckets.size(); }

std::size_t GradientReducer::started_early() const { return impl_->early; }

}  // namespace taupe
