#pragma once
// Helpers shared by the perturbation .cpp files (not part of the public API).
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/perturb/analysis.h"
#include "taupe/perturb/perturb.h"
#include "taupe/report/image.h"
#include "taupe/report/summary.h"

namespace taupe::perturb::detail {

/// Bootstrap strata of `items` (model, class, lineage cluster), resampled as cfg.bootstrap says.
Strata make_strata(const std::vector<PerturbItem>& items, int num_models, const PerturbConfig& cfg);
/// The summary.json / perturb.json / verdicts.csv view of a verdict.
report::VerdictEntry verdict_entry(const Verdict& v);
nlohmann::json matrix_json(const Matrix3& m);
nlohmann::json interval_json(const Interval& v);  ///< [estimate, lo, hi]
nlohmann::json interval_full_json(const Interval& v);  ///< {estimate, ci, se, p}
void write_png(const std::filesystem::path& path, const report::Image& img);
/// Fractions (M, 3, 3) of items predicted as each class; NaN for empty (model, class).
std::vector<double> fractions_of(const std::vector<PerturbItem>& items, const std::vector<int>& pred, int num_models);
std::string fixed(double v, int digits = 3);
/// Checks the batched-prediction inputs of predict_variants / predict_pc_deltas (`who` names the
/// caller in the DataError): pcs (n, L, D), real (n, L) for n = items.size(). Returns the zeroed
/// prediction buffer (num_variants × n) and sizes *probs (when given) to (num_variants × n, 3).
std::vector<std::uint8_t> variant_prediction_buffer(const char* who, const ModelSet& models,
                                                    const std::vector<PerturbItem>& items, const std::vector<float>& pcs,
                                                    const std::vector<std::uint8_t>& real, int num_variants,
                                                    std::vector<float>* probs);

}  // namespace taupe::perturb::detail
