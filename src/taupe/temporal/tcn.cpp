// TCN of the reference (tau-vae-reference.md §5): weight-normalised causal dilated convs,
// residual blocks, sum of skips, last-step head; plus the pruned last-step forward.
#include "taupe/temporal/tcn.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <torch/nn.h>

#include "taupe/core/errors.h"
#include "taupe/projector/pca.h"

namespace taupe {

namespace {

torch::Tensor swish(const torch::Tensor& x) { return x * torch::sigmoid(x); }

// ||w|| per output channel of an (out, in, k) kernel, keepdim: (out, 1, 1). Explicit IntArrayRef:
// a braced list is ambiguous with the DimnameList overloads on some LibTorch versions.
torch::Tensor channel_norm(const torch::Tensor& w) {
  const std::vector<std::int64_t> dims{1, 2};
  return w.pow(2).sum(torch::IntArrayRef(dims), /*keepdim=*/true).sqrt();
}

// conv1d with explicit IntArrayRefs (the int overloads are ambiguous with the string-padding one).
torch::Tensor conv1d_dilated(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                             std::int64_t dilation) {
  const std::int64_t one = 1, zero = 0;
  return torch::conv1d(x, w, b, torch::IntArrayRef(&one, 1), torch::IntArrayRef(&zero, 1),
                       torch::IntArrayRef(&dilation, 1));
}

// Keras glorot_uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
void glorot_uniform_(torch::Tensor& w, std::int64_t fan_in, std::int64_t fan_out) {
  torch::NoGradGuard ng;
  const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  w.uniform_(-a, a);
}

thread_local at::Generator* t_dropout_generator = nullptr;  // see DropoutGeneratorScope

/// Bernoulli draws of `keep` (probabilities) from this thread's dropout generator.
/// The masks are drawn on the CPU on every device (one value per sample and channel): the same
/// stream as a CPU run, from a CPU generator.
torch::Tensor draw_mask(const torch::Tensor& keep) {
  const torch::Tensor k = keep.to(torch::kCPU);
  return (t_dropout_generator ? torch::bernoulli(k, *t_dropout_generator) : torch::bernoulli(k)).to(keep.device());
}

// Whole-channel dropout (Keras SpatialDropout1D) on x (B, C, T), inverted scaling.
torch::Tensor spatial_dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  auto keep = torch::full({x.size(0), x.size(1), 1}, 1.0 - p, x.options());
  return x * (draw_mask(keep) / (1.0 - p));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
TcnOptions TcnOptions::from_config(const TemporalConfig& cfg, int input_dims_) {
  TcnOptions o;
  o.input_dims = input_dims_;
  o.filters = cfg.filters;
  o.kernel_size = cfg.kernel_size;
  o.dilations = cfg.dilations;
  o.head_units = cfg.head_units;
  o.dropout = cfg.dropout;
  o.wn_init = cfg.wn_init;
  return o;
}

int TcnOptions::receptive_field() const {
  int s = 0;
  for (int d : dilations) s += d;
  return 1 + 2 * (kernel_size - 1) * s;
}

// ---------------------------------------------------------------------------------------------
WeightNormConv1dImpl::WeightNormConv1dImpl(int in_ch, int out_ch, int k, int d, bool tfa)
    : in_channels(in_ch), out_channels(out_ch), kernel_size(k), dilation(d), tfa_init(tfa) {
  v = register_parameter("v", torch::empty({out_ch, in_ch, k}));
  g = register_parameter("g", torch::ones({out_ch}));
  bias = register_parameter("bias", torch::zeros({out_ch}));
  initialized_flag = register_buffer("initialized", torch::zeros({}, torch::kFloat32));
  reset_parameters();
}

void WeightNormConv1dImpl::reset_parameters() {
  glorot_uniform_(v, static_cast<std::int64_t>(in_channels) * kernel_size,
                  static_cast<std::int64_t>(out_channels) * kernel_size);
  torch::NoGradGuard ng;
  g.fill_(1.0);
  bias.zero_();
  initialized_flag.fill_(0.0);
}

bool WeightNormConv1dImpl::initialized() const { return initialized_flag.item<float>() != 0.0f; }

torch::Tensor WeightNormConv1dImpl::effective_weight() const {
  // ||v|| per output channel over (in, k).
  auto norm = channel_norm(v);
  return g.view({-1, 1, 1}) * v / norm;
}

void WeightNormConv1dImpl::data_init(const torch::Tensor& x) {
  torch::NoGradGuard ng;
  const auto pad = static_cast<std::int64_t>(kernel_size - 1) * dilation;
  auto xp = torch::constant_pad_nd(x, {pad, 0}, 0.0);
  torch::Tensor kernel;
  if (tfa_init) {
    kernel = v;  // tfa: "naked clone" holding the initial unnormalised kernel, zero bias
  } else {
    kernel = v / channel_norm(v);  // the unit-norm kernel g actually scales
  }
  auto y = conv1d_dilated(xp, kernel, torch::Tensor(), dilation);  // (B, out, T)
  const std::vector<std::int64_t> bt{0, 2};
  auto m = y.mean(torch::IntArrayRef(bt));
  auto var = (y - m.view({1, -1, 1})).pow(2).mean(torch::IntArrayRef(bt));  // population variance (tf.nn.moments)
  auto scale = 1.0 / torch::sqrt(var + 1e-10);
  g.copy_(scale);
  bias.copy_(-m * scale);
  initialized_flag.fill_(1.0);
}

torch::Tensor WeightNormConv1dImpl::forward(const torch::Tensor& x) {
  if ((is_training() || init_on_forward) && !initialized()) data_init(x);
  const auto pad = static_cast<std::int64_t>(kernel_size - 1) * dilation;
  auto xp = torch::constant_pad_nd(x, {pad, 0}, 0.0);
  return conv1d_dilated(xp, effective_weight(), bias, dilation);
}

DropoutGeneratorScope::DropoutGeneratorScope(at::Generator& gen) : previous_(t_dropout_generator) {
  t_dropout_generator = &gen;
}
DropoutGeneratorScope::~DropoutGeneratorScope() { t_dropout_generator = previous_; }

// ---------------------------------------------------------------------------------------------
TcnBlockImpl::TcnBlockImpl(int in_ch, int filters, int k, int d, double p, bool tfa)
    : dilation(d), dropout(p) {
  conv0 = register_module("conv0", WeightNormConv1d(in_ch, filters, k, d, tfa));
  conv1 = register_module("conv1", WeightNormConv1d(filters, filters, k, d, tfa));
  if (in_ch != filters) {
    shortcut_weight = register_parameter("shortcut_weight", torch::empty({filters, in_ch, 1}));
    shortcut_bias = register_parameter("shortcut_bias", torch::zeros({filters}));
    glorot_uniform_(shortcut_weight, in_ch, filters);
  }
}

TcnBlockImpl::Output TcnBlockImpl::forward(const torch::Tensor& x, std::vector<torch::Tensor>* preacts) {
  auto p0 = conv0->forward(x);
  auto h = spatial_dropout(swish(p0), dropout, is_training());
  auto p1 = conv1->forward(h);
  h = spatial_dropout(swish(p1), dropout, is_training());
  auto x1 = swish(h);
  auto x2 = shortcut_weight.defined() ? conv1d_dilated(x, shortcut_weight, shortcut_bias, 1) : x;
  if (preacts) {
    preacts->push_back(p0);
    preacts->push_back(p1);
  }
  return Output{swish(x1 + x2), x1};
}

// ---------------------------------------------------------------------------------------------
PcaTransform::PcaTransform(const Pca& pca) {
  const int d = pca.dims;
  if (d <= 0 || static_cast<int>(pca.mean.size()) != d || static_cast<int>(pca.components.size()) != d * d)
    throw ModelError("PCA: mean/components do not match dims = " + std::to_string(d));
  mean = torch::empty({d}, torch::kFloat32);
  components = torch::empty({d, d}, torch::kFloat32);
  auto* m = mean.data_ptr<float>();
  auto* c = components.data_ptr<float>();
  for (int i = 0; i < d; ++i) m[i] = static_cast<float>(pca.mean[i]);
  for (int i = 0; i < d * d; ++i) c[i] = static_cast<float>(pca.components[i]);
}

torch::Tensor PcaTransform::forward(const torch::Tensor& x) const {
  return torch::matmul(x - mean, components.t());
}
torch::Tensor PcaTransform::inverse(const torch::Tensor& pcs) const {
  return torch::matmul(pcs, components) + mean;
}
PcaTransform PcaTransform::to(c10::Device device) const {
  PcaTransform t;
  t.mean = mean.to(device);
  t.components = components.to(device);
  return t;
}
torch::Tensor PcaTransform::padding_pc() const { return -torch::matmul(mean, components.t()); }
int PcaTransform::dims() const { return mean.defined() ? static_cast<int>(mean.size(0)) : 0; }

// ---------------------------------------------------------------------------------------------
struct TcnImpl::PrunedPlan {
  int T = 0;
  c10::Device device{torch::kCPU};  // where the index tensors live (the input's device)
  struct Block {
    torch::Tensor idx0;      // (|mid| * k) rows of the zero-extended block input, (mid, tap) order
    torch::Tensor idx1;      // (|out| * k) rows of the zero-extended conv0 output
    torch::Tensor idx_self;  // (|out|) rows of the block input at the output positions
    std::int64_t n_mid = 0, n_out = 0;
  };
  std::vector<Block> blocks;
  std::vector<std::vector<int>> inputs;  // block b input positions (b = blocks: {T-1})
  torch::Tensor idx_input;               // (|inputs[0]|) frames of x read by block 0
};

std::vector<int> causal_input_positions(const std::vector<int>& positions, int dilation, int kernel) {
  std::set<int> out;
  for (int p : positions)
    for (int j = 0; j < kernel; ++j)
      if (p - j * dilation >= 0) out.insert(p - j * dilation);
  return {out.begin(), out.end()};
}

namespace {
// For each output position (in order) and tap j = 0..k-1 (kernel index; offset (k-1-j) d): row of
// the input position in `in`, or in.size() (the appended zero row) for the causal padding.
torch::Tensor tap_index(const std::vector<int>& out, const std::vector<int>& in, int d, int k) {
  std::vector<std::int64_t> idx;
  idx.reserve(out.size() * k);
  for (int p : out)
    for (int j = 0; j < k; ++j) {
      const int q = p - (k - 1 - j) * d;
      auto it = std::lower_bound(in.begin(), in.end(), q);
      idx.push_back(q >= 0 && it != in.end() && *it == q ? (it - in.begin()) : static_cast<std::int64_t>(in.size()));
    }
  return torch::tensor(idx, torch::kLong);
}
torch::Tensor self_index(const std::vector<int>& out, const std::vector<int>& in) {
  std::vector<std::int64_t> idx;
  for (int p : out) idx.push_back(std::lower_bound(in.begin(), in.end(), p) - in.begin());
  return torch::tensor(idx, torch::kLong);
}
// Pruned causal conv in (B, P, C) layout: x (B, |in|, Cin) -> (B, n_out, Cout).
torch::Tensor pruned_conv(const torch::Tensor& x, const torch::Tensor& idx, std::int64_t n_out,
                          const torch::Tensor& weight /* (Cout, Cin, k) */, const torch::Tensor& bias) {
  const auto B = x.size(0), cin = x.size(2), k = weight.size(2);
  auto xz = torch::cat({x, torch::zeros({B, 1, cin}, x.options())}, 1);
  auto gathered = xz.index_select(1, idx).reshape({B, n_out, k * cin});  // (B, out, k*Cin), j-major
  auto w = weight.permute({0, 2, 1}).reshape({weight.size(0), k * cin});   // (Cout, k*Cin)
  return torch::linear(gathered, w, bias);
}
}  // namespace

std::vector<std::vector<int>> TcnImpl::pruned_input_positions(int T) const {
  const int nb = static_cast<int>(options_.dilations.size());
  std::vector<std::vector<int>> in(nb + 1);
  in[nb] = {T - 1};
  for (int b = nb - 1; b >= 0; --b) {
    const int d = options_.dilations[b];
    in[b] = causal_input_positions(causal_input_positions(in[b + 1], d, options_.kernel_size), d, options_.kernel_size);
  }
  return in;
}

std::int64_t TcnImpl::pruned_conv_positions(int T) const {
  const int nb = static_cast<int>(options_.dilations.size());
  auto in = pruned_input_positions(T);
  std::int64_t n = 0;
  for (int b = 0; b < nb; ++b) {
    const auto& out = in[b + 1];
    n += static_cast<std::int64_t>(out.size()) +
         static_cast<std::int64_t>(causal_input_positions(out, options_.dilations[b], options_.kernel_size).size());
  }
  return n;
}

const TcnImpl::PrunedPlan& TcnImpl::plan_for(int T, const c10::Device& device) {
  for (const auto& p : plans_)
    if (p->T == T && p->device == device) return *p;
  // Index tensors must be normal tensors (usable by autograd) even when the first call happens
  // under InferenceMode.
  c10::InferenceMode normal_tensors(false);
  auto plan = std::make_shared<PrunedPlan>();
  plan->T = T;
  plan->device = device;
  const int nb = static_cast<int>(options_.dilations.size());
  const int k = options_.kernel_size;
  plan->inputs = pruned_input_positions(T);
  for (int b = 0; b < nb; ++b) {
    const int d = options_.dilations[b];
    const auto& in = plan->inputs[b];
    const auto& out = plan->inputs[b + 1];
    const auto mid = causal_input_positions(out, d, k);
    PrunedPlan::Block pb;
    pb.idx0 = tap_index(mid, in, d, k).to(device);
    pb.idx1 = tap_index(out, mid, d, k).to(device);
    pb.idx_self = self_index(out, in).to(device);
    pb.n_mid = static_cast<std::int64_t>(mid.size());
    pb.n_out = static_cast<std::int64_t>(out.size());
    plan->blocks.push_back(pb);
  }
  std::vector<std::int64_t> first(plan->inputs[0].begin(), plan->inputs[0].end());
  plan->idx_input = torch::tensor(first, torch::kLong).to(device);
  plans_.push_back(plan);
  return *plans_.back();
}

// ---------------------------------------------------------------------------------------------
TcnImpl::TcnImpl(const TcnOptions& o) : options_(o) {
  if (o.dilations.empty() || o.kernel_size < 1 || o.filters < 1 || o.input_dims < 1)
    throw ConfigError("TCN options: need dilations, kernel_size >= 1, filters >= 1, input_dims >= 1");
  const bool tfa = o.wn_init == "tfa";
  int in = o.input_dims;
  for (std::size_t b = 0; b < o.dilations.size(); ++b) {
    blocks.push_back(register_module("block" + std::to_string(b),
                                     TcnBlock(in, o.filters, o.kernel_size, o.dilations[b], o.dropout, tfa)));
    in = o.filters;
  }
  head_w1 = register_parameter("head_w1", torch::empty({o.head_units, o.filters}));
  head_b1 = register_parameter("head_b1", torch::zeros({o.head_units}));
  head_w2 = register_parameter("head_w2", torch::empty({o.num_classes, o.head_units}));
  head_b2 = register_parameter("head_b2", torch::zeros({o.num_classes}));
  glorot_uniform_(head_w1, o.filters, o.head_units);
  glorot_uniform_(head_w2, o.head_units, o.num_classes);
}

namespace {
void check_input(const torch::Tensor& x, int dims) {
  if (x.dim() != 3 || x.size(2) != dims)
    throw ModelError("TCN input must be (B, T, " + std::to_string(dims) + "), got " +
                     std::to_string(x.dim()) + "-d tensor with last dim " +
                     std::to_string(x.dim() > 0 ? x.size(-1) : 0));
}
}  // namespace

TcnForward TcnImpl::forward_trace(const torch::Tensor& x, std::vector<torch::Tensor>* preacts) {
  check_input(x, options_.input_dims);
  auto h = x.transpose(1, 2);  // (B, D, T)
  torch::Tensor skips;
  for (auto& blk : blocks) {
    auto out = blk->forward(h, preacts);
    skips = skips.defined() ? skips + out.skip : out.skip;
    h = out.residual;
  }
  auto features = skips.transpose(1, 2);  // (B, T, F)
  return TcnForward{head(features), features};
}

TcnForward TcnImpl::forward_full(const torch::Tensor& x) { return forward_trace(x, nullptr); }
torch::Tensor TcnImpl::forward(const torch::Tensor& x) { return forward_trace(x, nullptr).logits; }
torch::Tensor TcnImpl::forward_features(const torch::Tensor& x) { return forward_trace(x, nullptr).features; }

torch::Tensor TcnImpl::head(const torch::Tensor& features) {
  auto last = features.select(1, features.size(1) - 1);  // (B, F)
  return torch::linear(swish(torch::linear(last, head_w1, head_b1)), head_w2, head_b2);
}

void TcnImpl::data_init(const torch::Tensor& x) {
  // One forward in which every uninitialised conv initialises on its actual input (the output of
  // the earlier, already initialised layers), whatever the mode.
  torch::NoGradGuard ng;
  for (auto& blk : blocks) {
    blk->conv0->init_on_forward = true;
    blk->conv1->init_on_forward = true;
  }
  try {
    forward_trace(x, nullptr);
  } catch (...) {
    for (auto& blk : blocks) blk->conv0->init_on_forward = blk->conv1->init_on_forward = false;
    throw;
  }
  for (auto& blk : blocks) blk->conv0->init_on_forward = blk->conv1->init_on_forward = false;
}

bool TcnImpl::initialized() const {
  for (const auto& blk : blocks)
    if (!blk->conv0->initialized() || !blk->conv1->initialized()) return false;
  return true;
}

std::int64_t TcnImpl::num_trainable_parameters() const {
  std::int64_t n = 0;
  for (const auto& p : parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

torch::Tensor TcnImpl::forward_last(const torch::Tensor& x) {
  check_input(x, options_.input_dims);
  const int T = static_cast<int>(x.size(1));
  const auto& plan = plan_for(T, x.device());
  const bool drop = is_training() && options_.dropout > 0.0;
  // Spatial dropout in (B, P, C) layout: one mask per (sample, channel), the same at every step.
  auto dropout_mask = [&](const torch::Tensor& h) {
    auto keep = torch::full({h.size(0), 1, h.size(2)}, 1.0 - options_.dropout, h.options());
    return draw_mask(keep) / (1.0 - options_.dropout);
  };
  // Block 0 reads only the frames in plan.inputs[0] (all of them for the reference geometry).
  auto h = plan.inputs[0].size() == static_cast<std::size_t>(T) ? x : x.index_select(1, plan.idx_input);
  torch::Tensor skip_last;
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    auto& blk = blocks[b];
    const auto& pb = plan.blocks[b];
    auto a0 = swish(pruned_conv(h, pb.idx0, pb.n_mid, blk->conv0->effective_weight(), blk->conv0->bias));
    if (drop) a0 = a0 * dropout_mask(a0);
    auto a1 = swish(pruned_conv(a0, pb.idx1, pb.n_out, blk->conv1->effective_weight(), blk->conv1->bias));
    if (drop) a1 = a1 * dropout_mask(a1);
    auto x1 = swish(a1);  // (B, |out|, F)
    auto xs = h.index_select(1, pb.idx_self);
    auto x2 = blk->shortcut_weight.defined()
                  ? torch::linear(xs, blk->shortcut_weight.squeeze(2), blk->shortcut_bias)
                  : xs;
    auto last = x1.select(1, pb.n_out - 1);  // T-1 is the largest output position
    skip_last = skip_last.defined() ? skip_last + last : last;
    h = swish(x1 + x2);
  }
  return torch::linear(swish(torch::linear(skip_last, head_w1, head_b1)), head_w2, head_b2);
}

}  // namespace taupe
