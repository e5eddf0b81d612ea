// summary.json contract: exact keys, round trip, validation problems, brief view, numbers equal
// the tidy CSVs they come from.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "taupe/core/errors.h"
#include "taupe/report/csv.h"
#include "taupe/report/summary.h"
#include "report/summary_fixture.h"

namespace taupe::report {
namespace {

using nlohmann::json;
using testing::valid_summary;

bool mentions(const std::vector<std::string>& problems, const std::string& what) {
  for (const auto& p : problems)
    if (p.find(what) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& p : v) s += p + "\n";
  return s;
}

TEST(Summary, ContractKeysExactly) {
  const json j = valid_summary();
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"cv", "data", "ground_truth", "pc_shift", "preset", "seed", "switch_centre",
                                            "switch_neighbours", "taupe_version", "timings_s", "world"}));
  EXPECT_EQ(j["data"]["trajectories"]["mitosis"], 120);
  EXPECT_EQ(j["data"]["patches"], 5000);
  EXPECT_EQ(j["cv"]["class_names"], json({"mitosis", "apoptosis", "synthetic"}));
  EXPECT_EQ(j["switch_neighbours"]["delta_recall"]["apoptosis"], json({-0.02, -0.05, 0.01}));
  const json& e = j["pc_shift"]["per_pc"][1];
  for (const char* k : {"pc", "slope_mitosis", "slope_apoptosis", "slope_ci_apoptosis", "realistic_range", "rho_nuclear_area"})
    EXPECT_TRUE(e.contains(k)) << k;
  for (const char* k : {"experiment", "claim", "outcome", "direction", "estimate", "ci", "margin", "trajectories_needed",
                        "statistic_read", "conclusion", "expected_outcome", "expected_direction", "correct"})
    EXPECT_TRUE(j["ground_truth"]["verdicts"][0].contains(k)) << k;
  EXPECT_EQ(j["ground_truth"]["verdicts"][0].size(), 13u);
  EXPECT_TRUE(j["ground_truth"]["verdicts"][0]["statistic_read"].is_boolean());
  EXPECT_TRUE(j["ground_truth"]["verdicts"][0]["correct"].is_boolean());
  EXPECT_TRUE(j["ground_truth"]["verdicts"][0]["trajectories_needed"].is_null());
  // The model and its gate side by side.
  for (const char* k : {"confusion_mean_raw", "typicality_gate"}) EXPECT_TRUE(j["cv"].contains(k)) << k;
  for (const char* k : {"synthetic_fraction_raw", "gate_rejected", "recognised_by"})
    EXPECT_TRUE(j["switch_centre"].contains(k)) << k;
  EXPECT_TRUE(e.contains("realistic_range_raw"));
}

TEST(Summary, ValidPassesAndRoundTrips) {
  const RunSummary s = valid_summary();
  const json j = s;
  EXPECT_TRUE(validate_summary_json(j).empty()) << joined(validate_summary_json(j));
  const RunSummary back = j.get<RunSummary>();
  EXPECT_EQ(json(back), j);
  EXPECT_EQ(summary_to_string(back), summary_to_string(s));  // deterministic bytes
}

TEST(Summary, RealDataHasNullWorldAndNoGroundTruth) {
  RunSummary s = valid_summary();
  s.world.reset();
  s.ground_truth.reset();
  for (auto& e : s.pc_shift.per_pc) e.rho_nuclear_area = std::nan("");  // unknown → null
  const json j = s;
  EXPECT_TRUE(j["world"].is_null());
  EXPECT_FALSE(j.contains("ground_truth"));
  EXPECT_TRUE(j["pc_shift"]["per_pc"][0]["rho_nuclear_area"].is_null());
  EXPECT_TRUE(validate_summary_json(j).empty()) << joined(validate_summary_json(j));
  const RunSummary back = j.get<RunSummary>();
  EXPECT_FALSE(back.world.has_value());
  EXPECT_TRUE(std::isnan(back.pc_shift.per_pc[0].rho_nuclear_area));
  // but real data with verdicts is a contradiction, and simulated data needs them
  json bad = j;
  bad["ground_truth"] = json(*valid_summary().ground_truth);
  EXPECT_TRUE(mentions(validate_summary_json(bad), "ground_truth: present for real data"));
  json sim = valid_summary();
  sim.erase("ground_truth");
  EXPECT_TRUE(mentions(validate_summary_json(sim), "ground_truth: missing"));
}

