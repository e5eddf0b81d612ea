#pragma once
// summary.json — the machine-readable contract of a `taupe run`. Key names are fixed:
//
//   taupe_version, preset, world (null for real data), seed,
//   data: {trajectories: {mitosis, apoptosis}, patches},
//   cv: {folds, class_names = ["mitosis","apoptosis","synthetic"], confusion_mean, confusion_std,
//        confusion_mean_raw, typicality_gate: {enabled, quantile, rejected_real, rejected_synthetic}},
//   switch_neighbours: {confusion_mean, confusion_std, delta_recall: {class: [mean, ci_lo, ci_hi]},
//                       delta_recall_raw: {apoptosis: [...]}, delta_probability: {apoptosis: [...]},
//                       delta_probability_raw: {apoptosis: [...]}},
//   switch_centre: {synthetic_fraction, synthetic_fraction_raw, gate_rejected, trajectories, recognised_by},
//   ("_raw": the TCN alone, without the typicality gate; the others are gated predictions),
//   pc_shift: {shifts, per_pc: [{pc, slope_mitosis, slope_apoptosis, slope_ci_apoptosis,
//              realistic_range, realistic_range_raw, rho_nuclear_area}], top_pc, predictions, gate_rejected},
//   ground_truth: {world, verdicts: [{experiment, claim, outcome, direction, estimate, ci, margin,
//                  trajectories_needed, statistic_read, conclusion, expected_outcome, expected_direction,
//                  correct}]}
//                 (simulated data only; real data carries the same entries, without the expectation,
//                 as the optional top-level `verdicts`),
//   timings_s: {stage: seconds}
//
// Confusion matrices are 3×3, rows = true class, columns = predicted class, in class_names
// order, each row of a mean matrix summing to 1. Numbers that are undefined (e.g. a slope when
// the realistic range holds fewer than two shifts) are JSON null ↔ NaN in C++.
// Optional sections (pc_ablate, pc_window, shrink_nucleus, …) travel as extra top-level keys.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace taupe::report {

using Matrix = std::vector<std::vector<double>>;

/// The τ-VAE classes, in the order of every confusion matrix row/column.
const std::vector<std::string>& summary_class_names();

/// A point estimate with a confidence interval; JSON [mean, ci_lo, ci_hi].
struct Estimate {
  double mean = 0.0;
  double ci_lo = 0.0;
  double ci_hi = 0.0;
};

struct DataSummary {
  std::int64_t trajectories_mitosis = 0;
  std::int64_t trajectories_apoptosis = 0;
  std::int64_t patches = 0;
};

/// The typicality gate of the fold models (temporal/typicality.h) and what it did on the
/// cross-validation test sets.
struct TypicalityGateSummary {
  bool enabled = false;
  double quantile = 0;                ///< temporal.typicality_quantile (0 = off)
  std::int64_t rejected_real = 0;     ///< held-out real trajectories it turned synthetic
  std::int64_t rejected_synthetic = 0;
};

struct CvSummary {
  int folds = 0;
  std::vector<std::string> class_names = summary_class_names();
  Matrix confusion_mean;      ///< 3×3, row-normalised (typicality gate applied)
  Matrix confusion_std;       ///< 3×3, sd over models
  Matrix confusion_mean_raw;  ///< 3×3, the TCN alone (no gate); empty when not recorded
  TypicalityGateSummary typicality_gate;
};

struct SwitchNeighboursSummary {
  Matrix confusion_mean;                        ///< perturbed, 3×3 row-normalised
  Matrix confusion_std;
  std::map<std::string, Estimate> delta_recall;  ///< class → perturbed − unperturbed recall
  std::map<std::string, Estimate> delta_recall_raw;  ///< the same for the TCN alone (apoptosis)
  /// Class-balanced Δ P(apoptosis), switched − normalised: the neighbour verdict's statistic.
  std::map<std::string, Estimate> delta_probability;
  std::map<std::string, Estimate> delta_probability_raw;  ///< the same for the TCN alone
};

struct SwitchCentreSummary {
  double synthetic_fraction = 0.0;      ///< of real trajectories predicted synthetic, in [0, 1]
  double synthetic_fraction_raw = 0.0;  ///< the same for the TCN alone (no typicality gate)
  std::int64_t gate_rejected = 0;       ///< switched trajectories the gate turned synthetic
  std::int64_t trajectories = 0;        ///< switched trajectories
  std::string recognised_by;            ///< the component that recognised the inputs
};

struct PcShiftEntry {
  int pc = 0;
  double slope_mitosis = 0.0;                   ///< NaN ↔ null
  double slope_apoptosis = 0.0;                 ///< NaN ↔ null
  std::array<double, 2> slope_ci_apoptosis{};   ///< [lo, hi]; NaN ↔ null
  std::array<double, 2> realistic_range{};      ///< [lo, hi] shift; NaN ↔ null (empty range)
  std::array<double, 2> realistic_range_raw{};  ///< the same for the TCN alone (no typicality gate)
  double rho_nuclear_area = 0.0;                ///< NaN ↔ null (no ground truth)
};

struct PcShiftSummary {
  std::vector<double> shifts;
  std::vector<PcShiftEntry> per_pc;
  int top_pc = 0;  ///< PC with the largest mean |apoptosis slope|
  std::int64_t predictions = 0;    ///< sweep predictions (PCs × shifts × trajectories)
  std::int64_t gate_rejected = 0;  ///< of those, turned synthetic by the typicality gate alone
};

