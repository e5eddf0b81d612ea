// Result views: tidy CSV tables, terminal briefs, JSON sections, summary.json filling, files.
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/json_number.h"
#include "taupe/perturb/artifacts.h"
#include "taupe/perturb/perturb.h"
#include "taupe/perturb/perturb_internal.h"
#include "taupe/report/summary.h"

namespace taupe {

using namespace perturb;
using report::cell;
using report::CsvTable;

namespace perturb::detail {

Strata make_strata(const std::vector<PerturbItem>& items, int num_models, const PerturbConfig& cfg) {
  Strata st;
  st.num_models = num_models;
  st.resampling = cfg.bootstrap == "trajectories" ? Resampling::kTrajectories : Resampling::kModelsThenClusters;
  for (const auto& it : items) {
    st.model.push_back(it.model);
    st.truth.push_back(it.truth);
    st.cluster.push_back(it.cluster);
  }
  st.finalize();
  return st;
}

report::VerdictEntry verdict_entry(const Verdict& v) {
  report::VerdictEntry e;
  e.experiment = v.experiment;
  e.claim = v.claim;
  e.outcome = to_string(v.outcome);
  e.direction = v.direction;
  e.estimate = v.statistic.estimate;
  e.ci = {v.statistic.lo, v.statistic.hi};
  e.margin = v.margin;
  e.trajectories_needed = v.outcome == Outcome::kInconclusive ? v.trajectories_needed : -1;
  e.statistic_read = v.statistic_read;
  e.conclusion = v.conclusion;
  if (v.has_truth) {
    e.expected_outcome = to_string(v.expected.outcome);
    e.expected_direction = v.expected.direction;
    e.correct = v.correct;
  }
  return e;
}

nlohmann::json matrix_json(const Matrix3& m) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& row : m) {
    nlohmann::json r = nlohmann::json::array();
    for (double v : row) r.push_back(json_number(v));
    j.push_back(r);
  }
  return j;
}

nlohmann::json interval_json(const Interval& v) { return {json_number(v.estimate), json_number(v.lo), json_number(v.hi)}; }

nlohmann::json interval_full_json(const Interval& v) {
  return {{"estimate", json_number(v.estimate)}, {"ci", {json_number(v.lo), json_number(v.hi)}}, {"se", json_number(v.se)}, {"p", json_number(v.p)}};
}

void write_png(const std::filesystem::path& path, const report::Image& img) {
  write_text_atomic(path, report::encode_png(img));
}

std::vector<double> fractions_of(const std::vector<PerturbItem>& items, const std::vector<int>& pred, int num_models) {
  std::vector<double> f(static_cast<std::size_t>(num_models) * 9, 0.0), n(static_cast<std::size_t>(num_models) * 3, 0.0);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto m = static_cast<std::size_t>(items[i].model);
    f[m * 9 + static_cast<std::size_t>(items[i].truth) * 3 + static_cast<std::size_t>(pred[i])] += 1;
    n[m * 3 + static_cast<std::size_t>(items[i].truth)] += 1;
  }
  for (std::size_t m = 0; m < static_cast<std::size_t>(num_models); ++m)
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t j = 0; j < 3; ++j)
        f[m * 9 + c * 3 + j] = n[m * 3 + c] > 0 ? f[m * 9 + c * 3 + j] / n[m * 3 + c] : std::nan("");
  return f;
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

}  // namespace perturb::detail

using perturb::detail::fixed;
using perturb::detail::interval_json;
using perturb::detail::matrix_json;
using perturb::detail::verdict_entry;

namespace {

const char* kCls[3] = {"mitosis", "apoptosis", "synthetic"};
const char* kCond[3] = {"unperturbed", "normalised", "switched"};

report::Matrix to_matrix(const Matrix3& m) {
  report::Matrix out(3, std::vector<double>(3));
  for (int c = 0; c < 3; ++c)
    for (int j = 0; j < 3; ++j) out[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] = m[c][j];
  return out;
}

double mean_over_models(const std::vector<double>& f, std::size_t offset, std::size_t stride, int M) {
  std::vector<double> v;
  for (int m = 0; m < M; ++m) v.push_back(f[offset + static_cast<std::size_t>(m) * stride]);
  return mean_sd_ignore_nan(v).first;
}

std::string confusion_text(const ConfusionStats& cs) {
  std::ostringstream s;
  for (int c = 0; c < 3; ++c) {
    s << "    " << std::left << std::setw(10) << kCls[c] << std::right;
    for (int j = 0; j < 3; ++j) s << "  " << fixed(cs.mean[c][j], 2) << " ± " << fixed(cs.sd[c][j], 2);
    s << '\n';
  }
  return s.str();
}

nlohmann::json confusion_json(const ConfusionStats& cs) {
  nlohmann::json per = nlohmann::json::array();
  for (const auto& m : cs.per_model) per.push_back(matrix_json(m));
  return {{"mean", matrix_json(cs.mean)}, {"sd", matrix_json(cs.sd)}, {"per_model", per}};
}

}  // namespace

