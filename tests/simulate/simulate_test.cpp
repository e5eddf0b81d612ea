// Simulator unit tests at tiny scale: determinism, event timeline vs cutoff, glimpse geometry,
// imaging, and equality of the two glimpse paths (straight from the simulation vs from the
// written movie).
#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <filesystem>
#include <map>

#include "taupe/core/atomic_file.h"
#include "taupe/core/stats.h"
#include <unistd.h>
#include "taupe/dataset/movie.h"
#include "taupe/simulate/render.h"
#include "taupe/simulate/simulate.h"
#include "sim_test_support.h"

using namespace taupe;
using taupe::testing_sim::tiny_extract;
using taupe::testing_sim::tiny_sim;
namespace fs = std::filesystem;

namespace {
const FovHistory& tiny_history() {
  static const FovHistory h = simulate_fov(tiny_sim(), 7, 0);
  return h;
}
fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("taupe_sim_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(SimConfig, ValidateNamesTheKey) {
  SimConfig c;
  c.world = "magic";
  try {
    c.validate();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("simulate.world"), std::string::npos);
  }
  c = SimConfig{};
  c.bit_depth = 12;
  EXPECT_THROW(c.validate(), ConfigError);
  ExtractConfig e;
  e.glimpse_types = "all";
  EXPECT_THROW(e.validate(), ConfigError);
}

TEST(Simulator, SameSeedSameHistoryDifferentSeedDifferent) {
  const FovHistory a = simulate_fov(tiny_sim(), 7, 0);
  const FovHistory& b = tiny_history();
  ASSERT_EQ(a.frames.size(), b.frames.size());
  for (std::size_t t = 0; t < a.frames.size(); ++t) {
    ASSERT_EQ(a.frames[t].size(), b.frames[t].size());
    for (std::size_t i = 0; i < a.frames[t].size(); ++i) {
      EXPECT_EQ(a.frames[t][i].x, b.frames[t][i].x);
      EXPECT_EQ(a.frames[t][i].compression, b.frames[t][i].compression);
    }
  }
  const FovHistory c = simulate_fov(tiny_sim(), 8, 0);
  EXPECT_NE(c.frames.back().front().x, a.frames.back().front().x);
}

TEST(Simulator, TracksAreValidWithFatesAndParents) {
  const FovHistory& h = tiny_history();
  EXPECT_NO_THROW(h.tracks.validate("tiny"));
  int mit = 0, apo = 0, parents = 0;
  for (const Track& t : h.tracks.tracks) {
    mit += t.fate == Fate::kMitosis;
    apo += t.fate == Fate::kApoptosis;
    parents += t.parent != 0;
    if (t.fate == Fate::kMitosis || t.fate == Fate::kApoptosis) {
      EXPECT_GE(t.event_onset, t.start);
      EXPECT_LE(t.event_onset, t.end);
    }
  }
  EXPECT_GT(mit, 10);
  EXPECT_GE(apo, 1);
  EXPECT_GT(parents, 10);
}

TEST(Simulator, NoKeptFrameUpToCutoffShowsEventMorphology) {
  const FovHistory& h = tiny_history();
  const auto plans = plan_glimpses(h.tracks, tiny_extract());
  ASSERT_GE(plans.size(), 5u);
  for (const GlimpsePlan& p : plans) {
    for (int t = p.first; t <= p.cutoff; ++t) {
      const CellSnap* c = h.find(p.track_id, t);
      ASSERT_NE(c, nullptr);
      EXPECT_EQ(c->morph, Morph::kInterphase) << "track " << p.track_id << " frame " << t;
    }
    // ... and the event is visible right after the cutoff.
    const CellSnap* next = h.find(p.track_id, p.cutoff + 1);
    ASSERT_NE(next, nullptr);
    EXPECT_EQ(next->morph, p.fate == Fate::kMitosis ? Morph::kMitosis : Morph::kApoptosis);
    EXPECT_EQ(p.type, CellType::kScrib);
  }
}

