// The fast PC-space prediction engine for single-PC edits (pc-shift, pc-window, pc-ablate):
// predict_pc_deltas. Same predictions as predict_variants + ModelSet::predict_pc (the pruned
// last-step forward), computed with these savings (measured in bench/perturb_bench.cpp,
// docs/perturbation.md "Efficiency"):
//
//  1. Block 0 incrementally. Its conv0 pre-activation and its 1×1 shortcut are linear in the
//     input; an edit of PC p by δ(t) changes them by Σ_j δ(q − (k−1−j) d) W0[:, p, j] and
//     δ(q) Ws[:, p]. They are computed once per trajectory and updated per variant in O(T·F)
//     instead of O(T·F·k·D) (about a quarter of the pruned forward's multiply-adds).
//  2. Padding prefix skipped. Inputs are pre-padded; the TCN is causal, so every activation at a
//     position before the first real frame equals the activation of an all-padding input at that
//     position. Those are computed once per model; only positions ≥ the first real frame (rounded
//     down to a multiple of 8, so plans are shared) are evaluated.
//  3. Fused kernels. Batches of 128 rows in preallocated buffers; the GEMMs go to BLAS through
//     at::mm_out, and SiLU (= swish), bias, residual and the tap gather of the next conv are one
//     pass per layer (AVX2 + FMA when the CPU has them).
//  4. Models on parallel workers (one engine each, up to LibTorch's thread count).
//
// Numerics: the same float operations up to summation order (the incremental update adds δ·W
// after the GEMM) and the exp approximation (≈ 1 ulp): probabilities agree with the
// straightforward path within 1e-5 and classes are identical in
// tests/perturb/pc_engine_fast_test.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <ATen/Parallel.h>
#include <torch/nn.h>

#include "taupe/encoder/torch_runtime.h"
#include "taupe/core/parallel.h"
#include "taupe/core/errors.h"
#include "taupe/core/stats.h"
#include "taupe/perturb/perturb.h"
#include "taupe/perturb/perturb_internal.h"
#include "taupe/temporal/tcn.h"

namespace taupe {

namespace {

constexpr int kStartQuantum = 8;          // plan starts are multiples of this (shared plans)
constexpr std::int64_t kDefaultRows = 128;  // rows per forward batch

int index_of(const std::vector<int>& v, int pos) {
  auto it = std::lower_bound(v.begin(), v.end(), pos);
  if (it == v.end() || *it != pos) throw ModelError("pc engine: inconsistent pruned plan (position " + std::to_string(pos) + ")");
  return static_cast<int>(it - v.begin());
}
int first_at_least(const std::vector<int>& v, int s) {
  return static_cast<int>(std::lower_bound(v.begin(), v.end(), s) - v.begin());
}

/// Geometry of the pruned last-step forward (model independent): for block b, the full sorted
/// position lists of its input (in[b]), conv0 output (mid[b]) and output (in[b + 1]).
struct Geometry {
  int T = 0, k = 0, nb = 0;
  std::vector<int> dil;
  std::vector<std::vector<int>> in, mid;
};

/// Gather for one conv restricted to output positions >= s: output rows are the suffix of
/// `out_full` from `c_out`; tap sources are rows of an extended input buffer
/// [computed rows (suffix of in_full from c_in) | padding rows (pad_pos, indices into in_full) | zero].
struct ConvGather {
  int c_in = 0, c_out = 0, n_in = 0, n_out = 0;
  std::vector<int> pad_pos;
  torch::Tensor idx;  // (n_out * k) long
};

ConvGather make_gather(const std::vector<int>& in_full, const std::vector<int>& out_full, int d, int k, int s) {
  ConvGather g;
  g.c_in = first_at_least(in_full, s);
  g.c_out = first_at_least(out_full, s);
  g.n_in = static_cast<int>(in_full.size()) - g.c_in;
  g.n_out = static_cast<int>(out_full.size()) - g.c_out;
  std::vector<std::int64_t> idx;
  std::map<int, int> pad_slot;
  std::vector<std::pair<int, int>> pending;  // (idx position, full index) of padding taps
  for (int o = g.c_out; o < static_cast<int>(out_full.size()); ++o)
    for (int j = 0; j < k; ++j) {
      const int q = out_full[static_cast<std::size_t>(o)] - (k - 1 - j) * d;
      if (q < 0) {
        idx.push_back(-1);  // zero row, patched below
        continue;
      }
      const int e = index_of(in_full, q);
      if (e >= g.c_in) {
        idx.push_back(e - g.c_in);
      } else {
        auto it = pad_slot.find(e);
        if (it == pad_slot.end()) {
          it = pad_slot.emplace(e, static_cast<int>(g.pad_pos.size())).first;
          g.pad_pos.push_back(e);
        }
        idx.push_back(-2 - it->second);
      }
    }
  const std::int64_t n_pad = static_cast<std::int64_t>(g.pad_pos.size());
  for (auto& v : idx) {
    if (v == -1) v = g.n_in + n_pad;                  // zero row
    else if (v <= -2) v = g.n_in + (-2 - v);           // padding row
  }
  g.idx = torch::tensor(idx, torch::kLong);
  return g;
}

// ---- fused element-wise kernels ---------------------------------------------------------------
// silu(x) = x / (1 + e^-x). The build targets baseline x86-64, so the AVX2 + FMA versions are
// compiled per function and chosen at run time; exp is the Cephes single-precision polynomial
// (≈ 1 ulp), the scalar path uses std::exp.
inline float silu_scalar(float x) { return x / (1.0f + std::exp(-x)); }

#if defined(__x86_64__) && defined(__GNUC__)
#define TAUPE_PC_ENGINE_AVX2 1
__attribute__((target("avx2,fma"))) inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f)), _mm256_set1_ps(88.3762626647949f));
  __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, z, _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  const __m256i n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}
__attribute__((target("avx2,fma"))) inline __m256 silu256(__m256 x) {
  // (A reciprocal estimate + Newton step instead of the division measured no faster: the exp
  // polynomial bounds the throughput.)
  const __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}