// ---- SwitchResult -----------------------------------------------------------------------------
CsvTable SwitchResult::table() const {
  CsvTable t({"experiment", "model", "condition", "true_class", "fraction_mitosis", "fraction_apoptosis",
              "fraction_synthetic"});
  for (int k = 0; k < 3; ++k)
    for (int m = 0; m < num_models; ++m)
      for (int c = 0; c < 3; ++c) {
        const auto& row = confusion[static_cast<std::size_t>(k)].per_model[static_cast<std::size_t>(m)][c];
        t.add_row({to_string(kind), cell(m), kCond[k], kCls[c], cell(row[0]), cell(row[1]), cell(row[2])});
      }
  return t;
}

std::string SwitchResult::brief() const {
  std::ostringstream s;
  s << to_string(kind) << ": " << trajectories << " trajectories, " << frames << " frames re-encoded ("
    << fixed(frames_per_second, 0) << " frames/s), " << fixed(seconds, 1) << " s\n";
  if (kind == Switch::kNeighbours) {
    s << "  confusion unperturbed (rows true, cols mit/apo/syn, mean ± sd over " << num_models << " models):\n"
      << confusion_text(confusion[0]) << "  normalised, not switched:\n" << confusion_text(confusion[1])
      << "  switched:\n" << confusion_text(confusion[2]);
    for (int c = 0; c < 2; ++c)
      s << "  Δ " << kCls[c] << " recall (switched − normalised) " << format_interval(delta_recall[static_cast<std::size_t>(c)])
        << "; vs unperturbed " << format_interval(delta_recall_vs_unperturbed[static_cast<std::size_t>(c)])
        << "; normalisation alone " << format_interval(normalisation_effect[static_cast<std::size_t>(c)]) << '\n';
    s << "  Δ P(apoptosis), class-balanced (switched − normalised) " << format_interval(delta_apoptosis_probability)
      << "; TCN alone " << format_interval(delta_apoptosis_probability_raw) << '\n';
    s << "  TCN alone (no typicality gate): Δ apoptosis recall " << format_interval(delta_recall_raw[1]) << "; "
      << gate_rejected << " switched inputs rejected by the gate; largest share of a class predicted synthetic "
      << fixed(max_synthetic_share(), 3) << '\n';
  } else {
    s << "  real trajectories predicted synthetic after switching the central cell: " << fixed(synthetic_fraction, 3)
      << " ± " << fixed(synthetic_fraction_sd, 3) << " (normalised, not switched: "
      << fixed(0.5 * (confusion[1].mean[0][2] + confusion[1].mean[1][2]), 3) << "); TCN alone "
      << fixed(synthetic_fraction_raw, 3) << ", " << gate_rejected << " of " << trajectories
      << " rejected by the typicality gate → recognised by " << recognised_by() << "\n";
  }
  return s.str();
}

nlohmann::json SwitchResult::to_json() const {
  nlohmann::json d = nlohmann::json::object(), dv = nlohmann::json::object(), dn = nlohmann::json::object();
  for (int c = 0; c < 2; ++c) {
    d[kCls[c]] = interval_json(delta_recall[static_cast<std::size_t>(c)]);
    dv[kCls[c]] = interval_json(delta_recall_vs_unperturbed[static_cast<std::size_t>(c)]);
    dn[kCls[c]] = interval_json(normalisation_effect[static_cast<std::size_t>(c)]);
  }
  nlohmann::json j = {{"experiment", to_string(kind)},
                      {"confusion_mean", matrix_json(confusion[2].mean)},
                      {"confusion_std", matrix_json(confusion[2].sd)},
                      {"delta_recall", d},
                      {"delta_recall_vs_unperturbed", dv},
                      {"normalisation_effect", dn},
                      {"synthetic_fraction", json_number(synthetic_fraction)},
                      {"synthetic_fraction_sd", json_number(synthetic_fraction_sd)},
                      {"synthetic_fraction_raw", json_number(synthetic_fraction_raw)},
                      {"gate_rejected", gate_rejected},
                      {"max_synthetic_share", json_number(max_synthetic_share())},
                      {"recognised_by", recognised_by()},
                      {"delta_recall_raw", {{kCls[1], interval_json(delta_recall_raw[1])}}},
                      {"delta_probability", {{kCls[1], interval_json(delta_apoptosis_probability)}}},
                      {"delta_probability_raw", {{kCls[1], interval_json(delta_apoptosis_probability_raw)}}},
                      {"delta_probability_raw_se_models_fixed", {{kCls[1], json_number(delta_apoptosis_probability_raw_se_models_fixed)}}},
                      {"trajectories", trajectories},
                      {"frames", frames},
                      {"frames_per_second", json_number(frames_per_second)},
                      {"seconds", json_number(seconds)},
                      {"examples", example_files}};
  for (int k = 0; k < 3; ++k) j["confusion"][kCond[k]] = confusion_json(confusion[static_cast<std::size_t>(k)]);
  return j;
}