TEST(Simulator, NuclearAreaFallsWithLocalDensity) {
  const FovHistory& h = tiny_history();
  std::vector<double> a, d;
  for (const auto& f : h.frames)
    for (const CellSnap& c : f)
      if (c.morph == Morph::kInterphase) { a.push_back(c.nuclear_area_um2); d.push_back(c.local_density); }
  // Tiny scale (one small field, 100 frames) is noisier; the acceptance bound -0.5 is checked
  // at quick scale in world_stats_slowtest.cpp.
  EXPECT_LE(stats::spearman(a, d), -0.3);
}

TEST(Simulator, CauseActivationIsTheLogisticTermOfTheHazard) {
  SimConfig c;
  c.world = "mechanical";
  EXPECT_NEAR(cause_activation(c, CellType::kScrib, c.mech_compression_half, 0).compression, 0.5, 1e-12);
  const double z = 1.5;  // compression 1.5 logistic widths above the half point
  const double a = 1.0 / (1.0 + std::exp(-z));
  EXPECT_NEAR(cause_activation(c, CellType::kScrib, c.mech_compression_half + z * c.mech_compression_width, 9).compression,
              a, 1e-12);
  EXPECT_NEAR(apoptosis_hazard(c, CellType::kScrib, c.mech_compression_half + z * c.mech_compression_width, 9),
              c.scrib_base_apoptosis_per_h + c.mech_hazard_max_per_h * a, 1e-12);
  EXPECT_EQ(cause_activation(c, CellType::kWildType, 0.9, 9).compression, 0.0);
  EXPECT_EQ(cause_activation(c, CellType::kWildType, 0.9, 9).wt_contact, 0.0);
  EXPECT_EQ(apoptosis_hazard(c, CellType::kWildType, 0.9, 9), c.wt_apoptosis_per_h);
  // WT contact does not enter the mechanical hazard, compression not the contact one.
  EXPECT_EQ(apoptosis_hazard(c, CellType::kScrib, 0.2, 0), apoptosis_hazard(c, CellType::kScrib, 0.2, 9));
  c.world = "contact";
  EXPECT_NEAR(cause_activation(c, CellType::kScrib, 0.9, c.contact_wt_half).wt_contact, 0.5, 1e-12);
  EXPECT_NEAR(apoptosis_hazard(c, CellType::kScrib, 0.9, c.contact_wt_half),
              c.scrib_base_apoptosis_per_h + 0.5 * c.contact_hazard_max_per_h, 1e-12);
  EXPECT_EQ(apoptosis_hazard(c, CellType::kScrib, 0.0, 2), apoptosis_hazard(c, CellType::kScrib, 0.9, 2));
  c.world = "neutral";
  EXPECT_EQ(apoptosis_hazard(c, CellType::kScrib, 0.9, 9), c.neutral_apoptosis_per_h);
  EXPECT_EQ(apoptosis_hazard(c, CellType::kScrib, 0.0, 0), c.neutral_apoptosis_per_h);
}