TEST(Summary, MissingKeysAreReportedByPath) {
  for (const char* path : {"/taupe_version", "/seed", "/data/trajectories/apoptosis", "/cv/confusion_std",
                           "/switch_neighbours/delta_recall", "/switch_centre/synthetic_fraction", "/pc_shift/top_pc",
                           "/pc_shift/per_pc/2/slope_ci_apoptosis", "/ground_truth/verdicts/1/correct", "/timings_s"}) {
    json j = valid_summary();
    const json::json_pointer ptr(path);
    j[ptr.parent_pointer()].erase(ptr.back());
    std::string dotted = std::string(path).substr(1);
    for (auto& c : dotted)
      if (c == '/') c = '.';
    // array indices print as [i]
    for (const char* idx : {".2.", ".1."}) {
      const auto p = dotted.find(idx);
      if (p != std::string::npos) dotted.replace(p, 3, std::string("[") + idx[1] + "].");
    }
    const auto problems = validate_summary_json(j);
    EXPECT_TRUE(mentions(problems, dotted + ": missing")) << path << "\n" << joined(problems);
  }
}

TEST(Summary, NonNormalisedRowIsReported) {
  json j = valid_summary();
  j["cv"]["confusion_mean"][1] = {0.1, 0.8, 0.02};
  const auto problems = validate_summary_json(j);
  ASSERT_EQ(problems.size(), 1u) << joined(problems);
  EXPECT_TRUE(mentions(problems, "cv.confusion_mean: row 1 (apoptosis) sums to 0.92")) << problems[0];
  // within tolerance passes; std matrices are not normalised
  j["cv"]["confusion_mean"][1] = {0.1, 0.8995, 0.0};
  EXPECT_TRUE(validate_summary_json(j).empty()) << joined(validate_summary_json(j));
}

TEST(Summary, WrongShapesAreReported) {
  json j = valid_summary();
  j["cv"]["confusion_mean"].erase(2);  // 2 rows
  j["switch_neighbours"]["confusion_std"][0] = {0.1, 0.1};
  j["cv"]["class_names"] = {"apoptosis", "mitosis", "synthetic"};
  j["switch_neighbours"]["delta_recall"]["mitosis"] = {0.01, 0.02};
  j["data"]["patches"] = "many";
  j["ground_truth"]["verdicts"][0]["statistic_read"] = "yes";
  const auto problems = validate_summary_json(j);
  EXPECT_TRUE(mentions(problems, "cv.confusion_mean: expected a 3x3 matrix (3 rows), got 2 rows")) << joined(problems);
  EXPECT_TRUE(mentions(problems, "switch_neighbours.confusion_std[0]: expected 3 columns, got 2")) << joined(problems);
  EXPECT_TRUE(mentions(problems, "cv.class_names: must be")) << joined(problems);
  EXPECT_TRUE(mentions(problems, "switch_neighbours.delta_recall.mitosis: expected [mean, ci_lo, ci_hi]")) << joined(problems);
  EXPECT_TRUE(mentions(problems, "data.patches: expected an integer")) << joined(problems);
  EXPECT_TRUE(mentions(problems, "ground_truth.verdicts[0].statistic_read: expected a boolean")) << joined(problems);
  EXPECT_EQ(problems.size(), 6u) << joined(problems);
}

TEST(Summary, IntervalsAndReferencesAreChecked) {
  json j = valid_summary();
  j["switch_neighbours"]["delta_recall"]["apoptosis"] = {-0.02, 0.01, -0.05};  // lo > hi
  j["pc_shift"]["per_pc"][0]["slope_ci_apoptosis"] = {0.3, 0.1};
  j["pc_shift"]["per_pc"][1]["realistic_range"] = nullptr;  // allowed: empty range
  j["pc_shift"]["top_pc"] = 17;
  j["pc_shift"]["shifts"] = {0.0, -0.5};
  j["switch_centre"]["synthetic_fraction"] = 1.5;
  j["ground_truth"]["world"] = "contact";
  j["timings_s"]["encoder"] = -1;
  j["cv"]["confusion_std"][0][0] = -0.1;
  const auto problems = validate_summary_json(j);
  for (const char* what : {"delta_recall.apoptosis: ci_lo 0.01 > ci_hi -0.05", "per_pc[0].slope_ci_apoptosis: lo 0.3 > hi 0.1",
                           "pc_shift.top_pc: = 17: not one of the per_pc entries", "pc_shift.shifts: not strictly ascending",
                           "switch_centre.synthetic_fraction: = 1.5: must be in [0, 1]",
                           "ground_truth.world: \"contact\" differs from world \"mechanical\"", "timings_s.encoder: = -1",
                           "cv.confusion_std[0][0]: = -0.1"})
    EXPECT_TRUE(mentions(problems, what)) << what << "\n" << joined(problems);
  EXPECT_EQ(problems.size(), 8u) << joined(problems);
}