__attribute__((target("avx2,fma"))) void silu_bias_avx2(const float* in, const float* bias, float* out, int n) {
  int f = 0;
  for (; f + 8 <= n; f += 8) {
    __m256 x = _mm256_loadu_ps(in + f);
    if (bias) x = _mm256_add_ps(x, _mm256_loadu_ps(bias + f));
    _mm256_storeu_ps(out + f, silu256(x));
  }
  for (; f < n; ++f) out[f] = silu_scalar(in[f] + (bias ? bias[f] : 0.0f));
}
__attribute__((target("avx2,fma"))) void block_out_avx2(const float* in, const float* bias, const float* res, float* x1,
                                                         float* h, int n) {
  int f = 0;
  for (; f + 8 <= n; f += 8) {
    const __m256 a = silu256(silu256(_mm256_add_ps(_mm256_loadu_ps(in + f), _mm256_loadu_ps(bias + f))));
    _mm256_storeu_ps(x1 + f, a);
    if (h) _mm256_storeu_ps(h + f, silu256(_mm256_add_ps(a, _mm256_loadu_ps(res + f))));
  }
  for (; f < n; ++f) {
    x1[f] = silu_scalar(silu_scalar(in[f] + bias[f]));
    if (h) h[f] = silu_scalar(x1[f] + res[f]);
  }
}
bool have_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
#else
bool have_avx2() { return false; }
#endif

/// out = silu(in + bias) over n floats (bias may be null).
void silu_bias(const float* in, const float* bias, float* out, int n) {
#ifdef TAUPE_PC_ENGINE_AVX2
  if (have_avx2()) return silu_bias_avx2(in, bias, out, n);
#endif
  for (int f = 0; f < n; ++f) out[f] = silu_scalar(in[f] + (bias ? bias[f] : 0.0f));
}
/// The end of a residual block over n channels: x1 = silu(silu(in + bias)) (the skip output) and,
/// if h is given, h = silu(x1 + res) (the next block's input).
void block_out(const float* in, const float* bias, const float* res, float* x1, float* h, int n) {
#ifdef TAUPE_PC_ENGINE_AVX2
  if (have_avx2()) return block_out_avx2(in, bias, res, x1, h, n);
#endif
  for (int f = 0; f < n; ++f) {
    x1[f] = silu_scalar(silu_scalar(in[f] + bias[f]));
    if (h) h[f] = silu_scalar(x1[f] + res[f]);
  }
}

/// Gather map of one conv in the fused engine, per batch element: the output rows' (k·C)-wide
/// input rows G are filled while the producing layer writes its rows: row r of the producer goes
/// to offsets dst[r] of G (floats, within one batch element); taps on positions before the plan
/// start read pad rows (offset, pad table row), taps before position 0 read zeros.
struct FusedGather {
  int rows = 0, width = 0;  // G is (rows, width) per batch element
  std::vector<std::vector<int>> dst;
  std::vector<std::pair<int, int>> pad;
  std::vector<int> zero;
};

FusedGather fused_gather(const ConvGather& g, int k, int C) {
  FusedGather f;
  f.rows = g.n_out;
  f.width = k * C;
  f.dst.assign(static_cast<std::size_t>(g.n_in), {});
  const auto* idx = g.idx.data_ptr<std::int64_t>();
  const int n_pad = static_cast<int>(g.pad_pos.size());
  for (int o = 0; o < g.n_out; ++o)
    for (int j = 0; j < k; ++j) {
      const std::int64_t src = idx[o * k + j];
      const int off = (o * k + j) * C;
      if (src < g.n_in) f.dst[static_cast<std::size_t>(src)].push_back(off);
      else if (src < g.n_in + n_pad) f.pad.emplace_back(off, g.pad_pos[static_cast<std::size_t>(src - g.n_in)]);
      else f.zero.push_back(off);
    }
  return f;
}

/// Everything evaluated for a batch whose rows all start at >= s.
struct Plan {
  int s = 0;
  std::vector<ConvGather> conv0, conv1;  // per block (conv0 of block 0 unused: incremental)
  std::vector<torch::Tensor> self_idx;   // per block b >= 1: rows of the block input at its output positions
  // Fused engine: per block b, conv0 (b >= 1) and conv1 gathers; res[b][r] = residual row of
  // block b fed by its input row r (-1 if position r is not an output position).
  std::vector<FusedGather> g0, g1;
  std::vector<std::vector<int>> res;
};

Plan make_plan(const Geometry& g, int s) {
  Plan p;
  p.s = s;
  for (int b = 0; b < g.nb; ++b) {
    const int d = g.dil[static_cast<std::size_t>(b)];
    p.conv0.push_back(make_gather(g.in[static_cast<std::size_t>(b)], g.mid[static_cast<std::size_t>(b)], d, g.k, s));
    p.conv1.push_back(make_gather(g.mid[static_cast<std::size_t>(b)], g.in[static_cast<std::size_t>(b) + 1], d, g.k, s));
    const auto& in = g.in[static_cast<std::size_t>(b)];
    const auto& out = g.in[static_cast<std::size_t>(b) + 1];
    const int c_in = first_at_least(in, s);
    std::vector<std::int64_t> self;
    for (int o = first_at_least(out, s); o < static_cast<int>(out.size()); ++o)
      self.push_back(index_of(in, out[static_cast<std::size_t>(o)]) - c_in);
    std::vector<int> res(static_cast<std::size_t>(static_cast<int>(in.size()) - c_in), -1);
    for (std::size_t o = 0; o < self.size(); ++o) res[static_cast<std::size_t>(self[o])] = static_cast<int>(o);
    p.self_idx.push_back(torch::tensor(self, torch::kLong));
    p.res.push_back(std::move(res));
  }
  return p;
}

/// make_plan + the fused gathers (C0 = input dims of block 0, F = filters).
Plan make_fused_plan(const Geometry& g, int s, int C0, int F) {
  Plan p = make_plan(g, s);
  for (int b = 0; b < g.nb; ++b) {
    p.g0.push_back(fused_gather(p.conv0[static_cast<std::size_t>(b)], g.k, b == 0 ? C0 : F));
    p.g1.push_back(fused_gather(p.conv1[static_cast<std::size_t>(b)], g.k, F));
  }
  return p;
}

// at::silu_ (a free function in 1.13 and 2.x; no Tensor::silu_ method): x·sigmoid(x) in place.
torch::Tensor silu_inplace(torch::Tensor t) {
  at::silu_(t);
  return t;
}