TEST(Simulator, BothWorldHazardAddsTheTwoLogisticTerms) {
  SimConfig c;
  c.world = "both";
  // h = base + Mc σ((c − c½) / wc) + Mw σ((n − n½) / wn), each amplitude below its own world's.
  EXPECT_LT(c.both_mech_hazard_max_per_h, c.mech_hazard_max_per_h);
  EXPECT_LT(c.both_contact_hazard_max_per_h, c.contact_hazard_max_per_h);
  const auto sigma = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  for (double zc : {-3.0, 0.0, 0.7, 4.0})
    for (double zn : {-2.0, 0.0, 1.25}) {
      const double comp = c.mech_compression_half + zc * c.mech_compression_width;
      const double nwt = c.contact_wt_half + zn * c.contact_wt_width;
      const double expected = c.scrib_base_apoptosis_per_h + c.both_mech_hazard_max_per_h * sigma(zc) +
                              c.both_contact_hazard_max_per_h * sigma(zn);
      EXPECT_NEAR(apoptosis_hazard(c, CellType::kScrib, comp, nwt), expected, 1e-12) << zc << " " << zn;
    }
  // At both half points each term gives half its amplitude.
  EXPECT_NEAR(apoptosis_hazard(c, CellType::kScrib, c.mech_compression_half, c.contact_wt_half),
              c.scrib_base_apoptosis_per_h + 0.5 * (c.both_mech_hazard_max_per_h + c.both_contact_hazard_max_per_h),
              1e-12);
  // Each cause alone raises the hazard, by less than in its own world.
  const double low = apoptosis_hazard(c, CellType::kScrib, 0.0, 0);
  const double comp_only = apoptosis_hazard(c, CellType::kScrib, 0.9, 0);
  const double wt_only = apoptosis_hazard(c, CellType::kScrib, 0.0, 9);
  EXPECT_GT(comp_only - low, 0.9 * c.both_mech_hazard_max_per_h);
  EXPECT_GT(wt_only - low, 0.9 * c.both_contact_hazard_max_per_h);
  SimConfig mech = c, contact = c;
  mech.world = "mechanical";
  contact.world = "contact";
  EXPECT_LT(comp_only, apoptosis_hazard(mech, CellType::kScrib, 0.9, 0));
  EXPECT_LT(wt_only, apoptosis_hazard(contact, CellType::kScrib, 0.0, 9));
  EXPECT_EQ(apoptosis_hazard(c, CellType::kWildType, 0.9, 9), c.wt_apoptosis_per_h);
}

TEST(Simulator, PlantedCausesFollowTheWorld) {
  const PlantedCauses mech = planted_causes("mechanical");
  EXPECT_TRUE(mech.compression.planted);
  EXPECT_EQ(mech.compression.direction, +1);
  EXPECT_FALSE(mech.wt_contact.planted);
  EXPECT_EQ(mech.wt_contact.direction, 0);
  EXPECT_EQ(mech.arrest, SimConfig{}.mech_arrest);
  const PlantedCauses contact = planted_causes("contact");
  EXPECT_FALSE(contact.compression.planted);
  EXPECT_TRUE(contact.wt_contact.planted);
  EXPECT_EQ(contact.wt_contact.direction, +1);
  EXPECT_EQ(contact.arrest, 0.0);
  const PlantedCauses neutral = planted_causes("neutral");
  EXPECT_FALSE(neutral.compression.planted);
  EXPECT_FALSE(neutral.wt_contact.planted);
  EXPECT_EQ(neutral.arrest, 0.0);
  const PlantedCauses both = planted_causes("both");
  EXPECT_TRUE(both.compression.planted);
  EXPECT_TRUE(both.wt_contact.planted);
  EXPECT_EQ(both.compression.direction, +1);
  EXPECT_EQ(both.wt_contact.direction, +1);
  EXPECT_EQ(both.arrest, SimConfig{}.mech_arrest);
  // Every world is covered, and the data come from the configuration: a cause with no amplitude
  // is not planted, and the arrest setting is reported as set.
  for (const std::string& w : kSimWorlds) EXPECT_NO_THROW(planted_causes(w)) << w;
  SimConfig c;
  c.world = "both";
  c.both_contact_hazard_max_per_h = 0;
  c.mech_arrest = 0.25;
  EXPECT_FALSE(planted_causes(c).wt_contact.planted);
  EXPECT_TRUE(planted_causes(c).compression.planted);
  EXPECT_EQ(planted_causes(c).arrest, 0.25);
  EXPECT_THROW(planted_causes("magic"), ConfigError);
}