/// One verdict (docs/perturbation.md, "Verdicts"): a three-way outcome with its direction, the
/// interval it read and, on simulated data, the expectation of the planted world.
struct VerdictEntry {
  std::string experiment;                ///< "neighbour identity" | "nuclear size" | "any effect"
  std::string claim;                     ///< what an effect means, with the direction convention
  std::string outcome = "inconclusive";  ///< "effect" | "no effect" | "inconclusive"
  int direction = 0;                     ///< +1 / −1 with an effect, else 0
  double estimate = 0;                   ///< NaN ↔ null
  std::array<double, 2> ci{};            ///< [lo, hi]; NaN ↔ null
  double margin = 0;
  std::int64_t trajectories_needed = -1; ///< −1 ↔ null
  /// The decision rests on the statistic's interval (false: the realistic range or an
  /// unassessable PC stopped it; "any effect"). Summaries written before the key: true when the
  /// estimate is finite.
  bool statistic_read = false;
  std::string conclusion;
  std::string expected_outcome;          ///< "effect" | "no effect"
  int expected_direction = 0;
  /// outcome == expected_outcome and, for an effect, the direction too; inconclusive never.
  bool correct = false;
};

struct GroundTruthSummary {
  std::string world;
  std::vector<VerdictEntry> verdicts;
};

struct RunSummary {
  std::string taupe_version;
  std::string preset;
  std::optional<std::string> world;  ///< nullopt: real data (JSON null)
  std::uint64_t seed = 0;
  DataSummary data;
  CvSummary cv;
  SwitchNeighboursSummary switch_neighbours;
  SwitchCentreSummary switch_centre;
  PcShiftSummary pc_shift;
  std::optional<GroundTruthSummary> ground_truth;  ///< simulated data only
  std::map<std::string, double> timings_s;
  nlohmann::json extra = nlohmann::json::object();  ///< optional sections, merged at top level

  /// Terminal view: headline numbers and verdicts, a dozen lines.
  std::string brief() const;
};

void to_json(nlohmann::json& j, const Estimate& e);
void from_json(const nlohmann::json& j, Estimate& e);
void to_json(nlohmann::json& j, const DataSummary& d);
void from_json(const nlohmann::json& j, DataSummary& d);
void to_json(nlohmann::json& j, const TypicalityGateSummary& g);
void from_json(const nlohmann::json& j, TypicalityGateSummary& g);
void to_json(nlohmann::json& j, const CvSummary& c);
void from_json(const nlohmann::json& j, CvSummary& c);
void to_json(nlohmann::json& j, const SwitchNeighboursSummary& s);
void from_json(const nlohmann::json& j, SwitchNeighboursSummary& s);
void to_json(nlohmann::json& j, const SwitchCentreSummary& s);
void from_json(const nlohmann::json& j, SwitchCentreSummary& s);
void to_json(nlohmann::json& j, const PcShiftEntry& e);
void from_json(const nlohmann::json& j, PcShiftEntry& e);
void to_json(nlohmann::json& j, const PcShiftSummary& s);
void from_json(const nlohmann::json& j, PcShiftSummary& s);
void to_json(nlohmann::json& j, const VerdictEntry& v);
void from_json(const nlohmann::json& j, VerdictEntry& v);
void to_json(nlohmann::json& j, const GroundTruthSummary& g);
void from_json(const nlohmann::json& j, GroundTruthSummary& g);
/// Top-level object; `extra` keys are merged in (a key clashing with a contract key throws
/// DataError).
void to_json(nlohmann::json& j, const RunSummary& s);
/// Reads the contract keys (throws DataError naming the key on a type mismatch; run
/// validate_summary_json first for a full list of problems); unknown keys go to `extra`.
void from_json(const nlohmann::json& j, RunSummary& s);

struct SummaryValidationOptions {
  double row_sum_tolerance = 1e-3;  ///< |Σ row − 1| allowed in mean confusion matrices
};
/// Every problem with `j` as a summary.json, each naming the key path (e.g.
/// "cv.confusion_mean: row 1 (apoptosis) sums to 0.93, expected 1 ± 0.001"). Empty = valid.
/// Checks: every required key and its type; class_names exactly as above; 3×3 matrices of
/// finite numbers in [0, 1] (std ≥ 0); mean rows summing to 1; delta_recall entries are
/// [mean, lo, hi] with lo ≤ hi for mitosis and apoptosis (synthetic optional); fractions in
/// [0, 1]; shifts ascending; per_pc entries with unique pcs ≥ 0, CI/range pairs with lo ≤ hi
/// (or null); top_pc one of the per_pc pcs; ground_truth present iff world is a string, with
/// the same world; timings non-negative.
std::vector<std::string> validate_summary_json(const nlohmann::json& j, const SummaryValidationOptions& opts = {});

/// Pretty JSON text (2-space indent, keys sorted, trailing newline): deterministic bytes.
std::string summary_to_string(const RunSummary& s);
/// Writes summary.json atomically after validating it; throws DataError listing the problems
/// if it does not validate (nothing is written then).
void write_summary(const std::filesystem::path& path, const RunSummary& s);
/// Reads and validates summary.json; throws IoError/DataError naming the file and problems.
RunSummary read_summary(const std::filesystem::path& path);

}  // namespace taupe::report