/// One model's weights in GEMM form, its padding tables and the per-trajectory block-0 bases.
class ModelEngine {
 public:
  ModelEngine(const TcnImpl& tcn, const Geometry& geo) : geo_(geo) {
    const auto& o = tcn.options();
    F_ = o.filters;
    D_ = o.input_dims;
    k_ = o.kernel_size;
    for (int b = 0; b < geo.nb; ++b) {
      const auto& blk = tcn.blocks[static_cast<std::size_t>(b)];
      // (Cout, Cin, k) -> (k*Cin, Cout) in tap-major order: row j*Cin + c.
      auto w0 = blk->conv0->effective_weight().detach();
      auto w1 = blk->conv1->effective_weight().detach();
      w0t_.push_back(w0.permute({2, 1, 0}).reshape({-1, F_}).contiguous());
      w1t_.push_back(w1.permute({2, 1, 0}).reshape({-1, F_}).contiguous());
      b0_.push_back(blk->conv0->bias.detach().contiguous());
      b1_.push_back(blk->conv1->bias.detach().contiguous());
      if (b == 0) {
        w0_raw_ = w0.contiguous();  // (F, D, k)
        if (blk->shortcut_weight.defined()) {
          ws_t_ = blk->shortcut_weight.detach().squeeze(2).t().contiguous();  // (D, F)
          bs_ = blk->shortcut_bias.detach().contiguous();
        }
      }
    }
    hpad_.assign(static_cast<std::size_t>(geo.nb) + 1, torch::Tensor());
    a0pad_.assign(static_cast<std::size_t>(geo.nb), torch::Tensor());
    hw1t_ = tcn.head_w1.detach().t().contiguous();
    hb1_ = tcn.head_b1.detach().contiguous();
    hw2t_ = tcn.head_w2.detach().t().contiguous();
    hb2_ = tcn.head_b2.detach().contiguous();
    // Incremental columns: per PC p and tap j the F-vector W0[:, p, j]; shortcut Ws[:, p].
    const float* w = w0_raw_.data_ptr<float>();
    w0_col_.resize(static_cast<std::size_t>(D_) * k_ * F_);
    for (int p = 0; p < D_; ++p)
      for (int j = 0; j < k_; ++j)
        for (int f = 0; f < F_; ++f)
          w0_col_[(static_cast<std::size_t>(p) * k_ + j) * F_ + f] = w[(static_cast<std::size_t>(f) * D_ + p) * k_ + j];
    if (ws_t_.defined()) {
      const float* ws = ws_t_.data_ptr<float>();
      ws_col_.assign(ws, ws + static_cast<std::size_t>(D_) * F_);
    }
  }

  int F() const { return F_; }

  /// Block-0 conv0 pre-activation (n_mid0, F) and residual input (n_out0, F) of trajectories x
  /// (n, T, D), all positions.
  void bases(const float* x, std::int64_t n, std::vector<float>& p0, std::vector<float>& x2) const {
    const auto& g = geo_;
    const std::int64_t nm = static_cast<std::int64_t>(g.mid[0].size()), no = static_cast<std::int64_t>(g.in[1].size());
    const Plan& full = plan0();
    auto xt = torch::from_blob(const_cast<float*>(x), {n, g.T, D_}, torch::kFloat32);
    auto h = g.in[0].size() == static_cast<std::size_t>(g.T)
                 ? xt
                 : xt.index_select(1, torch::tensor(std::vector<std::int64_t>(g.in[0].begin(), g.in[0].end()), torch::kLong));
    auto hext = torch::cat({h, torch::zeros({n, 1, D_})}, 1);
    auto gath = hext.index_select(1, full.conv0[0].idx).reshape({n * nm, k_ * D_});
    auto pre = torch::addmm(b0_[0], gath, w0t_[0]).contiguous();
    p0.assign(pre.data_ptr<float>(), pre.data_ptr<float>() + n * nm * F_);
    auto xs = h.index_select(1, full.self_idx[0]);  // (n, no, D)
    auto res = (ws_t_.defined() ? torch::addmm(bs_, xs.reshape({n * no, D_}), ws_t_) : xs.reshape({n * no, D_})).contiguous();
    x2.assign(res.data_ptr<float>(), res.data_ptr<float>() + n * no * F_);
  }

  /// Activations of an all-padding input (pad: (D,)) at every position: block inputs (b >= 1)
  /// and conv0 outputs after SiLU (every block).
  void padding_tables(const std::vector<float>& pad) {
    const auto& g = geo_;
    std::vector<float> x(static_cast<std::size_t>(g.T) * D_);
    for (int t = 0; t < g.T; ++t) std::copy(pad.begin(), pad.end(), x.begin() + static_cast<std::ptrdiff_t>(t) * D_);
    std::vector<float> p0, x2;
    bases(x.data(), 1, p0, x2);
    hpad_.assign(static_cast<std::size_t>(g.nb) + 1, torch::Tensor());
    a0pad_.assign(static_cast<std::size_t>(g.nb), torch::Tensor());
    const Plan& full = plan0();
    torch::Tensor h;  // (1, n_in, C)
    for (int b = 0; b < g.nb; ++b) {
      torch::Tensor a0;
      if (b == 0) {
        a0 = torch::from_blob(p0.data(), {1, static_cast<std::int64_t>(g.mid[0].size()), F_}, torch::kFloat32).clone();
      } else {
        auto hext = torch::cat({h, torch::zeros({1, 1, h.size(2)})}, 1);
        const auto& c = full.conv0[static_cast<std::size_t>(b)];
        a0 = torch::addmm(b0_[static_cast<std::size_t>(b)], hext.index_select(1, c.idx).reshape({c.n_out, -1}),
                          w0t_[static_cast<std::size_t>(b)])
                 .reshape({1, c.n_out, F_});
      }
      silu_inplace(a0);
      a0pad_[static_cast<std::size_t>(b)] = a0[0].clone();
      const auto& c1 = full.conv1[static_cast<std::size_t>(b)];
      auto aext = torch::cat({a0, torch::zeros({1, 1, F_})}, 1);
      auto x1 = torch::addmm(b1_[static_cast<std::size_t>(b)], aext.index_select(1, c1.idx).reshape({c1.n_out, -1}),
                             w1t_[static_cast<std::size_t>(b)])
                    .reshape({1, c1.n_out, F_});
      silu_inplace(silu_inplace(x1));
      auto res = b == 0 ? torch::from_blob(x2.data(), {1, c1.n_out, F_}, torch::kFloat32)
                        : h.index_select(1, full.self_idx[static_cast<std::size_t>(b)]);
      h = silu_inplace(x1 + res);
      hpad_[static_cast<std::size_t>(b) + 1] = h[0].clone();
    }
  }

