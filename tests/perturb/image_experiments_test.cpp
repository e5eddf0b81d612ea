// The image-space experiments end to end on a tiny image world (untrained VAE, 2-fold tiny TCN
// set): normalise -> switch -> re-encode -> predict, shrink -> re-encode -> predict, and run_all
// with every experiment. Predictions are recomputed here from the public building blocks, so a
// wrong trajectory/model pairing, cutoff trimming, channel switch or encoder path fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "perturb/image_fixture.h"
#include "support/fixtures.h"
#include "taupe/perturb/image_ops.h"
#include "taupe/perturb/perturb.h"
#include "taupe/temporal/sequence.h"

namespace taupe {
namespace {

PerturbContext image_context() {
  const auto& w = test::image_world();
  return PerturbContext::load(w.model_dir, w.glimpses, w.encodings);
}

int argmax3(const float* p) { return static_cast<int>(std::max_element(p, p + 3) - p); }

/// Predicted class of every context item after `edit` on each normalised frame (nullptr: none),
/// recomputed from image_ops + VaeModel + trim_sequence + ModelSet::predict.
std::vector<int> recompute(PerturbContext& ctx, const PerturbConfig& cfg, const perturb::SwitchTarget* target,
                           std::int64_t* frames) {
  const ModelSet& ms = ctx.models();
  const int L = ms.max_len(), D = ms.dims();
  const VaeModel& vae = ctx.vae();
  GlimpseReader reader(ctx.glimpses());
  std::map<std::int64_t, std::size_t> by_id;
  for (std::size_t k = 0; k < reader.infos().size(); ++k) by_id[reader.infos()[k].id] = k;
  const std::size_t px = static_cast<std::size_t>(kGlimpseSize) * kGlimpseSize, isz = 2 * px;
  std::vector<int> out;
  *frames = 0;
  for (const auto& it : ctx.items()) {
    const GlimpseTrajectory g = reader.read(by_id.at(it.id));
    const int cutoff = g.cutoff;  // fixture: cutoff = last frame, encodings have every frame
    const int start = std::max(0, cutoff - L + 1), nf = cutoff - start + 1;
    *frames += nf;
    std::vector<float> imgs;
    for (int f = start; f <= cutoff; ++f) {
      auto n = perturb::normalize_image(g.images.data() + static_cast<std::size_t>(f) * isz, 2, kGlimpseSize,
                                        perturb::norm_params(cfg));
      if (target) perturb::switch_channels(n.data(), g.masks.data() + static_cast<std::size_t>(f) * px, kGlimpseSize, *target);
      imgs.insert(imgs.end(), n.begin(), n.end());
    }
    const EncodedBatch e = vae.encode(imgs.data(), nf, /*normalized=*/false);
    const Sequence s = trim_sequence(e.z_mean.data(), e.z_log_var.data(), nf, D, nf - 1, L);
    const auto p = ms.predict(it.model, s.mean.data(), 1);
    out.push_back(argmax3(p.data()));
  }
  return out;
}

std::vector<int> base_predictions(PerturbContext& ctx) {
  const auto p = predict_variants(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 1,
                                  [](int, float*, const std::uint8_t*) {}, 64);
  return std::vector<int>(p.begin(), p.end());
}

void expect_real_rows_equal(const perturb::ConfusionStats& got, const perturb::ConfusionStats& want, int M,
                            const char* what) {
  for (int m = 0; m < M; ++m)
    for (int c = 0; c < 2; ++c)
      for (int j = 0; j < 3; ++j)
        EXPECT_DOUBLE_EQ(got.per_model[static_cast<std::size_t>(m)][c][j], want.per_model[static_cast<std::size_t>(m)][c][j])
            << what << " model " << m << " class " << c << " -> " << j;
}

/// One run_all with every experiment on the image world, shared by the tests below (the image
/// experiments dominate the test time).
struct AllRun {
  PerturbContext ctx;
  PerturbConfig cfg;
  std::filesystem::path dir;
  PerturbAllResult r;
};
AllRun& all_run() {
  static std::unique_ptr<AllRun> run;
  if (run) return *run;
  PerturbConfig cfg;
  cfg.shift_min = -2;
  cfg.shift_max = 2;
  cfg.shift_step = 1;
  cfg.decode_shifts = {-2, 0, 2};
  cfg.bootstrap_reps = 50;
  cfg.example_count = 2;
  cfg.example_frames = 3;
  cfg.window_lengths = {1, 4};
  cfg.window_shifts = {-1, 1};
  cfg.shrink_factors = {0.8, 1.0, 1.25};
  // Removed when the test binary exits (the static outlives every test that reads it).
  static test::TempDir tmp("taupe-perturb-all-img");
  const auto dir = tmp.path();
  PerturbContext ctx = image_context();
  PerturbAllResult r = run_all(ctx, cfg, dir);
  run.reset(new AllRun{std::move(ctx), cfg, dir, std::move(r)});
  return *run;
}

TEST(PerturbImages, SwitchExperimentsMatchAnIndependentRecomputation) {
  AllRun& a = all_run();
  PerturbContext& ctx = a.ctx;
  ASSERT_EQ(ctx.world(), "mechanical");
  ASSERT_TRUE(ctx.has_vae());
  ASSERT_TRUE(a.r.switch_neighbours && a.r.switch_centre);
  const SwitchResult& sn = *a.r.switch_neighbours;
  const SwitchResult& sc = *a.r.switch_centre;
  const int M = ctx.models().num_models();
  ASSERT_EQ(M, 2);
  const auto& items = ctx.items();
  ASSERT_EQ(items.size(), 16u);

  std::vector<int> model, truth;
  for (const auto& it : items) model.push_back(it.model), truth.push_back(it.truth);
  std::int64_t frames = 0;
  const auto normed = recompute(ctx, a.cfg, nullptr, &frames);
  const auto nb_target = perturb::SwitchTarget::kNeighbours, c_target = perturb::SwitchTarget::kCentre;
  const auto switched = recompute(ctx, a.cfg, &nb_target, &frames);
  const auto centre = recompute(ctx, a.cfg, &c_target, &frames);
  const auto base = base_predictions(ctx);

  // Power of the comparisons below: the fixture's predictions must move with the input, else a
  // wrong pairing of trajectories, frames or conditions could go unnoticed.
  auto differ = [](const std::vector<int>& x, const std::vector<int>& y) { return x != y; };
  EXPECT_TRUE(differ(normed, switched) || differ(normed, centre)) << "fixture predictions ignore the switch";
  EXPECT_NE(std::count(base.begin(), base.end(), base[0]), static_cast<std::ptrdiff_t>(base.size()))
      << "fixture predicts one class for every trajectory";

  EXPECT_EQ(sn.trajectories, 16);
  EXPECT_EQ(sn.frames, frames);
  EXPECT_GT(sn.frames_per_second, 0.0);
  expect_real_rows_equal(sn.confusion[0], perturb::confusion_stats(M, model, truth, base), M, "unperturbed");
  expect_real_rows_equal(sn.confusion[1], perturb::confusion_stats(M, model, truth, normed), M, "normalised");
  expect_real_rows_equal(sn.confusion[2], perturb::confusion_stats(M, model, truth, switched), M, "switched");
  expect_real_rows_equal(sc.confusion[1], perturb::confusion_stats(M, model, truth, normed), M, "centre normalised");
  expect_real_rows_equal(sc.confusion[2], perturb::confusion_stats(M, model, truth, centre), M, "centre switched");
  // Every row of every condition sums to 1 (the synthetic row included).
  for (const auto& cs : sn.confusion)
    for (int m = 0; m < M; ++m)
      for (int c = 0; c < 3; ++c) {
        double s = 0;
        for (int j = 0; j < 3; ++j) s += cs.per_model[static_cast<std::size_t>(m)][c][j];
        EXPECT_NEAR(s, 1.0, 1e-12);
      }
  // Headline Δ recall = mean over models of (switched − normalised) recall.
  for (int c = 0; c < 2; ++c) {
    double d = 0;
    for (int m = 0; m < M; ++m)
      d += sn.confusion[2].per_model[static_cast<std::size_t>(m)][c][c] -
           sn.confusion[1].per_model[static_cast<std::size_t>(m)][c][c];
    EXPECT_NEAR(sn.delta_recall[static_cast<std::size_t>(c)].estimate, d / M, 1e-12);
    EXPECT_LE(sn.delta_recall[static_cast<std::size_t>(c)].lo, sn.delta_recall[static_cast<std::size_t>(c)].hi);
  }
  // Switch-centre: fraction of real trajectories predicted synthetic, per model then mean.
  double syn = 0;
  for (int m = 0; m < M; ++m) {
    double n = 0, s = 0;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].model == m) n += 1, s += centre[i] == 2;
    syn += s / n;
  }
  EXPECT_NEAR(sc.synthetic_fraction, syn / M, 1e-12);
  // Fig 3 panels written for the neighbour switch only.
  ASSERT_EQ(sn.example_files.size(), 2u);
  for (const auto& f : sn.example_files) EXPECT_GT(std::filesystem::file_size(a.dir / "perturb" / f), 100u) << f;
  EXPECT_TRUE(sc.example_files.empty());
  EXPECT_EQ(sn.table().size(), static_cast<std::size_t>(M * 3 * 3));
}