std::string SwitchResult::recognised_by() const {
  // Which component turned the switched inputs synthetic: the TCN's own synthetic class, the
  // typicality gate, or both (each accounting for at least a fifth of the synthetic predictions).
  const double total = synthetic_fraction;
  if (!(total > 0) || trajectories <= 0) return "neither";
  const double by_gate = static_cast<double>(gate_rejected) / static_cast<double>(trajectories);
  const double by_tcn = synthetic_fraction_raw;
  const bool gate = by_gate >= 0.2 * total, tcn = by_tcn >= 0.2 * total;
  return gate && tcn ? "both the TCN and the typicality gate" : gate ? "the typicality gate" : "the TCN";
}

double SwitchResult::max_synthetic_share() const {
  double share = 0;
  for (std::size_t q = 1; q < 3; ++q)
    for (std::size_t c = 0; c < 2; ++c)
      if (counts_by_class[c] > 0) share = std::max(share, confusion[q].mean[c][2]);
  return share;
}

// ---- PcShiftResult -----------------------------------------------------------------------------
double PcShiftResult::mean_fraction(int pc, int s, int c, int j) const {
  const int S = static_cast<int>(shifts.size());
  return mean_over_models(fractions, frac_index(pc, s, 0, c, j, S, num_models), 9, num_models);
}
double PcShiftResult::sd_fraction(int pc, int s, int c, int j) const {
  const int S = static_cast<int>(shifts.size());
  std::vector<double> v;
  for (int m = 0; m < num_models; ++m) v.push_back(fractions[frac_index(pc, s, m, c, j, S, num_models)]);
  return mean_sd_ignore_nan(v).second;
}

CsvTable PcShiftResult::table() const {
  CsvTable t({"model", "pc", "shift", "shift_pc_units", "true_class", "fraction_mitosis", "fraction_apoptosis",
              "fraction_synthetic"});
  const int S = static_cast<int>(shifts.size());
  for (int p = 0; p < num_pcs; ++p)
    for (int s = 0; s < S; ++s)
      for (int m = 0; m < num_models; ++m)
        for (int c = 0; c < 2; ++c) {
          const auto i = frac_index(p, s, m, c, 0, S, num_models);
          t.add_row({cell(m), cell(p), cell(shifts[static_cast<std::size_t>(s)]),
                     cell(shifts[static_cast<std::size_t>(s)] * pc_scale[static_cast<std::size_t>(p)]), kCls[c],
                     cell(fractions[i]), cell(fractions[i + 1]), cell(fractions[i + 2])});
        }
  return t;
}

CsvTable PcShiftResult::slopes_table() const {
  CsvTable t({"pc", "range_lo", "range_hi", "slope_mitosis", "slope_apoptosis", "slope_apoptosis_ci_lo",
              "slope_apoptosis_ci_hi", "slope_apoptosis_se", "p", "p_adjusted", "significant", "sign_agreement",
              "slope_apoptosis_true_mitosis", "slope_apoptosis_true_apoptosis", "slope_mitosis_ci_lo",
              "slope_mitosis_ci_hi", "rho_nuclear_area", "p_models", "models_tested", "p_joint", "gated"});
  for (const auto& s : slopes) {
    const double lo = s.range.first >= 0 ? shifts[static_cast<std::size_t>(s.range.first)] : std::nan("");
    const double hi = s.range.first >= 0 ? shifts[static_cast<std::size_t>(s.range.second)] : std::nan("");
    const double rho = s.p < static_cast<int>(nuclear.rho.size()) ? nuclear.rho[static_cast<std::size_t>(s.p)] : std::nan("");
    t.add_row({cell(s.p), cell(lo), cell(hi), cell(s.slope[2][0]), cell(s.slope[2][1]), cell(s.slope_apoptosis.lo),
               cell(s.slope_apoptosis.hi), cell(s.slope_apoptosis.se), cell(s.slope_apoptosis.p), cell(s.p_adjusted),
               cell(s.significant), cell(s.sign_agreement), cell(s.slope[0][1]), cell(s.slope[1][1]),
               cell(s.slope_mitosis.lo), cell(s.slope_mitosis.hi), cell(rho), cell(s.p_models), cell(s.models_tested),
               cell(s.p_joint), cell(s.gated)});
  }
  return t;
}