TEST(Simulator, ArrestActsOnlyWhereCompressionIsPlanted) {
  // The hazard of the contact world ignores compression; so must the cycle: scrib cells far
  // beyond the compression half point keep cycling at the contact-inhibition speed.
  for (const char* world : {"contact", "neutral"}) {
    SimConfig c = tiny_sim(world);
    c.mech_compression_half = 0.25;  // as below: many cells would be arrested if arrest applied
    c.scrib_stall_compression = 0.99;
    const FovHistory h = simulate_fov(c, 7, 0);
    int compressed = 0;
    for (const auto& f : h.frames)
      for (const CellSnap& s : f)
        if (s.type == CellType::kScrib && s.morph == Morph::kInterphase && s.compression > 0.4 &&
            s.compression < 0.45) {
          ++compressed;
          ASSERT_GT(s.cycle_speed, 0.5) << world << " track " << s.track_id;
        }
    EXPECT_GT(compressed, 10) << world << ": no compressed scrib cell, the check above is vacuous";
  }
}

TEST(Simulator, CompressionIsMeasuredAgainstTheConfiguredReference) {
  // "typical": 1 - area / (free area at birth x (1 + growth x phase)), the same for every cell at
  // a given phase; "cell": 1 - area / the cell's own target area (its birth size varies).
  for (const char* ref : {"typical", "cell"}) {
    SimConfig c = tiny_sim();
    c.compression_reference = ref;
    const double a_base = M_PI * 0.25 * c.cell_diameter_um * c.cell_diameter_um;
    const FovHistory h = simulate_fov(c, 7, 0);
    int checked = 0, unclipped = 0;
    double max_own_gap = 0;  // how far the cell's own target is from the typical one
    for (const auto& f : h.frames)
      for (const CellSnap& s : f) {
        if (s.morph != Morph::kInterphase) continue;
        const double typical = a_base * (1.0 + c.growth * std::min<double>(s.phase, 1.0));
        const double reference = std::string(ref) == "typical" ? typical : s.target_area_um2;
        const double expected = std::clamp(1.0 - s.area_um2 / reference, 0.0, 0.999);
        ASSERT_NEAR(s.compression, expected, 2e-3) << ref << " track " << s.track_id;
        ++checked;
        unclipped += expected > 0.01;
        max_own_gap = std::max(max_own_gap, std::abs(s.target_area_um2 / typical - 1.0));
      }
    EXPECT_GT(checked, 1000) << ref;
    EXPECT_GT(unclipped, checked / 4) << ref << ": most cells uncompressed, the check above is weak";
    EXPECT_GT(max_own_gap, 0.05) << ref << ": birth sizes do not vary, both references coincide";
  }
  SimConfig bad;
  bad.compression_reference = "own";
  EXPECT_THROW(bad.validate(), ConfigError);
}

TEST(Simulator, MechanicalArrestSlowsTheCycleOfCellsUnderTheCause) {
  SimConfig c = tiny_sim();
  c.mech_arrest = 1.0;
  c.mech_compression_half = 0.25;  // the tiny field is young and loosely packed: put more cells under the cause
  const FovHistory h = simulate_fov(c, 7, 0);
  // speed = inhibition(compression) x (1 - activation), activation = (hazard - base) / max.
  int arrested = 0, checked = 0;
  for (const auto& f : h.frames)
    for (const CellSnap& s : f) {
      if (s.type != CellType::kScrib) continue;
      const double a = (s.hazard_apoptosis - c.scrib_base_apoptosis_per_h) / c.mech_hazard_max_per_h;
      ASSERT_LE(s.cycle_speed, 1.0 - a + 1e-5) << "track " << s.track_id;
      ++checked;
      arrested += a > 0.5;
    }
  EXPECT_GT(checked, 1000);
  EXPECT_GT(arrested, 10) << "no scrib cell was under the cause: the check above is vacuous";
  // Without arrest the same cells cycle at full speed while compression stays below the stall.
  SimConfig free = c;
  free.mech_arrest = 0.0;
  int fast_under_cause = 0;
  for (const auto& f : simulate_fov(free, 7, 0).frames)
    for (const CellSnap& s : f)
      if (s.type == CellType::kScrib && s.hazard_apoptosis > c.scrib_base_apoptosis_per_h + 0.5 * c.mech_hazard_max_per_h)
        fast_under_cause += s.cycle_speed > 0.9;
  EXPECT_GT(fast_under_cause, 0);
}