// encode_glimpse_file spreads trajectories over worker threads: the encodings (values, order)
// must not depend on how many.
TEST(PerturbImages, GlimpseEncodingIsTheSameForAnyWorkerCount) {
  const test::ImageWorld& w = test::image_world();
  const VaeModel vae = VaeModel::load(w.model_dir);
  EncodeGlimpsesOptions one;
  one.workers = 1;
  EncodeGlimpsesOptions three = one;
  three.workers = 3;
  const EncodingSet a = encode_glimpse_file(vae, w.glimpses, w.root / "enc_w1.h5", one);
  const EncodingSet b = encode_glimpse_file(vae, w.glimpses, w.root / "enc_w3.h5", three);
  ASSERT_EQ(a.trajectories.size(), b.trajectories.size());
  ASSERT_GT(a.trajectories.size(), 2u);
  for (std::size_t i = 0; i < a.trajectories.size(); ++i) {
    EXPECT_EQ(a.trajectories[i].id, b.trajectories[i].id);
    EXPECT_EQ(a.trajectories[i].rotation, b.trajectories[i].rotation);
    ASSERT_EQ(a.trajectories[i].z_mean.size(), b.trajectories[i].z_mean.size());
    for (std::size_t k = 0; k < a.trajectories[i].z_mean.size(); ++k)
      EXPECT_NEAR(a.trajectories[i].z_mean[k], b.trajectories[i].z_mean[k], 1e-5);
  }
}