std::string PcShiftResult::brief() const {
  std::ostringstream s;
  s << "pc-shift: " << num_pcs << " PCs × " << shifts.size() << " shifts (" << units << ") × " << num_models
    << " models, " << predictions << " predictions in " << fixed(seconds, 1) << " s ("
    << fixed(seconds > 0 ? predictions / seconds : 0, 0) << " /s)\n";
  if (nuclear.pc >= 0)
    s << "  nuclear-size PC " << nuclear.pc << " (Spearman ρ with nuclear area " << fixed(nuclear.rho[static_cast<std::size_t>(nuclear.pc)], 2)
      << " over " << nuclear.frames << " frames)\n";
  // Top 5 PCs by |slope|.
  std::vector<const SlopeResult*> order;
  for (const auto& x : slopes)
    if (std::isfinite(x.slope[2][1])) order.push_back(&x);
  std::sort(order.begin(), order.end(),
            [](const SlopeResult* a, const SlopeResult* b) { return std::fabs(a->slope[2][1]) > std::fabs(b->slope[2][1]); });
  int nsig = 0;
  for (const auto& x : slopes) nsig += x.significant;
  s << "  apoptosis slope per shift unit (class-balanced, realistic range), top PCs; " << nsig << " of " << num_pcs
    << " significant after correction:\n";
  for (std::size_t k = 0; k < order.size() && k < 5; ++k) {
    const auto& x = *order[k];
    s << "    PC " << std::setw(2) << x.p << "  " << format_interval(x.slope_apoptosis) << "  p_adj "
      << std::setprecision(2) << std::scientific << x.p_adjusted << std::defaultfloat << "  sign agreement "
      << fixed(x.sign_agreement, 2) << "  range [" << shifts[static_cast<std::size_t>(x.range.first)] << ", "
      << shifts[static_cast<std::size_t>(x.range.second)] << "]\n";
  }
  return s.str();
}

nlohmann::json PcShiftResult::to_json() const {
  nlohmann::json per = nlohmann::json::array();
  for (const auto& x : slopes) {
    const bool has = x.range.first >= 0;
    per.push_back({{"pc", x.p},
                   {"slope_mitosis", json_number(x.slope[2][0])},
                   {"slope_apoptosis", json_number(x.slope[2][1])},
                   {"slope_ci_apoptosis", {json_number(x.slope_apoptosis.lo), json_number(x.slope_apoptosis.hi)}},
                   {"slope_ci_mitosis", {json_number(x.slope_mitosis.lo), json_number(x.slope_mitosis.hi)}},
                   {"p", json_number(x.slope_apoptosis.p)},
                   {"p_models", json_number(x.p_models)},
                   {"models_tested", x.models_tested},
                   {"p_joint", json_number(x.p_joint)},
                   {"p_adjusted", json_number(x.p_adjusted)},
                   {"significant", x.significant},
                   {"sign_agreement", json_number(x.sign_agreement)},
                   {"realistic_range",
                    {has ? json_number(shifts[static_cast<std::size_t>(x.range.first)]) : nullptr,
                     has ? json_number(shifts[static_cast<std::size_t>(x.range.second)]) : nullptr}},
                   {"rho_nuclear_area",
                    x.p < static_cast<int>(nuclear.rho.size()) ? json_number(nuclear.rho[static_cast<std::size_t>(x.p)]) : nullptr}});
  }
  nlohmann::json rc = nlohmann::json::array();
  for (const auto& e : range_confusion)
    rc.push_back({{"low", {{"mean", matrix_json(e[0].mean)}, {"sd", matrix_json(e[0].sd)}}},
                  {"high", {{"mean", matrix_json(e[1].mean)}, {"sd", matrix_json(e[1].sd)}}}});
  return {{"shifts", shifts},
          {"units", units},
          {"pc_scale", pc_scale},
          {"per_pc", per},
          {"top_pc", top_pc},
          {"nuclear_pc", nuclear.pc},
          {"range_confusion", rc},
          {"decoded", decoded_files},
          {"predictions", predictions},
          {"seconds", json_number(seconds)}};
}

// ---- PcAblateResult ----------------------------------------------------------------------------
CsvTable PcAblateResult::table() const {
  CsvTable t({"model", "pc", "true_class", "fraction_mitosis", "fraction_apoptosis", "fraction_synthetic"});
  for (int p = -1; p < num_pcs; ++p) {
    const auto& cs = p < 0 ? baseline : ablated[static_cast<std::size_t>(p)];
    for (int m = 0; m < num_models; ++m)
      for (int c = 0; c < 2; ++c) {
        const auto& row = cs.per_model[static_cast<std::size_t>(m)][c];
        t.add_row({cell(m), p < 0 ? std::string("none") : cell(p), kCls[c], cell(row[0]), cell(row[1]), cell(row[2])});
      }
  }
  return t;
}