TEST(Glimpses, PatchTypesChooseTheCentralCells) {
  const FovHistory& h = tiny_history();
  ExtractConfig e = tiny_extract();
  e.patches_per_frame = 10000;  // every cell of each sampled frame
  std::map<std::string, std::map<CellType, int>> count;
  for (const char* types : {"both", "scrib", "wt"}) {
    e.patch_types = types;
    for (const PatchPlan& p : plan_patches(h.tracks, e, 1)) ++count[types][p.type];
  }
  ASSERT_GT(count["both"][CellType::kScrib], 0);
  ASSERT_GT(count["both"][CellType::kWildType], 0);
  EXPECT_EQ(count["scrib"][CellType::kScrib], count["both"][CellType::kScrib]);
  EXPECT_EQ(count["scrib"][CellType::kWildType], 0);
  EXPECT_EQ(count["wt"][CellType::kWildType], count["both"][CellType::kWildType]);
  EXPECT_EQ(count["wt"][CellType::kScrib], 0);
  e.patch_types = "losers";
  EXPECT_THROW(e.validate(), ConfigError);
}

TEST(Renderer, CompactedNucleiAreBrighterInProportionToTheirLostArea) {
  const FovHistory& h = tiny_history();
  SimConfig off = tiny_sim(), on = tiny_sim();
  off.compaction_brightness = 0.0;
  on.compaction_brightness = 1.0;
  const int t = 60;
  const MovieFrame a = SceneRenderer(h, off).frame(t), b = SceneRenderer(h, on).frame(t);
  const double free_area = M_PI * 0.25 * on.nuclear_diameter_um * on.nuclear_diameter_um;
  const double offset = on.background + on.gain * on.autofluorescence;  // ADU without a nucleus
  std::map<std::uint32_t, double> sa, sb;
  const std::size_t plane = a.labels.size();
  for (std::size_t i = 0; i < plane; ++i)
    if (a.labels[i]) {
      const int ch = a.label_types.at(a.labels[i]) == CellType::kWildType ? 0 : 1;
      sa[a.labels[i]] += a.images[ch * plane + i] - offset;
      sb[a.labels[i]] += b.images[ch * plane + i] - offset;
    }
  std::vector<double> rel;
  for (const CellSnap& s : h.frames[static_cast<std::size_t>(t)]) {
    const auto id = static_cast<std::uint32_t>(s.track_id);
    if (s.morph != Morph::kInterphase || !sa.count(id) || sa[id] <= 0) continue;
    const double expect = std::clamp(free_area / s.nuclear_area_um2, 1.0 / 3.0, 3.0);
    rel.push_back(sb[id] / sa[id] / expect - 1.0);
  }
  ASSERT_GT(rel.size(), 20u);
  std::sort(rel.begin(), rel.end(), [](double x, double y) { return std::abs(x) < std::abs(y); });
  // Blur from touching neighbours perturbs a few; the typical nucleus follows the closed form.
  EXPECT_LT(std::abs(rel[rel.size() / 2]), 0.05);
}

TEST(Renderer, WindowEqualsFullFrameAndGfpBrighterThanRfp) {
  const FovHistory& h = tiny_history();
  SceneRenderer r(h, tiny_sim());
  const MovieFrame f = r.frame(40);
  ImageWindow w;
  r.window(40, 200, 3, 50, 40, w);  // touches the right border region
  for (int c = 0; c < 2; ++c)
    for (int y = 0; y < w.h; ++y)
      for (int x = 0; x < w.w; ++x)
        ASSERT_EQ(w.images[(static_cast<std::size_t>(c) * w.h + y) * w.w + x],
                  f.images[(static_cast<std::size_t>(c) * r.height() + 3 + y) * r.width() + 200 + x]);
  for (int y = 0; y < w.h; ++y)
    for (int x = 0; x < w.w; ++x)
      ASSERT_EQ(w.labels[static_cast<std::size_t>(y) * w.w + x], f.labels[static_cast<std::size_t>(3 + y) * r.width() + 200 + x]);
  double s[2] = {0, 0}, n[2] = {0, 0};
  const std::size_t plane = f.labels.size();
  for (std::size_t i = 0; i < plane; ++i)
    if (f.labels[i]) {
      const int c = f.label_types.at(f.labels[i]) == CellType::kWildType ? 0 : 1;
      s[c] += f.images[c * plane + i];
      n[c] += 1;
    }
  ASSERT_GT(n[0], 0);
  ASSERT_GT(n[1], 0);
  EXPECT_GE((s[0] / n[0]) / (s[1] / n[1]), 1.5);
}