  const Plan& plan0() const { return plan_for(0); }
  const Plan& plan_for(int s) const {
    auto it = plans_.find(s);
    if (it == plans_.end()) it = plans_.emplace(s, make_fused_plan(geo_, s, D_, F_)).first;
    return it->second;
  }

  /// Fused forward (no per-op allocation, gathers written by the producing element-wise pass):
  /// logits (B, 3) into `logits`. a0_init: (B, n_mid0 from s, F) block-0 conv0 pre-activations
  /// including the bias (edited); x2_init: (B, n_out0 from s, F) block-0 residual input (edited).
  void forward_fused(int s, std::int64_t B, const float* a0_init, const float* x2_init, float* logits) {
    const Plan& pl = plan_for(s);
    reserve_rows(B);
    std::fill(skip_.begin(), skip_.begin() + static_cast<std::ptrdiff_t>(B * F_), 0.0f);
    for (int b = 0; b < geo_.nb; ++b) {
      const auto bs = static_cast<std::size_t>(b);
      // conv0 pre-activation (B, n_mid, F).
      const float* pre = a0_init;
      const float* bias0 = nullptr;
      if (b > 0) {
        const FusedGather& fg0 = pl.g0[bs];
        fill_fixed(fg0, g0_[bs].data(), hpad_[bs], F_, B);
        mm(g0_[bs].data(), B * pl.conv0[bs].n_out, fg0.width, w0t_[bs], p_.data());
        pre = p_.data();
        bias0 = b0_[bs].data_ptr<float>();
      }
      scatter_conv0(pl, b, B, pre, bias0);
      // conv1, then x1 (skip) and the next block's input.
      mm(g1_[bs].data(), B * pl.conv1[bs].n_out, pl.g1[bs].width, w1t_[bs], p_.data());
      block_outputs(pl, b, B, b == 0 ? x2_init : x2_[bs].data());
    }
    auto sk = torch::from_blob(skip_.data(), {B, F_}, torch::kFloat32);
    auto z = silu_inplace(torch::addmm(hb1_, sk, hw1t_));
    auto lg = torch::addmm(hb2_, z, hw2t_).contiguous();
    std::copy(lg.data_ptr<float>(), lg.data_ptr<float>() + B * 3, logits);
  }

  const std::vector<float>& w0_col() const { return w0_col_; }
  const std::vector<float>& ws_col() const { return ws_col_; }
  bool identity_shortcut() const { return !ws_t_.defined(); }

 private:
  /// Sizes the fused-engine buffers for batches of up to B rows from plan start 0.
  void reserve_rows(std::int64_t B) {
    if (B <= buf_rows_) return;
    const auto& g = geo_;
    const Plan& full = plan0();
    const std::size_t Fz = static_cast<std::size_t>(F_);
    buf_rows_ = B;
    g0_.assign(static_cast<std::size_t>(g.nb), {});
    g1_.assign(static_cast<std::size_t>(g.nb), {});
    x2_.assign(static_cast<std::size_t>(g.nb), {});
    std::size_t pmax = 0;
    for (int b = 0; b < g.nb; ++b) {
      const auto bs = static_cast<std::size_t>(b);
      if (b > 0) g0_[bs].resize(static_cast<std::size_t>(B) * full.g0[bs].rows * full.g0[bs].width);
      g1_[bs].resize(static_cast<std::size_t>(B) * full.g1[bs].rows * full.g1[bs].width);
      if (b > 0) x2_[bs].resize(static_cast<std::size_t>(B) * full.conv1[bs].n_out * Fz);
      pmax = std::max({pmax, static_cast<std::size_t>(full.conv0[bs].n_out), static_cast<std::size_t>(full.conv1[bs].n_out)});
    }
    p_.resize(static_cast<std::size_t>(B) * pmax * Fz);
    skip_.resize(static_cast<std::size_t>(B) * Fz);
    x1_.resize(Fz);
  }

  /// Writes the rows of a gather that do not depend on the batch: padding taps (rows of `table`,
  /// C wide) and zero taps, for each of the B batch elements.
  static void fill_fixed(const FusedGather& fg, float* G, const torch::Tensor& table, int C, std::int64_t B) {
    const float* tb = table.defined() ? table.data_ptr<float>() : nullptr;
    const std::size_t per = static_cast<std::size_t>(fg.rows) * fg.width;
    for (std::int64_t e = 0; e < B; ++e) {
      float* base = G + static_cast<std::size_t>(e) * per;
      for (const auto& pr : fg.pad)
        std::copy(tb + static_cast<std::size_t>(pr.second) * C, tb + static_cast<std::size_t>(pr.second + 1) * C, base + pr.first);
      for (int off : fg.zero) std::fill(base + off, base + off + C, 0.0f);
    }
  }

  /// out (rows, F) = a (rows, width) · wt (width, F).
  void mm(const float* a, std::int64_t rows, std::int64_t width, const torch::Tensor& wt, float* out) const {
    auto at = torch::from_blob(const_cast<float*>(a), {rows, width}, torch::kFloat32);
    auto ot = torch::from_blob(out, {rows, F_}, torch::kFloat32);
    at::mm_out(ot, at, wt);
  }

  /// Block b's conv0 activations a0 = silu(pre + bias), scattered into conv1's gather.
  void scatter_conv0(const Plan& pl, int b, std::int64_t B, const float* pre, const float* bias0) {
    const auto bs = static_cast<std::size_t>(b);
    const FusedGather& fg1 = pl.g1[bs];
    const int n_mid = pl.conv0[bs].n_out;
    const std::size_t Fz = static_cast<std::size_t>(F_);
    float* G1 = g1_[bs].data();
    fill_fixed(fg1, G1, a0pad_[bs], F_, B);
    const std::size_t per1 = static_cast<std::size_t>(fg1.rows) * fg1.width;
    for (std::int64_t e = 0; e < B; ++e)
      for (int r = 0; r < n_mid; ++r) {
        const auto& dst = fg1.dst[static_cast<std::size_t>(r)];
        if (dst.empty()) continue;
        float* first = G1 + static_cast<std::size_t>(e) * per1 + dst[0];
        silu_bias(pre + (static_cast<std::size_t>(e) * n_mid + r) * Fz, bias0, first, F_);
        for (std::size_t q = 1; q < dst.size(); ++q) std::copy(first, first + F_, G1 + static_cast<std::size_t>(e) * per1 + dst[q]);
      }
  }