TEST(PerturbImages, ShrinkNucleusIdentityReproducesStoredPredictions) {
  AllRun& a = all_run();
  PerturbContext& ctx = a.ctx;
  const NuclearPc& np = ctx.nuclear_pc();
  ASSERT_GE(np.pc, 0);
  std::int64_t nframes = 0;
  for (const auto& it : ctx.items())
    nframes += ctx.encodings().trajectories[static_cast<std::size_t>(it.enc_index)].cutoff + 1;
  EXPECT_EQ(np.frames, nframes);  // every frame ≤ cutoff of every evaluated trajectory
  EXPECT_GT(std::fabs(np.rho[static_cast<std::size_t>(np.pc)]), 0.0);

  ASSERT_TRUE(a.r.shrink_nucleus);
  const ShrinkNucleusResult& r = *a.r.shrink_nucleus;
  const int M = ctx.models().num_models();
  EXPECT_EQ(r.pc, np.pc);
  ASSERT_EQ(r.fractions.size(), static_cast<std::size_t>(3 * M * 9));
  // f = 1: identity image -> same encodings as stored -> the unperturbed predictions.
  const auto base = base_predictions(ctx);
  std::vector<int> model, truth;
  for (const auto& it : ctx.items()) model.push_back(it.model), truth.push_back(it.truth);
  const auto cs = perturb::confusion_stats(M, model, truth, base);
  for (int m = 0; m < M; ++m)
    for (int c = 0; c < 2; ++c)
      for (int j = 0; j < 3; ++j)
        EXPECT_DOUBLE_EQ(r.fractions[((static_cast<std::size_t>(1) * M + m) * 3 + c) * 3 + j],
                         cs.per_model[static_cast<std::size_t>(m)][c][j]);
  EXPECT_NEAR(r.pc_change[1], 0.0, 1e-4);
  EXPECT_DOUBLE_EQ(r.central_area_ratio[1], 1.0);
  // Shrinking by f scales the area by about f².
  EXPECT_NEAR(r.central_area_ratio[0], 0.64, 0.08);
  EXPECT_NEAR(r.central_area_ratio[2], 1.5625, 0.15);
  // The nuclear-size PC moves in opposite directions for shrink and growth.
  EXPECT_LT(r.pc_change[0] * r.pc_change[2], 0.0);
  EXPECT_FALSE(r.brief().empty());
}