TEST(Summary, ExtraSectionsTravelAtTopLevel) {
  RunSummary s = valid_summary();
  s.extra["pc_ablate"] = {{"delta_recall_apoptosis", {0.01, -0.2}}};
  const json j = s;
  EXPECT_TRUE(j.contains("pc_ablate"));
  EXPECT_TRUE(validate_summary_json(j).empty());
  const RunSummary back = j.get<RunSummary>();
  EXPECT_EQ(back.extra["pc_ablate"], s.extra["pc_ablate"]);
  s.extra["cv"] = 1;  // clash
  EXPECT_THROW((void)json(s), DataError);
  // Refused before anything is written (a throw from a half-filled json leaked under LSan).
  json target = 5;
  EXPECT_THROW(to_json(target, s), DataError);
  EXPECT_EQ(target, json(5));
  s.extra = json::array({1});
  EXPECT_THROW(to_json(target, s), DataError);
  EXPECT_EQ(target, json(5));
}

TEST(Summary, BriefShowsHeadlineNumbersAndVerdicts) {
  const std::string b = valid_summary().brief();
  for (const char* what : {"preset tiny", "world mechanical", "seed 1", "120 mitosis + 80 apoptosis", "3 folds",
                           "mitosis 0.90 ± 0.02", "apoptosis -0.02 [-0.05, 0.01]", "87% of real trajectories",
                           "top PC 1", "-0.160 [-0.170, -0.150]", "2/2 match", "0 inconclusive", "[ok]    nuclear size", "21.5 s total"})
    EXPECT_NE(b.find(what), std::string::npos) << what << "\n" << b;
}

TEST(Summary, WriteValidatesAndReadBack) {
  const auto dir = std::filesystem::temp_directory_path() / ("taupe_summary_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const RunSummary s = valid_summary();
  write_summary(dir / "summary.json", s);
  EXPECT_EQ(json(read_summary(dir / "summary.json")), json(s));
  RunSummary bad = s;
  bad.cv.confusion_mean[0][0] = 0.5;
  try {
    write_summary(dir / "bad.json", bad);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cv.confusion_mean: row 0 (mitosis)"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.json"));
  std::filesystem::remove_all(dir);
}

// The pattern the experiments follow: the tidy CSV is the source, the summary is derived from
// it; reading both back, the summary numbers equal the CSV aggregates exactly.
TEST(Summary, NumbersEqualTheTidyCsvTheyComeFrom) {
  CsvTable t({"model", "condition", "true_class", "predicted_class", "fraction"});
  const auto& cls = summary_class_names();
  const double f[2][3][3] = {{{0.9, 0.08, 0.02}, {0.1, 0.88, 0.02}, {0.0, 0.01, 0.99}},
                             {{0.8, 0.15, 0.05}, {0.2, 0.7, 0.1}, {0.02, 0.0, 0.98}}};
  for (int m = 0; m < 2; ++m)
    for (int i = 0; i < 3; ++i)
      for (int k = 0; k < 3; ++k) t.add_row({cell(m), "unperturbed", cls[i], cls[k], cell(f[m][i][k])});
  const CsvTable back = parse_csv(to_csv(t));
  RunSummary s = valid_summary();
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) {
      double sum = 0;
      int n = 0;
      for (std::size_t r = 0; r < back.size(); ++r)
        if (back.at(r, "true_class") == cls[i] && back.at(r, "predicted_class") == cls[k]) {
          sum += back.number(r, "fraction");
          ++n;
        }
      s.cv.confusion_mean[i][k] = sum / n;
    }
  const json j = json::parse(summary_to_string(s));
  EXPECT_TRUE(validate_summary_json(j).empty()) << joined(validate_summary_json(j));
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(j["cv"]["confusion_mean"][i][k].get<double>(), (f[0][i][k] + f[1][i][k]) / 2) << i << "," << k;
}

}  // namespace
}  // namespace taupe::report
