// Acceptance statistics of the planted mechanisms at quick scale (label "slow"): AUCs, the
// logistic regression with both covariates, nuclear area vs density, population dynamics,
// pure-scrib control and fate balance. Ground truth only (no rendering), so minutes at most.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "taupe/simulate/simulate.h"

using namespace taupe;

namespace {
// configs/quick.toml: [simulate] fovs = 3; [extract] max_frames_before_cutoff = 48 (the
// statistics read the last 32 frames up to the cutoff).
SimConfig quick(const std::string& world) {
  SimConfig c;
  c.world = world;
  c.fovs = 3;
  c.threads = 0;
  return c;
}
ExtractConfig quick_extract() {
  ExtractConfig e;
  e.max_frames_before_cutoff = 48;
  e.patches_per_frame = 300;
  return e;
}
std::map<std::pair<std::string, double>, std::size_t>& patch_counts() {
  static std::map<std::pair<std::string, double>, std::size_t> m;
  return m;
}
const WorldStats& stats_of(const std::string& world, double scrib_fraction = 0.5) {
  static std::map<std::pair<std::string, double>, WorldStats> cache;
  auto key = std::make_pair(world, scrib_fraction);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  SimConfig c = quick(world);
  c.scrib_fraction = scrib_fraction;
  const auto fovs = simulate_all(c, 1, 0);
  std::vector<const FovHistory*> p;
  for (const auto& h : fovs) p.push_back(&h);
  WorldStats w = world_stats(p, quick_extract(), c.frame_interval_min);
  std::size_t patches = 0;
  for (const auto& h : fovs) patches += plan_patches(h.tracks, quick_extract(), 1).size();
  std::cout << world << " (scrib fraction " << scrib_fraction << "): " << w.brief() << "  patches " << patches
            << std::endl;
  patch_counts()[key] = patches;
  return cache.emplace(key, w).first->second;
}
void balanced(const WorldStats& w) {
  const double n = static_cast<double>(w.mitosis + w.apoptosis);
  EXPECT_GE(n, 1000);
  EXPECT_GE(w.mitosis / n, 0.30);
  EXPECT_GE(w.apoptosis / n, 0.30);
}
}  // namespace

TEST(PlantedMechanism, Mechanical) {
  const WorldStats& w = stats_of("mechanical");
  EXPECT_GE(w.auc_compression, 0.75);
  EXPECT_LE(w.auc_compression, 0.95);
  EXPECT_GE(w.auc_small_nucleus, 0.75) << "compression shows in the nuclear area";
  ASSERT_EQ(w.logit.coef.size(), 3u);
  EXPECT_GT(w.logit.ci_lo[1], 0.0) << "compression must matter";
  EXPECT_LE(w.logit.ci_lo[2], 0.0) << "WT contact must add nothing given compression";
  EXPECT_GE(w.logit.ci_hi[2], 0.0) << "WT contact must add nothing given compression";
  EXPECT_LE(w.spearman_area_density, -0.5);
  EXPECT_LT(w.scrib_fraction_last, w.scrib_fraction_first);
  balanced(w);
}

TEST(PlantedMechanism, Contact) {
  const WorldStats& w = stats_of("contact");
  EXPECT_GE(w.auc_wt, 0.75);
  EXPECT_LE(w.auc_wt, 0.95);
  ASSERT_EQ(w.logit.coef.size(), 3u);
  EXPECT_GT(w.logit.ci_lo[2], 0.0) << "WT contact must matter";
  EXPECT_LE(w.logit.ci_lo[1], 0.0) << "compression must add nothing given WT contact";
  EXPECT_GE(w.logit.ci_hi[1], 0.0) << "compression must add nothing given WT contact";
  balanced(w);
}

TEST(PlantedMechanism, Neutral) {
  const WorldStats& w = stats_of("neutral");
  EXPECT_GE(w.auc_compression, 0.40);
  EXPECT_LE(w.auc_compression, 0.60);
  EXPECT_GE(w.auc_wt, 0.40);
  EXPECT_LE(w.auc_wt, 0.60);
  // Nothing kills by size here, yet the nucleus still tells fates apart a little: cells divide
  // at the end of their cycle, at their largest (one field of view at seeds 54-59: 0.52-0.64).
  EXPECT_GT(w.auc_small_nucleus, 0.5);
  balanced(w);
}

TEST(PlantedMechanism, Both) {
  // Compression and WT contact each kill (weaker than in their own worlds): each must matter
  // given the other, in the planted direction.
  const WorldStats& w = stats_of("both");
  ASSERT_EQ(w.logit.coef.size(), 3u);
  EXPECT_GT(w.logit.ci_lo[1], 0.0) << "compression must matter given WT contact";
  EXPECT_GT(w.logit.ci_lo[2], 0.0) << "WT contact must matter given compression";
  EXPECT_GE(w.auc_compression, 0.60);
  EXPECT_GE(w.auc_wt, 0.60);
  EXPECT_LT(w.scrib_fraction_last, w.scrib_fraction_first);
  balanced(w);
}

TEST(PlantedMechanism, PureScribCultureDiesLess) {
  const WorldStats& mixed = stats_of("mechanical");
  const WorldStats& pure = stats_of("mechanical", 1.0);
  EXPECT_LT(pure.scrib_apoptosis_per_h, 0.6 * mixed.scrib_apoptosis_per_h);
  // Both causes need WT: in a pure scrib culture the both world kills less too.
  EXPECT_LT(stats_of("both", 1.0).scrib_apoptosis_per_h, 0.6 * stats_of("both").scrib_apoptosis_per_h);
}

TEST(QuickPreset, EnoughPatches) {
  stats_of("mechanical");
  EXPECT_GE(patch_counts().at({"mechanical", 0.5}), 30000u);
}