std::string PcAblateResult::brief() const {
  std::ostringstream s;
  s << "pc-ablate: recall drop when a PC is set to its mean (baseline recall mitosis " << fixed(baseline.mean[0][0], 2)
    << ", apoptosis " << fixed(baseline.mean[1][1], 2) << "), largest:\n";
  std::vector<int> order(static_cast<std::size_t>(num_pcs));
  for (int p = 0; p < num_pcs; ++p) order[static_cast<std::size_t>(p)] = p;
  auto key = [&](int p) {
    return std::fabs(recall_drop[static_cast<std::size_t>(p)][0].estimate) + std::fabs(recall_drop[static_cast<std::size_t>(p)][1].estimate);
  };
  std::sort(order.begin(), order.end(), [&](int a, int b) { return key(a) > key(b); });
  for (std::size_t k = 0; k < order.size() && k < 5; ++k) {
    const int p = order[k];
    s << "    PC " << std::setw(2) << p << "  mitosis " << format_interval(recall_drop[static_cast<std::size_t>(p)][0])
      << "  apoptosis " << format_interval(recall_drop[static_cast<std::size_t>(p)][1]) << '\n';
  }
  return s.str();
}

nlohmann::json PcAblateResult::to_json() const {
  nlohmann::json per = nlohmann::json::array();
  for (int p = 0; p < num_pcs; ++p)
    per.push_back({{"pc", p},
                   {"recall_drop", {{"mitosis", interval_json(recall_drop[static_cast<std::size_t>(p)][0])},
                                    {"apoptosis", interval_json(recall_drop[static_cast<std::size_t>(p)][1])}}},
                   {"confusion_mean", matrix_json(ablated[static_cast<std::size_t>(p)].mean)}});
  return {{"baseline_confusion_mean", matrix_json(baseline.mean)}, {"per_pc", per}, {"seconds", json_number(seconds)}};
}

// ---- PcWindowResult ----------------------------------------------------------------------------
double PcWindowResult::mean_fraction(int l, int s, int c, int j) const {
  const int W = static_cast<int>(shifts.size());
  return mean_over_models(fractions, frac_index(l, s, 0, c, j, W, num_models), 9, num_models);
}

CsvTable PcWindowResult::table() const {
  CsvTable t({"model", "pc", "window", "shift", "true_class", "fraction_mitosis", "fraction_apoptosis",
              "fraction_synthetic"});
  const int W = static_cast<int>(shifts.size());
  for (std::size_t l = 0; l < lengths.size(); ++l)
    for (int w = 0; w < W; ++w)
      for (int m = 0; m < num_models; ++m)
        for (int c = 0; c < 2; ++c) {
          const auto i = frac_index(static_cast<int>(l), w, m, c, 0, W, num_models);
          t.add_row({cell(m), cell(pc), cell(lengths[l]), cell(shifts[static_cast<std::size_t>(w)]), kCls[c],
                     cell(fractions[i]), cell(fractions[i + 1]), cell(fractions[i + 2])});
        }
  return t;
}

std::string PcWindowResult::brief() const {
  std::ostringstream s;
  s << "pc-window: PC " << pc << " shifted on the last L real frames only; class-balanced apoptosis fraction:\n    L      ";
  for (double v : shifts) s << std::setw(8) << v;
  s << '\n';
  for (std::size_t l = 0; l < lengths.size(); ++l) {
    s << "    " << std::setw(5) << lengths[l] << "  ";
    for (std::size_t w = 0; w < shifts.size(); ++w)
      s << std::setw(8)
        << fixed(0.5 * (mean_fraction(static_cast<int>(l), static_cast<int>(w), 0, 1) +
                        mean_fraction(static_cast<int>(l), static_cast<int>(w), 1, 1)), 3);
    s << '\n';
  }
  s << "    slope vs log2 L per shift:";
  for (std::size_t w = 0; w < shifts.size(); ++w) s << "  " << shifts[w] << ": " << format_interval(slope_vs_log_length[w]);
  s << '\n';
  return s.str();
}

nlohmann::json PcWindowResult::to_json() const {
  nlohmann::json apo = nlohmann::json::array(), sl = nlohmann::json::array();
  for (std::size_t l = 0; l < lengths.size(); ++l) {
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t w = 0; w < shifts.size(); ++w)
      row.push_back(json_number(0.5 * (mean_fraction(static_cast<int>(l), static_cast<int>(w), 0, 1) +
                               mean_fraction(static_cast<int>(l), static_cast<int>(w), 1, 1))));
    apo.push_back(row);
  }
  for (const auto& v : slope_vs_log_length) sl.push_back(interval_json(v));
  return {{"pc", pc}, {"lengths", lengths}, {"shifts", shifts}, {"apoptosis_fraction", apo},
          {"slope_vs_log2_length", sl}, {"seconds", json_number(seconds)}};
}