TEST(PerturbImages, RunAllWritesEveryExperimentAndTruthVerdicts) {
  AllRun& a = all_run();
  const PerturbAllResult& r = a.r;
  ASSERT_TRUE(r.switch_neighbours && r.switch_centre && r.pc_shift && r.pc_ablate && r.pc_window && r.shrink_nucleus);
  EXPECT_EQ(r.world, "mechanical");
  EXPECT_EQ(r.pc_window->pc, a.ctx.nuclear_pc().pc);
  EXPECT_EQ(r.pc_shift->nuclear.pc, a.ctx.nuclear_pc().pc);
  EXPECT_FALSE(r.pc_shift->decoded_files.empty());
  for (const auto& f : r.files) EXPECT_TRUE(std::filesystem::exists(a.dir / "perturb" / f)) << f;
  for (const char* f : {"switch_neighbours.csv", "switch_centre.csv", "pc_shift.csv", "pc_shift_slopes.csv",
                        "pc_ablate.csv", "pc_window.csv", "shrink_nucleus.csv", "verdicts.csv", "perturb.json"})
    EXPECT_TRUE(std::filesystem::exists(a.dir / "perturb" / f)) << f;
  ASSERT_EQ(r.verdicts.size(), 3u);
  for (const auto& v : r.verdicts) {
    EXPECT_TRUE(v.has_truth) << v.experiment;
    const bool right = v.outcome == v.expected.outcome &&
                       (v.outcome != perturb::Outcome::kEffect || v.expected.direction == 0 || v.direction == v.expected.direction);
    EXPECT_EQ(v.correct, right) << v.experiment;
    if (v.outcome == perturb::Outcome::kInconclusive) {
      EXPECT_FALSE(v.correct) << v.experiment;
    }
  }
  // The mechanical world: the switch is expected to do nothing, a smaller nucleus to raise apoptosis.
  EXPECT_EQ(r.verdicts[0].expected.outcome, perturb::Outcome::kNoEffect);
  EXPECT_EQ(r.verdicts[1].expected.outcome, perturb::Outcome::kEffect);
  EXPECT_EQ(r.verdicts[1].expected.direction, +1);
  const auto j = r.to_json();
  ASSERT_EQ(j["verdicts"].size(), 3u);
  for (const auto& v : j["verdicts"]) {
    EXPECT_TRUE(v["outcome"] == "effect" || v["outcome"] == "no effect" || v["outcome"] == "inconclusive") << v.dump();
    EXPECT_TRUE(v["ci"].is_array()) << v.dump();
  }
  // The TCN alone beside the gated predictions.
  EXPECT_GE(r.switch_centre->synthetic_fraction_raw, 0.0);
  EXPECT_LE(r.switch_centre->gate_rejected, r.switch_centre->trajectories);
  EXPECT_EQ(r.pc_shift->range_raw.size(), r.pc_shift->slopes.size());
  EXPECT_TRUE(j.contains("switch_neighbours"));
  EXPECT_TRUE(j.contains("shrink_nucleus"));
}

}  // namespace
}  // namespace taupe