  /// Adds x1 (the skip output of a block's last row) to batch element e's skip sum.
  void add_skip(std::int64_t e) {
    float* sk = skip_.data() + static_cast<std::size_t>(e) * static_cast<std::size_t>(F_);
    for (int f = 0; f < F_; ++f) sk[f] += x1_[static_cast<std::size_t>(f)];
  }

  /// The end of block b from its conv1 output in p_ and residual input `res`: the skip output of
  /// the last row and the next block's input, scattered into its conv0 gather and residual.
  void block_outputs(const Plan& pl, int b, std::int64_t B, const float* res) {
    const auto bs = static_cast<std::size_t>(b);
    const int n_out = pl.conv1[bs].n_out;
    const std::size_t Fz = static_cast<std::size_t>(F_);
    const float* bias1 = b1_[bs].data_ptr<float>();
    const bool next = b + 1 < geo_.nb;
    const FusedGather* fgn = next ? &pl.g0[bs + 1] : nullptr;
    const std::vector<int>* resn = next ? &pl.res[bs + 1] : nullptr;
    const std::size_t pern = next ? static_cast<std::size_t>(fgn->rows) * fgn->width : 0;
    for (std::int64_t e = 0; e < B; ++e)
      for (int r = 0; r < n_out; ++r) {
        const float* in = p_.data() + (static_cast<std::size_t>(e) * n_out + r) * Fz;
        const float* rr = res + (static_cast<std::size_t>(e) * n_out + r) * Fz;
        if (!next) {
          if (r == n_out - 1) {
            block_out(in, bias1, rr, x1_.data(), nullptr, F_);
            add_skip(e);
          }
          continue;
        }
        const auto& dst = fgn->dst[static_cast<std::size_t>(r)];
        const int rres = (*resn)[static_cast<std::size_t>(r)];
        float* first = !dst.empty() ? g0_[bs + 1].data() + static_cast<std::size_t>(e) * pern + dst[0]
                       : rres >= 0  ? x2_[bs + 1].data() + (static_cast<std::size_t>(e) * pl.conv1[bs + 1].n_out + rres) * Fz
                                    : nullptr;
        if (!first && r != n_out - 1) continue;
        block_out(in, bias1, rr, x1_.data(), first ? first : nullptr, F_);
        if (first) {
          for (std::size_t q = 1; q < dst.size(); ++q)
            std::copy(first, first + F_, g0_[bs + 1].data() + static_cast<std::size_t>(e) * pern + dst[q]);
          if (rres >= 0 && !dst.empty())
            std::copy(first, first + F_, x2_[bs + 1].data() + (static_cast<std::size_t>(e) * pl.conv1[bs + 1].n_out + rres) * Fz);
        }
        if (r == n_out - 1) add_skip(e);
      }
  }

  const Geometry& geo_;
  int F_ = 0, D_ = 0, k_ = 0;
  std::vector<torch::Tensor> w0t_, w1t_, b0_, b1_;
  torch::Tensor w0_raw_, ws_t_, bs_, hw1t_, hb1_, hw2t_, hb2_;
  std::vector<float> w0_col_, ws_col_;
  std::vector<torch::Tensor> hpad_, a0pad_;
  mutable std::map<int, Plan> plans_;
  // Fused-engine buffers (sized for plan start 0 and the largest batch seen).
  std::int64_t buf_rows_ = 0;
  std::vector<std::vector<float>> g0_, g1_, x2_;
  std::vector<float> p_, skip_, x1_;
};

Geometry geometry_of(const TcnImpl& tcn, int T) {
  Geometry g;
  const auto& o = tcn.options();
  g.T = T;
  g.k = o.kernel_size;
  g.dil = o.dilations;
  g.nb = static_cast<int>(o.dilations.size());
  g.in = tcn.pruned_input_positions(T);
  for (int b = 0; b < g.nb; ++b)
    g.mid.push_back(causal_input_positions(g.in[static_cast<std::size_t>(b) + 1], g.dil[static_cast<std::size_t>(b)], g.k));
  return g;
}

/// Items of each model of the set.
std::vector<std::vector<std::int64_t>> items_by_model(const ModelSet& models, const std::vector<PerturbItem>& items) {
  std::vector<std::vector<std::int64_t>> by_model(static_cast<std::size_t>(models.num_models()));
  for (std::size_t i = 0; i < items.size(); ++i)
    by_model[static_cast<std::size_t>(items[i].model)].push_back(static_cast<std::int64_t>(i));
  return by_model;
}

/// The padding row (D) of the first item with a padding frame; empty when no item has one.
std::vector<float> reference_padding(const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                     std::int64_t n, int L, int D) {
  const std::size_t seq = static_cast<std::size_t>(L) * D;
  std::vector<float> pad;
  for (std::int64_t i = 0; i < n && pad.empty(); ++i)
    if (!real[static_cast<std::size_t>(i) * L]) pad.assign(pcs.begin() + static_cast<std::ptrdiff_t>(i * seq),
                                                           pcs.begin() + static_cast<std::ptrdiff_t>(i * seq + D));
  return pad;
}

/// Per item the first real frame, or 0 when its padding differs from the reference padding row
/// `pad` (the item is then computed in full).
std::vector<int> first_real_frames(const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                   const std::vector<float>& pad, std::int64_t n, int L, int D) {
  const std::size_t seq = static_cast<std::size_t>(L) * D;
  std::vector<int> start(static_cast<std::size_t>(n), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* r = real.data() + static_cast<std::size_t>(i) * L;
    int f = 0;
    while (f < L && !r[f]) ++f;
    bool same = !pad.empty();
    for (int t = 0; t < f && same; ++t)
      same = std::memcmp(pcs.data() + i * seq + static_cast<std::size_t>(t) * D, pad.data(), sizeof(float) * D) == 0;
    start[static_cast<std::size_t>(i)] = same ? std::min(f, L - 1) : 0;
  }
  return start;
}