// ---- ShrinkNucleusResult -------------------------------------------------------------------------
double ShrinkNucleusResult::mean_fraction(int f, int c, int j) const {
  return mean_over_models(fractions, static_cast<std::size_t>(f) * num_models * 9 + static_cast<std::size_t>(c) * 3 + j, 9,
                          num_models);
}

CsvTable ShrinkNucleusResult::table() const {
  CsvTable t({"model", "factor", "true_class", "fraction_mitosis", "fraction_apoptosis", "fraction_synthetic"});
  for (std::size_t f = 0; f < factors.size(); ++f)
    for (int m = 0; m < num_models; ++m)
      for (int c = 0; c < 2; ++c) {
        const std::size_t i = (f * static_cast<std::size_t>(num_models) + static_cast<std::size_t>(m)) * 9 + static_cast<std::size_t>(c) * 3;
        t.add_row({cell(m), cell(factors[f]), kCls[c], cell(fractions[i]), cell(fractions[i + 1]), cell(fractions[i + 2])});
      }
  return t;
}

std::string ShrinkNucleusResult::brief() const {
  std::ostringstream s;
  s << "shrink-nucleus: " << trajectories << " trajectories, " << frames << " frames, " << fixed(seconds, 1) << " s\n";
  s << "    factor  area ratio  ΔPC" << pc << "   apoptosis (class-balanced)  synthetic\n";
  for (std::size_t f = 0; f < factors.size(); ++f) {
    const int k = static_cast<int>(f);
    s << "    " << std::setw(6) << factors[f] << "  " << std::setw(10) << fixed(central_area_ratio[f], 3) << "  "
      << std::setw(6) << fixed(pc_change[f], 3) << "  " << std::setw(10)
      << fixed(0.5 * (mean_fraction(k, 0, 1) + mean_fraction(k, 1, 1)), 3) << "  " << std::setw(16)
      << fixed(0.5 * (mean_fraction(k, 0, 2) + mean_fraction(k, 1, 2)), 3) << '\n';
  }
  s << "    apoptosis slope per unit factor " << fixed(apoptosis_vs_factor_slope, 3) << "; vs PC-shift direction: "
    << direction << '\n';
  return s.str();
}

nlohmann::json ShrinkNucleusResult::to_json() const {
  nlohmann::json apo = nlohmann::json::array(), syn = nlohmann::json::array(), pcc = nlohmann::json::array(),
                 area = nlohmann::json::array();
  for (std::size_t f = 0; f < factors.size(); ++f) {
    const int k = static_cast<int>(f);
    apo.push_back(json_number(0.5 * (mean_fraction(k, 0, 1) + mean_fraction(k, 1, 1))));
    syn.push_back(json_number(0.5 * (mean_fraction(k, 0, 2) + mean_fraction(k, 1, 2))));
    pcc.push_back(json_number(pc_change[f]));
    area.push_back(json_number(central_area_ratio[f]));
  }
  return {{"factors", factors},
          {"pc", pc},
          {"apoptosis_fraction", apo},
          {"synthetic_fraction", syn},
          {"pc_change", pcc},
          {"central_area_ratio", area},
          {"apoptosis_vs_factor_slope", json_number(apoptosis_vs_factor_slope)},
          {"pc_shift_apoptosis_slope", json_number(pc_shift_apoptosis_slope)},
          {"direction", direction},
          {"trajectories", trajectories},
          {"seconds", json_number(seconds)}};
}

// ---- SkillResult ---------------------------------------------------------------------------------
CsvTable SkillResult::table() const {
  CsvTable t({"model", "n_mitosis", "n_apoptosis", "recall_mitosis", "recall_apoptosis", "informedness",
              "informedness_ci_lo", "informedness_ci_hi", "p_permutation", "min_informedness", "passes"});
  for (int m = 0; m < num_models; ++m) {
    const auto k = static_cast<std::size_t>(m);
    t.add_row({cell(m), cell(skill.counts[k][0]), cell(skill.counts[k][1]), cell(skill.recall[k][0]),
               cell(skill.recall[k][1]), cell(skill.per_model[k]), "", "", "", "", ""});
  }
  const auto& j = skill.informedness;
  std::array<double, 2> mean_recall{};
  for (int c = 0; c < 2; ++c) {
    std::vector<double> v;
    for (const auto& r : skill.recall) v.push_back(r[static_cast<std::size_t>(c)]);
    mean_recall[static_cast<std::size_t>(c)] = mean_sd_ignore_nan(v).first;
  }
  t.add_row({"mean", "", "", cell(mean_recall[0]), cell(mean_recall[1]), cell(j.estimate), cell(j.lo), cell(j.hi),
             cell(j.p), cell(skill.min_informedness), cell(skill.passes)});
  return t;
}

std::string SkillResult::brief() const { return "model skill (gate of the verdicts): " + skill.brief() + "\n"; }

