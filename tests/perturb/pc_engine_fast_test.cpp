// The fast single-PC engine (predict_pc_deltas) against the straightforward path
// (predict_variants: copy the input, edit it, pruned forward): PC shifts, window shifts and
// ablation give the same probabilities to 1e-5 and the same classes, on the tiny fixture
// (identity shortcut, block 0 reading only part of the sequence, padded inputs) and on a model
// with a 1×1 shortcut (input dims ≠ filters) and longer padding; and the experiments (pc-shift,
// pc-ablate, pc-window) produce the same tables through either path. The accelerator path
// (predict_pc_deltas_batched) matches both.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

#include <ATen/Parallel.h>

#include "perturb/perturb_fixture.h"

namespace taupe {
namespace {

struct Variant {
  enum Kind { kNone, kShift, kWindow, kAblate } kind = kNone;
  int pc = 0;
  float add = 0;
  int window = 0;
};

std::vector<Variant> variants_for(int D) {
  std::vector<Variant> v;
  v.push_back({});
  for (int p = 0; p < D; ++p)
    for (float a : {-6.f, -1.5f, 0.f, 0.5f, 4.f}) v.push_back({Variant::kShift, p, a, 0});
  for (int p = 0; p < D; p += 2) v.push_back({Variant::kAblate, p, 0, 0});
  for (int w : {1, 3, 100}) v.push_back({Variant::kWindow, D - 1, 2.5f, w});
  return v;
}

/// Returns the rows the typicality gate rejected (probabilities exactly (0, 0, 1)) in both paths.
int compare_paths(const ModelSet& ms, const std::vector<PerturbItem>& items, const std::vector<float>& pcs,
                  const std::vector<std::uint8_t>& real, std::int64_t budget_mb, std::int64_t batch_rows) {
  const int L = ms.max_len(), D = ms.dims();
  const auto vars = variants_for(D);
  const int V = static_cast<int>(vars.size());
  auto modify = [&](int v, float* s, const std::uint8_t* r) {
    const auto& x = vars[static_cast<std::size_t>(v)];
    if (x.kind == Variant::kShift) apply_pc_shift(s, r, L, D, x.pc, x.add);
    if (x.kind == Variant::kWindow) apply_window_shift(s, r, L, D, x.pc, x.add, x.window);
    if (x.kind == Variant::kAblate) apply_pc_ablate(s, r, L, D, x.pc);
  };
  auto delta = [&](int v, const float* s, const std::uint8_t* r, float* d) {
    const auto& x = vars[static_cast<std::size_t>(v)];
    if (x.kind == Variant::kNone) return -1;
    int left = x.window;
    for (int t = L - 1; t >= 0; --t) {
      if (!r[t]) continue;
      if (x.kind == Variant::kShift) d[t] = x.add;
      if (x.kind == Variant::kAblate) d[t] = -s[static_cast<std::size_t>(t) * D + x.pc];
      if (x.kind == Variant::kWindow && left-- > 0) d[t] = x.add;
    }
    return x.pc;
  };
  std::vector<float> pr_ref, pr_fast, pr_batched;
  std::vector<std::uint8_t> raw_fast, raw_batched;
  const auto ref = predict_variants(ms, items, pcs, real, V, modify, 256, &pr_ref);
  const auto fast = predict_pc_deltas(ms, items, pcs, real, V, delta, budget_mb, &pr_fast, batch_rows, &raw_fast);
  // The accelerator path (the same deltas through the batched forward) gives the reference's
  // probabilities, and the same classes before the gate as the fused engine.
  const auto batched =
      predict_pc_deltas_batched(ms, items, pcs, real, V, delta, std::max<std::int64_t>(1, budget_mb), &pr_batched, &raw_batched);
  EXPECT_EQ(batched, ref);
  EXPECT_EQ(raw_batched, raw_fast);
  for (std::size_t k = 0; k < pr_ref.size(); ++k) EXPECT_NEAR(pr_batched[k], pr_ref[k], 1e-6) << k;
  EXPECT_EQ(ref.size(), fast.size());
  if (ref.size() != fast.size()) return 0;
  double worst = 0;
  int rejected = 0;
  int class_diff = 0;
  for (std::size_t r = 0; r < ref.size(); ++r) {
    for (int c = 0; c < 3; ++c) worst = std::max(worst, static_cast<double>(std::fabs(pr_ref[r * 3 + c] - pr_fast[r * 3 + c])));
    rejected += pr_ref[r * 3 + 2] == 1.f && pr_fast[r * 3 + 2] == 1.f && pr_ref[r * 3] == 0.f && pr_fast[r * 3] == 0.f;
    if (ref[r] != fast[r]) {
      // Allowed only at a tie of the top two probabilities (none expected here).
      std::vector<float> q(pr_ref.begin() + static_cast<std::ptrdiff_t>(r * 3), pr_ref.begin() + static_cast<std::ptrdiff_t>(r * 3 + 3));
      std::sort(q.begin(), q.end());
      EXPECT_LT(q[2] - q[1], 1e-5) << "row " << r;
      ++class_diff;
    }
  }
  EXPECT_LT(worst, 1e-5);
  EXPECT_EQ(class_diff, 0);
  // The unperturbed variant equals the model set's own prediction to float rounding.
  for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(fast[i], ref[i]);
  return rejected;
}

TEST(PerturbPcEngine, FastPathMatchesStraightforwardPathOnTinyModels) {
  PerturbContext ctx = test::tiny_context();
  // Receptive field 1 + 2 (1 + 2 + 4) = 15 < max_len 16: block 0 reads part of the input only.
  ASSERT_EQ(ctx.models().config().dilations, (std::vector<int>{1, 2, 4}));
  ASSERT_EQ(ctx.models().max_len(), 16);
  // Shifts of −6 / +4 (data sd ≈ 0.5) leave the data cloud: the typicality gate rejects them in
  // both paths alike.
  ASSERT_TRUE(ctx.models().gate(0).enabled());
  EXPECT_GT(compare_paths(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 256, 0), 0);
  // Odd batches spanning items, one item per base group.
  compare_paths(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 0, 7);
}

TEST(PerturbPcEngine, ModelsSplitInHalvesAcrossWorkersGiveTheSamePredictions) {
  // Three models on two workers: each model runs as two halves of its items, split where a
  // group and a row batch end. One worker runs the models whole, one after the other.
  PerturbContext ctx = test::tiny_context(3);
  const ModelSet& ms = ctx.models();
  ASSERT_EQ(ms.num_models(), 3);
  const int D = ms.dims();
  auto delta = [&](int v, const float*, const std::uint8_t* r, float* d) {
    for (int t = 0; t < ms.max_len(); ++t)
      if (r[t]) d[t] = 0.75f * static_cast<float>(v % 5) - 1.5f;
    return v % D;
  };
  const int V = 5 * D, threads = at::get_num_threads();
  std::vector<float> pr_whole, pr_split;
  at::set_num_threads(1);
  const auto whole = predict_pc_deltas(ms, ctx.items(), ctx.base_pc(), ctx.base_real(), V, delta, 256, &pr_whole, 7);
  at::set_num_threads(2);
  const auto split = predict_pc_deltas(ms, ctx.items(), ctx.base_pc(), ctx.base_real(), V, delta, 256, &pr_split, 7);
  at::set_num_threads(threads);
  EXPECT_EQ(split, whole);
  ASSERT_EQ(pr_split.size(), pr_whole.size());
  for (std::size_t k = 0; k < pr_whole.size(); ++k) EXPECT_NEAR(pr_split[k], pr_whole[k], 1e-6) << k;
  // And the split path against the straightforward one.
  at::set_num_threads(2);
  compare_paths(ms, ctx.items(), ctx.base_pc(), ctx.base_real(), 256, 0);
  compare_paths(ms, ctx.items(), ctx.base_pc(), ctx.base_real(), 0, 7);
  at::set_num_threads(threads);
}

TEST(PerturbPcEngine, TypicalityGateOfTheModelSet) {
  PerturbContext ctx = test::tiny_context();
  const ModelSet& ms = ctx.models();
  const int L = ms.max_len(), D = ms.dims();
  const auto& items = ctx.items();
  const std::size_t seq = static_cast<std::size_t>(L) * D;
  for (int m = 0; m < ms.num_models(); ++m) {
    const TypicalityGate& g = ms.gate(m);
    ASSERT_TRUE(g.enabled());
    EXPECT_DOUBLE_EQ(g.quantile, 0.99);
    EXPECT_EQ(static_cast<int>(g.inv_var.size()), D);
  }
  // The mask overload and padding recognition agree; unperturbed real inputs are mostly accepted.
  std::vector<float> x;
  std::vector<std::uint8_t> mask;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (items[i].model == 0) {
      x.insert(x.end(), ctx.base_pc().begin() + static_cast<std::ptrdiff_t>(i * seq),
               ctx.base_pc().begin() + static_cast<std::ptrdiff_t>((i + 1) * seq));
      mask.insert(mask.end(), ctx.base_real().begin() + static_cast<std::ptrdiff_t>(i * L),
                  ctx.base_real().begin() + static_cast<std::ptrdiff_t>((i + 1) * L));
    }
  const std::int64_t n = static_cast<std::int64_t>(mask.size()) / L;
  const auto a = ms.predict_pc(0, x.data(), n, mask.data());
  const auto b = ms.predict_pc(0, x);
  ASSERT_EQ(a.size(), b.size());
  int rejected = 0;
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-6);
  for (std::int64_t r = 0; r < n; ++r) rejected += a[static_cast<std::size_t>(r) * 3 + 2] == 1.f;
  EXPECT_LE(rejected, n / 5);
  // Every real frame moved 10 sd along PC 0: out of distribution, predicted synthetic (0, 0, 1).
  const double sd0 = 1.0 / std::sqrt(ms.gate(0).inv_var[0]);
  for (std::int64_t r = 0; r < n; ++r) apply_pc_shift(x.data() + r * seq, mask.data() + r * L, L, D, 0, static_cast<float>(10 * sd0));
  const auto c = ms.predict_pc(0, x.data(), n, mask.data());
  for (std::int64_t r = 0; r < n; ++r) {
    EXPECT_EQ(c[static_cast<std::size_t>(r) * 3], 0.f);
    EXPECT_EQ(c[static_cast<std::size_t>(r) * 3 + 2], 1.f);
  }
  // The TCN alone (logits) is not gated.
  const auto lg = ms.logits_pc(0, x.data(), n);
  EXPECT_NE(lg[0], 0.f);
}

TEST(PerturbPcEngine, FastPathMatchesWithShortcutConvAndLongPadding) {
  // D = 6 latent dims, 10 filters (block 0 has a 1×1 shortcut conv), dilations 1..8, max_len 40,
  // trajectories 3..30 frames (most of every input is padding).
  const auto dir = std::filesystem::temp_directory_path() / ("taupe-pc-engine-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const int D = 6;
  EncodingSet set;
  set.latent_dims = D;
  set.glimpse_file = "synthetic";
  Rng rng(9);
  std::vector<float> all;
  for (int i = 0; i < 30; ++i) {
    EncodedTrajectory e;
    e.id = 500 + i;
    e.fate = i % 2 ? Fate::kApoptosis : Fate::kMitosis;
    const int T = 3 + (i * 11) % 28;
    e.cutoff = T - 1;
    for (int f = 0; f < T; ++f)
      for (int d = 0; d < D; ++d) {
        const float v = static_cast<float>((d == 1 ? (i % 2 ? 0.2 : -0.2) * f : 0.0) + rng.normal(0, 0.6));
        e.z_mean.push_back(v);
        e.z_log_var.push_back(0.f);
        all.push_back(v);
      }
    set.trajectories.push_back(e);
  }
  const Pca pca = pca_fit(all, D);
  std::filesystem::create_directories(dir);
  write_pca(model_files::pca(dir), pca);
  update_model_manifest(dir, "projector", {{"dims", pca.dims}});
  TemporalConfig cfg;
  cfg.max_len = 40;
  cfg.filters = 10;
  cfg.dilations = {1, 2, 4, 8};
  cfg.head_units = 8;
  cfg.batch_size = 16;
  cfg.steps_per_epoch = 3;
  cfg.epochs = 1;
  cfg.crop_max = 8;
  CvConfig cv;
  cv.folds = 2;
  cv.seed = 4;
  run_cross_validation(set, pca, cfg, cv, dir);
  PerturbContext ctx = PerturbContext::from_parts(ModelSet::load(dir), set);
  compare_paths(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 256, 0);
  compare_paths(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 0, 5);
  std::filesystem::remove_all(dir);
}

// The experiments' own edits (eq. 8 shift, window, ablation) through the fast engine give the
// same tables as the straightforward path with apply_pc_shift / apply_window_shift / apply_pc_ablate.
void expect_same_fractions(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      EXPECT_TRUE(std::isnan(a[i]) && std::isnan(b[i])) << what << " " << i;
    } else {
      EXPECT_EQ(a[i], b[i]) << what << " " << i;
    }
  }
}