TEST(Glimpses, CentralNucleusWithinOnePointThreeMicronsOfCentre) {
  const FovHistory& h = tiny_history();
  SceneRenderer r(h, tiny_sim());
  const auto plans = plan_glimpses(h.tracks, tiny_extract());
  int checked = 0;
  for (std::size_t k = 0; k < plans.size() && k < 12; ++k) {
    const GlimpseTrajectory tr = extract_trajectory(r, h.tracks, plans[k], 1, "fov_000");
    ASSERT_EQ(tr.images.size(), static_cast<std::size_t>(tr.num_frames()) * 2 * 64 * 64);
    EXPECT_EQ(tr.frames[static_cast<std::size_t>(tr.cutoff)], plans[k].cutoff);
    for (int i = 0; i <= tr.cutoff; ++i) {
      // Nuclei cut by the image border (masks are zero-padded there) are not centring errors.
      const CellSnap* cs = h.find(tr.track_id, tr.frames[static_cast<std::size_t>(i)]);
      const float rad = std::max(cs->nuc_a, cs->nuc_b) + 2;
      if (cs->x < rad || cs->y < rad || cs->x > r.width() - 1 - rad || cs->y > r.height() - 1 - rad) continue;
      double sx = 0, sy = 0, n = 0;
      for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x)
          if (mask_is_central(tr.masks[static_cast<std::size_t>(i) * 64 * 64 + y * 64 + x])) { sx += x; sy += y; n += 1; }
      ASSERT_GT(n, 20) << "central nucleus missing, track " << tr.track_id;
      // 1.3 µm (2 px at 0.65 µm/px, 4 px at the default 0.325): the mask centroid moves off the
      // tracked centre where a neighbour's nucleus overlaps and hides part of the central one.
      EXPECT_LT(std::hypot(sx / n - 31.5, sy / n - 31.5), 1.3 / h.pixel_size_um);
      EXPECT_EQ(mask_type(tr.masks[static_cast<std::size_t>(i) * 64 * 64 + 32 * 64 + 32]), CellType::kScrib);
      ++checked;
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(Glimpses, SimulationPathEqualsMoviePath) {
  const FovHistory& h = tiny_history();
  SimConfig cfg = tiny_sim();
  SceneRenderer r(h, cfg);
  const fs::path dir = temp_dir("equal");
  {
    MovieWriter w(dir / "movie.h5", r.movie_info());
    for (int t = 0; t < static_cast<int>(h.frames.size()); ++t) w.append(r.frame(t));
    w.close();
  }
  MovieWindowSource m(dir / "movie.h5", 16);
  const auto plans = plan_glimpses(h.tracks, tiny_extract());
  ASSERT_GT(plans.size(), 5u);
  for (std::size_t k = 0; k < plans.size(); k += std::max<std::size_t>(1, plans.size() / 6)) {
    const GlimpseTrajectory a = extract_trajectory(r, h.tracks, plans[k], 1, "fov_000");
    const GlimpseTrajectory b = extract_trajectory(m, h.tracks, plans[k], 1, "fov_000");
    EXPECT_EQ(a.frames, b.frames);
    EXPECT_EQ(a.cutoff, b.cutoff);
    EXPECT_EQ(a.images, b.images) << "track " << plans[k].track_id;
    EXPECT_EQ(a.masks, b.masks);
    EXPECT_EQ(a.features.at("nuclear_area_um2"), b.features.at("nuclear_area_um2"));
  }
  // Cells at the border: reflect padding, identical too.
  const auto& pts = h.tracks.points;
  int border = 0;
  for (const TrackPoint& p : pts) {
    if (p.x > 10 && p.y > 10) continue;
    const GlimpseCrop a = crop_glimpse(r, p.t, p.x, p.y, p.label);
    const GlimpseCrop b = crop_glimpse(m, p.t, p.x, p.y, p.label);
    ASSERT_EQ(a.images, b.images);
    ASSERT_EQ(a.masks, b.masks);
    if (++border > 20) break;
  }
  // Whole-file path: `taupe extract` on the movie gives the same trajectories.
  write_tracks(dir / "tracks.h5", h.tracks);
  std::int64_t next = 1;
  {
    GlimpseWriter gw(dir / "g.h5", GlimpseFileInfo{});
    PatchWriter pw(dir / "p.h5");
    const ExtractCounts n = extract_movie(dir / "movie.h5", dir / "tracks.h5", tiny_extract(), 3, "fov_000", &gw, &pw, next);
    EXPECT_EQ(n.trajectories, plans.size());
    EXPECT_GT(n.patches, 50u);
    gw.close();
    pw.close();
  }
  GlimpseReader gr(dir / "g.h5");
  ASSERT_EQ(gr.size(), plans.size());
  const GlimpseTrajectory first = gr.read(0);
  const GlimpseTrajectory direct = extract_trajectory(r, h.tracks, plans[0], 1, "fov_000");
  EXPECT_EQ(first.images, direct.images);
  fs::remove_all(dir);
}

TEST(Simulate, RunWritesOutputsAndIsIndependentOfThreads) {
  SimConfig cfg = tiny_sim();
  cfg.fovs = 2;
  cfg.frames = 60;
  const fs::path d1 = temp_dir("run1"), d2 = temp_dir("run2");
  cfg.threads = 1;
  const SimulateResult a = run_simulate(cfg, tiny_extract(), 5, d1);
  cfg.threads = 2;
  const SimulateResult b = run_simulate(cfg, tiny_extract(), 5, d2);
  EXPECT_GT(a.trajectories, 0u);
  EXPECT_EQ(a.trajectories, b.trajectories);
  EXPECT_EQ(a.patches, b.patches);
  for (const char* f : {"glimpses.h5", "patches.h5", "fov_000/tracks.h5", "fov_001/ground_truth.h5"})
    ASSERT_TRUE(fs::exists(d1 / f)) << f;
  // Same seed -> byte-identical output files (HDF5 objects are written without modification
  // times), whatever the thread count.
  std::size_t compared = 0;
  for (const auto& e : fs::recursive_directory_iterator(d1)) {
    if (!e.is_regular_file()) continue;
    const fs::path rel = fs::relative(e.path(), d1);
    ASSERT_TRUE(fs::exists(d2 / rel)) << rel;
    EXPECT_TRUE(read_text_file(e.path()) == read_text_file(d2 / rel)) << rel << " differs between 1 and 2 threads";
    ++compared;
  }
  EXPECT_GE(compared, 12u);
  for (const char* f : {"simulation.json", "pictures/frame.png", "pictures/glimpse_montage.png",
                        "pictures/gt_population.png", "pictures/gt_apoptosis_vs_compression.png"})
    ASSERT_TRUE(fs::exists(d1 / f)) << f;
  GlimpseReader g(d1 / "glimpses.h5");
  EXPECT_EQ(g.file_info().world, "mechanical");
  EXPECT_EQ(g.file_info().seed, 5);
  const GlimpseTrajectory tr = g.read(0);
  for (const char* k : {"nuclear_area_um2", "compression", "local_density", "wt_neighbours", "scrib_neighbours",
                        "hazard_apoptosis"})
    EXPECT_EQ(tr.features.count(k), 1u) << k;
  PatchReader p(d1 / "patches.h5");
  EXPECT_EQ(p.size(), a.patches);
  fs::remove_all(d1);
  fs::remove_all(d2);
}