nlohmann::json SkillResult::to_json() const {
  std::vector<nlohmann::json> per_model;
  for (int m = 0; m < num_models; ++m) {
    const auto k = static_cast<std::size_t>(m);
    per_model.push_back({{"model", m},
                         {"n_mitosis", skill.counts[k][0]},
                         {"n_apoptosis", skill.counts[k][1]},
                         {"recall_mitosis", json_number(skill.recall[k][0])},
                         {"recall_apoptosis", json_number(skill.recall[k][1])},
                         {"informedness", json_number(skill.per_model[k])}});
  }
  return {{"informedness", perturb::detail::interval_full_json(skill.informedness)},
          {"balanced_accuracy", json_number(skill.balanced_accuracy)},
          {"min_informedness", skill.min_informedness},
          {"permutations", skill.permutations},
          {"trajectories", skill.trajectories},
          {"passes", skill.passes},
          {"state", to_string(skill_state(skill, skill.min_informedness))},
          {"per_model", per_model},
          {"text", skill.brief()}};
}

// ---- PerturbAllResult ----------------------------------------------------------------------------
std::string PerturbAllResult::brief() const {
  std::ostringstream s;
  if (skill) s << skill->brief();
  if (switch_neighbours) s << switch_neighbours->brief();
  if (switch_centre) s << switch_centre->brief();
  if (pc_shift) s << pc_shift->brief();
  if (pc_ablate) s << pc_ablate->brief();
  if (pc_window) s << pc_window->brief();
  if (shrink_nucleus) s << shrink_nucleus->brief();
  if (!verdicts.empty()) {
    s << "verdicts" << (world.empty() ? " (real data: no ground truth)" : "") << ":\n";
    for (const auto& v : verdicts) s << "  " << v.experiment << ": " << v.conclusion << '\n';
  }
  return s.str();
}

nlohmann::json PerturbAllResult::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  j["world"] = world.empty() ? nlohmann::json(nullptr) : nlohmann::json(world);
  if (skill) j["model_skill"] = skill->to_json();
  if (switch_neighbours) j["switch_neighbours"] = switch_neighbours->to_json();
  if (switch_centre) j["switch_centre"] = switch_centre->to_json();
  if (pc_shift) j["pc_shift"] = pc_shift->to_json();
  if (pc_ablate) j["pc_ablate"] = pc_ablate->to_json();
  if (pc_window) j["pc_window"] = pc_window->to_json();
  if (shrink_nucleus) j["shrink_nucleus"] = shrink_nucleus->to_json();
  nlohmann::json v = nlohmann::json::array();
  for (const auto& x : verdicts) v.push_back(verdict_entry(x));
  j["verdicts"] = v;
  j["files"] = files;
  return j;
}

void PerturbAllResult::fill_summary(report::RunSummary& s) const {
  if (switch_neighbours) {
    s.switch_neighbours.confusion_mean = to_matrix(switch_neighbours->confusion[2].mean);
    s.switch_neighbours.confusion_std = to_matrix(switch_neighbours->confusion[2].sd);
    s.switch_neighbours.delta_recall.clear();
    for (int c = 0; c < 2; ++c) {
      const auto& d = switch_neighbours->delta_recall[static_cast<std::size_t>(c)];
      s.switch_neighbours.delta_recall[kCls[c]] = report::Estimate{d.estimate, d.lo, d.hi};
    }
  }
  if (switch_centre) {
    s.switch_centre.synthetic_fraction = switch_centre->synthetic_fraction;
    s.switch_centre.synthetic_fraction_raw = switch_centre->synthetic_fraction_raw;
    s.switch_centre.gate_rejected = switch_centre->gate_rejected;
    s.switch_centre.trajectories = switch_centre->trajectories;
    s.switch_centre.recognised_by = switch_centre->recognised_by();
  }
  if (switch_neighbours) {
    auto est = [](const Interval& d) { return report::Estimate{d.estimate, d.lo, d.hi}; };
    s.switch_neighbours.delta_recall_raw["apoptosis"] = est(switch_neighbours->delta_recall_raw[1]);
    s.switch_neighbours.delta_probability["apoptosis"] = est(switch_neighbours->delta_apoptosis_probability);
    s.switch_neighbours.delta_probability_raw["apoptosis"] = est(switch_neighbours->delta_apoptosis_probability_raw);
  }
  if (pc_shift) {
    s.pc_shift.shifts = pc_shift->shifts;
    s.pc_shift.per_pc.clear();
    for (const auto& x : pc_shift->slopes) {
      report::PcShiftEntry e;
      e.pc = x.p;
      e.slope_mitosis = x.slope[2][0];
      e.slope_apoptosis = x.slope[2][1];
      e.slope_ci_apoptosis = {x.slope_apoptosis.lo, x.slope_apoptosis.hi};
      const double nan = std::numeric_limits<double>::quiet_NaN();
      e.realistic_range = x.range.first >= 0
                              ? std::array<double, 2>{pc_shift->shifts[static_cast<std::size_t>(x.range.first)],
                                                      pc_shift->shifts[static_cast<std::size_t>(x.range.second)]}
                              : std::array<double, 2>{nan, nan};
      const auto rr = x.p < static_cast<int>(pc_shift->range_raw.size()) ? pc_shift->range_raw[static_cast<std::size_t>(x.p)]
                                                                          : std::pair<int, int>{-1, -1};
      e.realistic_range_raw = rr.first >= 0 ? std::array<double, 2>{pc_shift->shifts[static_cast<std::size_t>(rr.first)],
                                                                    pc_shift->shifts[static_cast<std::size_t>(rr.second)]}
                                            : std::array<double, 2>{nan, nan};
      e.rho_nuclear_area = x.p < static_cast<int>(pc_shift->nuclear.rho.size())
                               ? pc_shift->nuclear.rho[static_cast<std::size_t>(x.p)]
                               : nan;
      s.pc_shift.per_pc.push_back(e);
    }
    s.pc_shift.top_pc = std::max(0, pc_shift->top_pc);
    s.pc_shift.predictions = pc_shift->predictions;
    s.pc_shift.gate_rejected = pc_shift->gate_rejected;
  }
  if (!world.empty()) {
    report::GroundTruthSummary g;
    g.world = world;
    for (const auto& v : verdicts) g.verdicts.push_back(verdict_entry(v));
    s.ground_truth = g;
  } else if (!verdicts.empty()) {
    nlohmann::json v = nlohmann::json::array();
    for (const auto& x : verdicts) v.push_back(verdict_entry(x));
    s.extra["verdicts"] = v;
  }
  if (skill) s.extra["model_skill"] = skill->to_json();
  if (pc_ablate) s.extra["pc_ablate"] = pc_ablate->to_json();
  if (pc_window) s.extra["pc_window"] = pc_window->to_json();
  if (shrink_nucleus) s.extra["shrink_nucleus"] = shrink_nucleus->to_json();
}