/// What predict_pc_deltas shares with its model workers: the inputs, the per-item plan starts
/// and the outputs (rows of different models write disjoint entries).
struct PcDeltaJob {
  const ModelSet& models;
  const std::vector<PerturbItem>& items;
  const std::vector<float>& pcs;
  const std::vector<std::uint8_t>& real;
  int num_variants;
  const PcDeltaFn& delta_fn;
  std::int64_t memory_budget_mb;
  std::int64_t B;  // rows per forward batch
  std::int64_t n;
  int L, D;
  std::size_t seq;
  std::vector<std::vector<std::int64_t>> by_model;
  std::vector<float> pad;   // reference padding row (empty: none)
  std::vector<int> start;   // per item: first real frame (0: computed in full)
  Geometry geo;
  std::int64_t nm0, no0;    // block-0 conv0 and block outputs at plan start 0
  std::vector<std::uint8_t>& pred;
  std::vector<float>* probs;
  std::vector<std::uint8_t>* raw_pred;
};

/// Items per group of ModelPcRun: as many as have their block-0 bases (F channels) in half the
/// memory budget.
std::int64_t group_items(const PcDeltaJob& job, int F) {
  const std::int64_t per_item = (job.nm0 + job.no0) * F * static_cast<std::int64_t>(sizeof(float));
  return std::max<std::int64_t>(1, (job.memory_budget_mb << 20) / 2 / per_item);
}

/// One model's share of predict_pc_deltas: its items in groups whose block-0 bases fit in half the
/// memory budget, each group in batches of up to B rows (variant, item), item-major; a row's
/// block-0 bases are edited incrementally and the batch runs through the fused forward.
class ModelPcRun {
 public:
  ModelPcRun(const PcDeltaJob& job, std::vector<std::int64_t> mine, ModelEngine& eng, const TypicalityGate& gate)
      : job_(job), mine_(std::move(mine)), eng_(eng), gate_(gate), F_(eng.F()) {}

  void run() {
    const std::int64_t B = job_.B;
    delta_.assign(static_cast<std::size_t>(job_.L), 0.f);
    row_score_.assign(static_cast<std::size_t>(B), 0.0);
    if (gate_.enabled()) typicality_bases();
    if (!job_.pad.empty()) eng_.padding_tables(job_.pad);
    const std::int64_t group = group_items(job_, F_);
    a0_buf_.resize(static_cast<std::size_t>(B * job_.nm0 * F_));
    x2_buf_.resize(static_cast<std::size_t>(B * job_.no0 * F_));
    logit_buf_.resize(static_cast<std::size_t>(B) * 3);
    for (std::size_t g0 = 0; g0 < mine_.size(); g0 += static_cast<std::size_t>(group))
      run_group(g0, std::min(mine_.size(), g0 + static_cast<std::size_t>(group)));
  }

 private:
  /// Typicality gate: per item Σ_t Σ_d x² / var_d over real frames and the frame count; a variant
  /// adds inv_var_p Σ_t (2 x_tp δ_t + δ_t²) (typicality.h).
  void typicality_bases() {
    gate_sum_.resize(mine_.size());
    gate_frames_.resize(mine_.size());
    for (std::size_t q = 0; q < mine_.size(); ++q) {
      const std::int64_t i = mine_[q];
      const std::uint8_t* re = job_.real.data() + static_cast<std::size_t>(i) * job_.L;
      int nf = 0;
      for (int t = 0; t < job_.L; ++t) nf += re[t] != 0;
      gate_frames_[q] = nf;
      gate_sum_[q] = gate_.score(job_.pcs.data() + static_cast<std::size_t>(i) * job_.seq, re, job_.L) * nf;
    }
  }