TEST(PerturbPcEngine, ExperimentsEqualTheStraightforwardPath) {
  PerturbContext ctx = test::tiny_context();
  const ModelSet& ms = ctx.models();
  const int L = ms.max_len(), D = ms.dims(), M = ms.num_models();
  PerturbConfig cfg;
  cfg.shift_min = -3;
  cfg.shift_max = 3;
  cfg.shift_step = 1.5;
  cfg.shift_units = "sd";
  cfg.bootstrap_reps = 20;
  cfg.window_lengths = {1, 3, 40};
  cfg.window_shifts = {-2.5, 2.0};
  const auto& items = ctx.items();
  perturb::Strata st;
  st.num_models = M;
  for (const auto& it : items) st.model.push_back(it.model), st.truth.push_back(it.truth);
  st.finalize();
  // pc-shift.
  const auto shift = run_pc_shift(ctx, cfg);
  const int S = static_cast<int>(shift.shifts.size());
  perturb::Sweep sw;
  sw.num_p = D, sw.num_s = S, sw.n = static_cast<std::int64_t>(items.size());
  sw.pred = predict_variants(
      ms, items, ctx.base_pc(), ctx.base_real(), D * S,
      [&](int v, float* x, const std::uint8_t* r) {
        apply_pc_shift(x, r, L, D, v / S,
                       static_cast<float>(shift.shifts[static_cast<std::size_t>(v % S)] *
                                          shift.pc_scale[static_cast<std::size_t>(v / S)]));
      },
      256);
  expect_same_fractions(shift.fractions, perturb::sweep_fractions(sw, st), "pc-shift");
  // pc-ablate.
  const auto ab = run_pc_ablate(ctx, cfg);
  const auto pa = predict_variants(
      ms, items, ctx.base_pc(), ctx.base_real(), D,
      [&](int v, float* x, const std::uint8_t* r) { apply_pc_ablate(x, r, L, D, v); }, 256);
  for (int p = 0; p < D; ++p) {
    std::vector<int> pred(pa.begin() + static_cast<std::ptrdiff_t>(p * items.size()),
                          pa.begin() + static_cast<std::ptrdiff_t>((p + 1) * items.size()));
    const auto cs = perturb::confusion_stats(M, st.model, st.truth, pred);
    for (int m = 0; m < M; ++m)
      for (int c = 0; c < 2; ++c)
        for (int j = 0; j < 3; ++j) {
          const double a = ab.ablated[static_cast<std::size_t>(p)].per_model[static_cast<std::size_t>(m)][c][j];
          const double b = cs.per_model[static_cast<std::size_t>(m)][c][j];
          if (!std::isnan(a) || !std::isnan(b)) {
            EXPECT_EQ(a, b) << "pc-ablate PC " << p;
          }
        }
  }
  // pc-window (PC 1).
  const auto w = run_pc_window(ctx, cfg, 1);
  const int NL = static_cast<int>(cfg.window_lengths.size()), NW = static_cast<int>(cfg.window_shifts.size());
  const double scale = ms.pca().pc_sd(1);
  perturb::Sweep ww;
  ww.num_p = NW, ww.num_s = NL, ww.n = static_cast<std::int64_t>(items.size());
  ww.pred = predict_variants(
      ms, items, ctx.base_pc(), ctx.base_real(), NW * NL,
      [&](int v, float* x, const std::uint8_t* r) {
        apply_window_shift(x, r, L, D, 1, static_cast<float>(cfg.window_shifts[static_cast<std::size_t>(v / NL)] * scale),
                           cfg.window_lengths[static_cast<std::size_t>(v % NL)]);
      },
      256);
  const auto f = perturb::sweep_fractions(ww, st);
  for (int l = 0; l < NL; ++l)
    for (int s = 0; s < NW; ++s)
      for (int m = 0; m < M; ++m)
        for (int c = 0; c < 2; ++c)
          for (int j = 0; j < 3; ++j) {
            const double a = w.fractions[perturb::frac_index(l, s, m, c, j, NW, M)];
            const double b = f[perturb::frac_index(s, l, m, c, j, NL, M)];
            if (!std::isnan(a) || !std::isnan(b)) {
              EXPECT_EQ(a, b) << "pc-window L " << l << " shift " << s;
            }
          }
}

TEST(PerturbPcEngine, EditingPaddingIsRefused) {
  PerturbContext ctx = test::tiny_context();
  const int L = ctx.models().max_len();
  EXPECT_THROW(predict_pc_deltas(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 1,
                                 [&](int, const float*, const std::uint8_t* r, float* d) {
                                   for (int t = 0; t < L; ++t) d[t] = r[t] ? 0.f : 1.f;
                                   return 0;
                                 },
                                 256),
               DataError);
}

}  // namespace
}  // namespace taupe