void write_results(PerturbAllResult& r, const std::filesystem::path& out_dir) {
  const auto dir = perturb_artifacts::dir(out_dir);
  std::filesystem::create_directories(dir);
  auto csv = [&](const std::string& name, const CsvTable& t) {
    report::write_csv(dir / name, t);
    r.files.push_back(name);
  };
  if (r.switch_neighbours) {
    csv(perturb_artifacts::kSwitchNeighboursCsv, r.switch_neighbours->table());
    csv(perturb_artifacts::kSwitchNeighboursTrajectoriesCsv, r.switch_neighbours->per_trajectory);
    for (const auto& f : r.switch_neighbours->example_files) r.files.push_back(f);
  }
  if (r.skill) csv(perturb_artifacts::kModelSkillCsv, r.skill->table());
  if (r.switch_centre) csv(perturb_artifacts::kSwitchCentreCsv, r.switch_centre->table());
  if (r.pc_shift) {
    csv(perturb_artifacts::kPcShiftCsv, r.pc_shift->table());
    csv(perturb_artifacts::kPcShiftSlopesCsv, r.pc_shift->slopes_table());
    if (r.pc_shift->nuclear_per_trajectory.columns() > 0)
      csv(perturb_artifacts::kPcShiftNuclearTrajectoriesCsv, r.pc_shift->nuclear_per_trajectory);
    for (const auto& f : r.pc_shift->decoded_files) r.files.push_back(f);
  }
  if (r.pc_ablate) csv(perturb_artifacts::kPcAblateCsv, r.pc_ablate->table());
  if (r.pc_window) csv(perturb_artifacts::kPcWindowCsv, r.pc_window->table());
  if (r.shrink_nucleus) csv(perturb_artifacts::kShrinkNucleusCsv, r.shrink_nucleus->table());
  CsvTable v({"experiment", "outcome", "direction", "estimate", "ci_lo", "ci_hi", "margin", "trajectories_needed",
              "statistic_read", "expected_outcome", "expected_direction", "correct", "conclusion"});
  for (const auto& x : r.verdicts) {
    const auto e = verdict_entry(x);
    v.add_row({e.experiment, e.outcome, cell(e.direction), cell(e.estimate), cell(e.ci[0]), cell(e.ci[1]),
               cell(e.margin), e.trajectories_needed >= 0 ? cell(e.trajectories_needed) : "", cell(e.statistic_read),
               e.expected_outcome,
               x.has_truth ? cell(e.expected_direction) : "", x.has_truth ? cell(e.correct) : "", e.conclusion});
  }
  csv(perturb_artifacts::kVerdictsCsv, v);
  r.files.push_back(perturb_artifacts::kResultsJson);
  write_text_atomic(dir / perturb_artifacts::kResultsJson, r.to_json().dump(2) + "\n");
}

}  // namespace taupe