  /// Items [g0, g1) of mine_: their block-0 bases, then their rows in batches.
  void run_group(std::size_t g0, std::size_t g1) {
    const std::size_t seq = job_.seq;
    const std::int64_t ng = static_cast<std::int64_t>(g1 - g0);
    gx_.resize(static_cast<std::size_t>(ng) * seq);
    for (std::size_t q = g0; q < g1; ++q)
      std::copy(job_.pcs.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(mine_[q]) * seq),
                job_.pcs.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(mine_[q] + 1) * seq),
                gx_.begin() + static_cast<std::ptrdiff_t>((q - g0) * seq));
    eng_.bases(gx_.data(), ng, p0_, x2_);
    // Rows item-major (all variants of an item together: the same start).
    const std::int64_t total = ng * job_.num_variants;
    for (std::int64_t r0 = 0; r0 < total; r0 += job_.B) run_batch(g0, r0, std::min(job_.B, total - r0));
  }

  /// The plan start of rows [r0, r0 + cnt) of the group from g0: the earliest start of their
  /// items, rounded down to a multiple of kStartQuantum (0 without padding).
  int batch_start(std::size_t g0, std::int64_t r0, std::int64_t cnt) const {
    int s = job_.L;
    for (std::int64_t r = r0; r < r0 + cnt; ++r)
      s = std::min(s, job_.start[static_cast<std::size_t>(mine_[g0 + static_cast<std::size_t>(r / job_.num_variants)])]);
    return job_.pad.empty() ? 0 : s / kStartQuantum * kStartQuantum;
  }

  void run_batch(std::size_t g0, std::int64_t r0, std::int64_t cnt) {
    const int s = batch_start(g0, r0, cnt);
    const int cm = first_at_least(job_.geo.mid[0], s), co = first_at_least(job_.geo.in[1], s);
    rows_.clear();
    for (std::int64_t r = 0; r < cnt; ++r) edit_row(g0, r0, r, cm, co);
    eng_.forward_fused(s, cnt, a0_buf_.data(), x2_buf_.data(), logit_buf_.data());
    store_batch(cnt);
  }

  /// Row r of the batch from r0: the block-0 bases of its item from the plan start on (conv0 from
  /// index cm, residual from co), then its variant's edit.
  void edit_row(std::size_t g0, std::int64_t r0, std::int64_t r, int cm, int co) {
    const int L = job_.L, D = job_.D;
    const std::int64_t nm = job_.nm0 - cm, no = job_.no0 - co;
    const std::int64_t li = (r0 + r) / job_.num_variants;
    const int v = static_cast<int>((r0 + r) % job_.num_variants);
    const std::int64_t i = mine_[g0 + static_cast<std::size_t>(li)];
    rows_.emplace_back(v, i);
    float* a0 = a0_buf_.data() + static_cast<std::size_t>(r * nm * F_);
    float* xr = x2_buf_.data() + static_cast<std::size_t>(r * no * F_);
    std::copy(p0_.begin() + static_cast<std::ptrdiff_t>((li * job_.nm0 + cm) * F_),
              p0_.begin() + static_cast<std::ptrdiff_t>((li + 1) * job_.nm0 * F_), a0);
    std::copy(x2_.begin() + static_cast<std::ptrdiff_t>((li * job_.no0 + co) * F_),
              x2_.begin() + static_cast<std::ptrdiff_t>((li + 1) * job_.no0 * F_), xr);
    std::fill(delta_.begin(), delta_.end(), 0.f);
    const float* sq = job_.pcs.data() + static_cast<std::size_t>(i) * job_.seq;
    const std::uint8_t* re = job_.real.data() + static_cast<std::size_t>(i) * L;
    const int p = job_.delta_fn(v, sq, re, delta_.data());
    if (gate_.enabled()) row_score_[static_cast<std::size_t>(r)] = gate_score(g0 + static_cast<std::size_t>(li), p, sq);
    if (p < 0) return;
    if (p >= D) throw DataError("predict_pc_deltas: variant " + std::to_string(v) + " edits PC " + std::to_string(p) +
                                " of " + std::to_string(D));
    for (int t = 0; t < L; ++t)
      if (!re[t] && delta_[static_cast<std::size_t>(t)] != 0.f)
        throw DataError("predict_pc_deltas: variant " + std::to_string(v) + " edits padding frame " +
                        std::to_string(t) + " of trajectory " + std::to_string(job_.items[static_cast<std::size_t>(i)].id) +
                        " (edits touch real frames only)");
    add_edit(p, a0, cm, nm, xr, co, no);
  }

  /// The typicality score of item gq of mine_ (sequence sq) with the edit in delta_ on PC p.
  double gate_score(std::size_t gq, int p, const float* sq) const {
    const int L = job_.L, D = job_.D;
    double add = 0;
    if (p >= 0 && p < D)
      for (int t = 0; t < L; ++t) {
        const double dv = delta_[static_cast<std::size_t>(t)];
        if (dv != 0) add += dv * (2.0 * sq[static_cast<std::size_t>(t) * D + p] + dv);
      }
    const int nf = gate_frames_[gq];
    return nf > 0 ? (gate_sum_[gq] + (p >= 0 && p < D ? gate_.inv_var[static_cast<std::size_t>(p)] * add : 0.0)) / nf : 0.0;
  }

  /// Adds the edit delta_ of PC p to a row's block-0 conv0 pre-activations a0 (nm rows from
  /// index cm) and residual input xr (no rows from index co): Σ_j δ(q − (k−1−j) d) W0[:, p, j]
  /// and δ(q) Ws[:, p].
  void add_edit(int p, float* a0, int cm, std::int64_t nm, float* xr, int co, std::int64_t no) const {
    const Geometry& geo = job_.geo;
    const int k = geo.k, d0 = geo.dil[0], F = F_;
    for (std::int64_t q = 0; q < nm; ++q) {
      const int pos = geo.mid[0][static_cast<std::size_t>(cm + q)];
      float* dst = a0 + q * F;
      for (int j = 0; j < k; ++j) {
        const int t = pos - (k - 1 - j) * d0;
        if (t < 0) continue;
        const float dv = delta_[static_cast<std::size_t>(t)];
        if (dv == 0.f) continue;
        const float* w = eng_.w0_col().data() + (static_cast<std::size_t>(p) * k + j) * F;
        for (int f = 0; f < F; ++f) dst[f] += dv * w[f];
      }
    }
    for (std::int64_t q = 0; q < no; ++q) {
      const float dv = delta_[static_cast<std::size_t>(geo.in[1][static_cast<std::size_t>(co + q)])];
      if (dv == 0.f) continue;
      float* dst = xr + q * F;
      if (eng_.identity_shortcut()) {
        dst[p] += dv;
      } else {
        const float* w = eng_.ws_col().data() + static_cast<std::size_t>(p) * F;
        for (int f = 0; f < F; ++f) dst[f] += dv * w[f];
      }
    }
  }

  /// Classes (and probabilities) of the batch's rows from its logits, after the typicality gate.
  void store_batch(std::int64_t cnt) {
    const std::size_t n = static_cast<std::size_t>(job_.n);
    auto pr = torch::softmax(torch::from_blob(logit_buf_.data(), {cnt, 3}, torch::kFloat32), 1).contiguous();
    const float* pp = pr.data_ptr<float>();
    for (std::int64_t r = 0; r < cnt; ++r) {
      static const float kRejected[3] = {0.f, 0.f, 1.f};
      const bool rejected = gate_.rejects(row_score_[static_cast<std::size_t>(r)]);
      const float* q = rejected ? kRejected : pp + r * 3;
      const int best = stats::argmax(q, 3);
      const auto& row = rows_[static_cast<std::size_t>(r)];
      const std::size_t o = static_cast<std::size_t>(row.first) * n + static_cast<std::size_t>(row.second);
      job_.pred[o] = static_cast<std::uint8_t>(best);
      if (job_.raw_pred)
        (*job_.raw_pred)[o] = static_cast<std::uint8_t>(std::max_element(pp + r * 3, pp + r * 3 + 3) - (pp + r * 3));
      if (job_.probs) std::copy(q, q + 3, job_.probs->begin() + static_cast<std::ptrdiff_t>(o * 3));
    }
  }

  const PcDeltaJob& job_;
  const std::vector<std::int64_t> mine_;  // the model's items, latest plan start first
  ModelEngine& eng_;
  const TypicalityGate& gate_;
  const int F_;
  std::vector<float> delta_;                       // (L) the current row's edit
  std::vector<double> gate_sum_, row_score_;
  std::vector<int> gate_frames_;
  std::vector<float> p0_, x2_, gx_;                // block-0 bases of the group
  std::vector<float> a0_buf_, x2_buf_, logit_buf_;  // the batch
  std::vector<std::pair<int, std::int64_t>> rows_;  // (variant, item) of each batch row
};

