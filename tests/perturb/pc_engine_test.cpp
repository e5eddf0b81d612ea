// The PC-space engine on a tiny trained model set: eq. 8 leaves padding alone, shifting by 0
// reproduces the unperturbed predictions exactly, and the experiments produce consistent tables.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>

#include "perturb/perturb_fixture.h"
#include "taupe/temporal/sequence.h"

namespace taupe {
namespace {

TEST(PerturbPcShift, ShiftTouchesRealFramesOnly) {
  const int L = 4, D = 3;
  std::vector<float> seq = {9, 9, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6};  // frames 0,1 padding
  const std::vector<std::uint8_t> real = {0, 0, 1, 1};
  auto s = seq;
  apply_pc_shift(s.data(), real.data(), L, D, 1, 0.5f);
  const std::vector<float> expect = {9, 9, 9, 9, 9, 9, 1, 2.5f, 3, 4, 5.5f, 6};
  EXPECT_EQ(s, expect);
  s = seq;
  apply_window_shift(s.data(), real.data(), L, D, 2, -1.f, 1);
  EXPECT_EQ(s[8], 3.f);   // frame 2 outside the window of 1
  EXPECT_EQ(s[11], 5.f);  // frame 3 shifted
  s = seq;
  apply_window_shift(s.data(), real.data(), L, D, 0, 1.f, 10);  // window longer than the real part
  EXPECT_EQ(s[0], 9.f);
  EXPECT_EQ(s[6], 2.f);
  s = seq;
  apply_pc_ablate(s.data(), real.data(), L, D, 0);
  EXPECT_EQ(s[0], 9.f);
  EXPECT_EQ(s[6], 0.f);
  EXPECT_EQ(s[9], 0.f);
}

TEST(PerturbPcShift, ZeroShiftReproducesUnperturbedPredictions) {
  PerturbContext ctx = test::tiny_context();
  const auto& items = ctx.items();
  ASSERT_GT(items.size(), 10u);
  // Some inputs are padded.
  int padded = 0;
  for (std::size_t i = 0; i < items.size(); ++i) padded += ctx.base_real()[i * ctx.models().max_len()] == 0;
  EXPECT_GT(padded, 0);
  std::vector<float> p_base, p_zero;
  const auto base = predict_variants(ctx.models(), items, ctx.base_pc(), ctx.base_real(), 1,
                                     [](int, float*, const std::uint8_t*) {}, 256, &p_base);
  const int D = ctx.models().dims(), L = ctx.models().max_len();
  const auto zero = predict_variants(
      ctx.models(), items, ctx.base_pc(), ctx.base_real(), 3,
      [&](int v, float* s, const std::uint8_t* r) { apply_pc_shift(s, r, L, D, v, 0.0f); }, 1, &p_zero);
  for (int v = 0; v < 3; ++v)
    for (std::size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(zero[v * items.size() + i], base[i]);
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(p_zero[(v * items.size() + i) * 3 + k], p_base[i * 3 + k], 1e-6);
    }
  // Same as the raw-latent prediction of the model set (PCA inside the model).
  std::vector<int> idx;
  for (const auto& it : items) idx.push_back(it.enc_index);
  const auto b = build_inputs(ctx.encodings(), idx, L);
  for (int m = 0; m < ctx.models().num_models(); ++m)
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].model != m) continue;
      const auto pr = ctx.models().predict(m, b.x.data() + i * L * D, 1);
      for (int k = 0; k < 3; ++k) EXPECT_NEAR(pr[k], p_base[i * 3 + k], 1e-5);
    }
}

TEST(PerturbPcShift, ExperimentTablesAreConsistent) {
  PerturbContext ctx = test::tiny_context();
  PerturbConfig cfg;
  cfg.shift_min = -2;
  cfg.shift_max = 2;
  cfg.shift_step = 1;
  cfg.bootstrap_reps = 50;
  cfg.memory_budget_mb = 1;
  const auto r = run_pc_shift(ctx, cfg);
  const int D = ctx.models().dims(), M = ctx.models().num_models();
  ASSERT_EQ(r.slopes.size(), static_cast<std::size_t>(D));
  EXPECT_EQ(r.predictions, static_cast<std::int64_t>(D * 5 * ctx.items().size()));
  // Fractions of every (model, true class) row sum to 1, and shift 0 equals the baseline.
  const auto base = predict_variants(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 1,
                                     [](int, float*, const std::uint8_t*) {}, 256);
  std::vector<int> model, truth, pred(base.begin(), base.end());
  for (const auto& it : ctx.items()) model.push_back(it.model), truth.push_back(it.truth);
  const auto cs = perturb::confusion_stats(M, model, truth, pred);
  for (int p = 0; p < D; ++p)
    for (int m = 0; m < M; ++m)
      for (int c = 0; c < 2; ++c) {
        double s = 0;
        for (int j = 0; j < 3; ++j) s += r.fractions[perturb::frac_index(p, 0, m, c, j, 5, M)];
        EXPECT_NEAR(s, 1.0, 1e-12);
        for (int j = 0; j < 3; ++j)
          EXPECT_DOUBLE_EQ(r.fractions[perturb::frac_index(p, 2, m, c, j, 5, M)], cs.per_model[m][c][j]);
      }
  EXPECT_EQ(r.table().size(), static_cast<std::size_t>(D * 5 * M * 2));
  const auto j = r.to_json();
  EXPECT_EQ(j["per_pc"].size(), static_cast<std::size_t>(D));

  const auto ab = run_pc_ablate(ctx, cfg);
  EXPECT_EQ(ab.recall_drop.size(), static_cast<std::size_t>(D));
  cfg.window_lengths = {1, 4, 16};
  cfg.window_shifts = {0.0, 2.0};
  const auto w = run_pc_window(ctx, cfg, 0);
  // A zero shift on any window is the baseline.
  for (int l = 0; l < 3; ++l)
    EXPECT_DOUBLE_EQ(w.mean_fraction(l, 0, 1, 1), w.mean_fraction(0, 0, 1, 1));
}

TEST(PerturbRunAll, PcExperimentsWriteTheirFiles) {
  PerturbContext ctx = test::tiny_context();
  PerturbConfig cfg;
  cfg.shift_min = -1;
  cfg.shift_max = 1;
  cfg.shift_step = 1;
  cfg.bootstrap_reps = 20;
  cfg.window_lengths = {1, 2};
  const auto dir = std::filesystem::temp_directory_path() / ("taupe-perturb-all-" + std::to_string(::getpid()));
  const auto r = run_all(ctx, cfg, dir);  // no glimpses/VAE: image experiments are skipped
  EXPECT_FALSE(r.switch_neighbours.has_value());
  ASSERT_TRUE(r.pc_shift.has_value());
  for (const char* f : {"pc_shift.csv", "pc_shift_slopes.csv", "pc_ablate.csv", "pc_window.csv", "verdicts.csv",
                        "perturb.json"})
    EXPECT_TRUE(std::filesystem::exists(dir / "perturb" / f)) << f;
  EXPECT_FALSE(r.brief().empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace taupe