/// Part `part` of `parts` (1 or 2) of a model's items in run order. The split falls where both
/// an item group and a row batch end, so each part runs exactly the batches that the whole list
/// would (groups larger than the list are the one exception: each part then is its own group,
/// whose block-0 bases come from a matrix product over fewer rows).
std::vector<std::int64_t> items_part(const PcDeltaJob& job, std::vector<std::int64_t> mine, int F, int part, int parts) {
  if (parts == 1) return mine;
  const auto n = static_cast<std::int64_t>(mine.size());
  const std::int64_t V = job.num_variants, G = group_items(job, F);
  const std::int64_t batch_items = job.B / std::gcd(job.B, V);  // items whose rows fill whole batches
  const std::int64_t unit = G < n ? std::lcm(G, batch_items) : batch_items;
  const std::int64_t h = (n / 2 + unit - 1) / unit * unit;
  if (h >= n) return part == 0 ? mine : std::vector<std::int64_t>{};
  return part == 0 ? std::vector<std::int64_t>(mine.begin(), mine.begin() + h)
                   : std::vector<std::int64_t>(mine.begin() + h, mine.end());
}

/// Model m's predictions of predict_pc_deltas, or part `part` of `parts` of them (on a worker
/// with its own engine and buffers).
void predict_model_pc_deltas(const PcDeltaJob& job, int m, int part = 0, int parts = 1) {
  c10::InferenceMode worker_guard;
  auto mine = job.by_model[static_cast<std::size_t>(m)];
  if (mine.empty()) return;
  std::stable_sort(mine.begin(), mine.end(), [&](std::int64_t a, std::int64_t b) {
    return job.start[static_cast<std::size_t>(a)] > job.start[static_cast<std::size_t>(b)];
  });
  const TcnImpl& tcn = job.models.tcn(m);
  if (tcn.options().kernel_size != job.geo.k || tcn.options().dilations != job.geo.dil)
    throw ModelError("predict_pc_deltas: the models of the set have different TCN geometries");
  ModelEngine eng(tcn, job.geo);
  mine = items_part(job, std::move(mine), eng.F(), part, parts);
  if (mine.empty()) return;
  ModelPcRun(job, std::move(mine), eng, job.models.gate(m)).run();
}

}  // namespace

namespace {

/// predict_pc_deltas' work on this rank's models: fills `pred` (and probs / raw_pred).
void run_pc_delta_models(const ModelSet& models, const std::vector<PerturbItem>& items, const std::vector<float>& pcs,
                         const std::vector<std::uint8_t>& real, int num_variants, const PcDeltaFn& delta_fn,
                         std::int64_t memory_budget_mb, std::vector<float>* probs, std::int64_t batch_rows,
                         std::vector<std::uint8_t>* raw_pred, const RankShare& share, std::vector<std::uint8_t>& pred) {
  const std::int64_t n = static_cast<std::int64_t>(items.size());
  const int L = models.max_len(), D = models.dims();
  c10::InferenceMode guard;
  std::vector<float> pad = reference_padding(pcs, real, n, L, D);
  std::vector<int> start = first_real_frames(pcs, real, pad, n, L, D);
  Geometry geo = geometry_of(models.tcn(0), L);
  const auto nm0 = static_cast<std::int64_t>(geo.mid[0].size()), no0 = static_cast<std::int64_t>(geo.in[1].size());
  const PcDeltaJob job{models, items, pcs, real, num_variants, delta_fn, memory_budget_mb,
                       batch_rows > 0 ? batch_rows : kDefaultRows, n, L, D, static_cast<std::size_t>(L) * D,
                       items_by_model(models, items), std::move(pad), std::move(start), std::move(geo), nm0, no0,
                       pred, probs, raw_pred};
  // One model per worker (each with its own engine and buffers; rows of different models write
  // disjoint outputs). Workers run single-threaded kernels, so use as many as LibTorch threads.
  std::vector<int> models_to_run;
  for (int m = 0; m < models.num_models(); ++m)
    if (!job.by_model[static_cast<std::size_t>(m)].empty() && share.owns_model(m)) models_to_run.push_back(m);
  const int workers = std::max(1, std::min<int>(at::get_num_threads(), static_cast<int>(models_to_run.size())));
  if (workers == 1) {
    for (int m : models_to_run) predict_model_pc_deltas(job, m);
    return;
  }
  // When the models do not divide evenly among the workers, the last round would leave workers
  // idle (5 models on 2: a sixth of the time): then each model is run as two halves.
  const int parts = models_to_run.size() % static_cast<std::size_t>(workers) == 0 ? 1 : 2;
  // Each worker runs single-threaded kernels: a std::thread starts with OpenMP's default team
  // size (all cores), and teams of 2 per worker on 2 cores spin in sched_yield for minutes.
  parallel_for(static_cast<int>(models_to_run.size()) * parts, workers,
               [&](int u) { predict_model_pc_deltas(job, models_to_run[static_cast<std::size_t>(u / parts)], u % parts, parts); },
               [] { at::set_num_threads(1); });
}

}  // namespace

std::vector<std::uint8_t> predict_pc_deltas(const ModelSet& models, const std::vector<PerturbItem>& items,
                                            const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                            int num_variants, const PcDeltaFn& delta_fn, std::int64_t memory_budget_mb,
                                            std::vector<float>* probs, std::int64_t batch_rows,
                                            std::vector<std::uint8_t>* raw_pred, const RankShare& share) {
  if (models.on_device() || reduced_precision())  // the fused engine is the CPU's float32 path
    return predict_pc_deltas_batched(models, items, pcs, real, num_variants, delta_fn, memory_budget_mb, probs, raw_pred,
                                     share);
  const std::int64_t n = static_cast<std::int64_t>(items.size());
  std::vector<std::uint8_t> pred =
      perturb::detail::variant_prediction_buffer("predict_pc_deltas", models, items, pcs, real, num_variants, probs);
  if (raw_pred) raw_pred->assign(pred.size(), 0);
  if (n == 0 || num_variants == 0) return pred;
  run_pc_delta_models(models, items, pcs, real, num_variants, delta_fn, memory_budget_mb, probs, batch_rows, raw_pred,
                      share, pred);
  share.merge(pred);  // the other ranks' models
  if (probs) share.merge(*probs);
  if (raw_pred) share.merge(*raw_pred);
  return pred;
}

}  // namespace taupe
