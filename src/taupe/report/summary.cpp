#include "taupe/report/summary.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/json_number.h"
#include "taupe/report/svg.h"

namespace taupe::report {

using nlohmann::json;

const std::vector<std::string>& summary_class_names() {
  static const std::vector<std::string> names{"mitosis", "apoptosis", "synthetic"};
  return names;
}

namespace {
const std::vector<std::string>& contract_keys() {
  static const std::vector<std::string> keys{"taupe_version", "preset",        "world",        "seed",
                                             "data",          "cv",            "switch_neighbours",
                                             "switch_centre", "pc_shift",      "ground_truth", "timings_s"};
  return keys;
}

double get_num(const json& j, const char* key) {
  const json& v = j.at(key);
  if (v.is_null()) return std::nan("");
  if (!v.is_number()) throw DataError(std::string("summary.json: ") + key + ": expected a number or null");
  return v.get<double>();
}
json matrix_json(const Matrix& m) {
  json a = json::array();
  for (const auto& row : m) {
    json r = json::array();
    for (double v : row) r.push_back(json_number(v));
    a.push_back(r);
  }
  return a;
}
Matrix matrix_from(const json& j) {
  Matrix m;
  for (const auto& row : j) {
    std::vector<double> r;
    for (const auto& v : row) r.push_back(v.is_null() ? std::nan("") : v.get<double>());
    m.push_back(r);
  }
  return m;
}
json pair_json(const std::array<double, 2>& p) {
  if (!std::isfinite(p[0]) && !std::isfinite(p[1])) return nullptr;
  return json::array({json_number(p[0]), json_number(p[1])});
}
std::array<double, 2> pair_from(const json& j) {
  if (j.is_null()) return {std::nan(""), std::nan("")};
  return {j.at(0).is_null() ? std::nan("") : j.at(0).get<double>(),
          j.at(1).is_null() ? std::nan("") : j.at(1).get<double>()};
}
}  // namespace

// ---- (de)serialisation ------------------------------------------------------------------------
void to_json(json& j, const Estimate& e) { j = json::array({json_number(e.mean), json_number(e.ci_lo), json_number(e.ci_hi)}); }
void from_json(const json& j, Estimate& e) {
  if (!j.is_array() || j.size() != 3) throw DataError("summary.json: estimate: expected [mean, ci_lo, ci_hi]");
  auto g = [](const json& v) { return v.is_null() ? std::nan("") : v.get<double>(); };
  e = {g(j[0]), g(j[1]), g(j[2])};
}

void to_json(json& j, const DataSummary& d) {
  j = {{"trajectories", {{"mitosis", d.trajectories_mitosis}, {"apoptosis", d.trajectories_apoptosis}}},
       {"patches", d.patches}};
}
void from_json(const json& j, DataSummary& d) {
  d.trajectories_mitosis = j.at("trajectories").at("mitosis").get<std::int64_t>();
  d.trajectories_apoptosis = j.at("trajectories").at("apoptosis").get<std::int64_t>();
  d.patches = j.at("patches").get<std::int64_t>();
}

void to_json(json& j, const TypicalityGateSummary& g) {
  j = {{"enabled", g.enabled},
       {"quantile", g.quantile},
       {"rejected_real", g.rejected_real},
       {"rejected_synthetic", g.rejected_synthetic}};
}
void from_json(const json& j, TypicalityGateSummary& g) {
  g.enabled = j.value("enabled", false);
  g.quantile = j.value("quantile", 0.0);
  g.rejected_real = j.value("rejected_real", std::int64_t{0});
  g.rejected_synthetic = j.value("rejected_synthetic", std::int64_t{0});
}

void to_json(json& j, const CvSummary& c) {
  j = {{"folds", c.folds},
       {"class_names", c.class_names},
       {"confusion_mean", matrix_json(c.confusion_mean)},
       {"confusion_std", matrix_json(c.confusion_std)},
       {"confusion_mean_raw", matrix_json(c.confusion_mean_raw)},
       {"typicality_gate", c.typicality_gate}};
}
void from_json(const json& j, CvSummary& c) {
  c.folds = j.at("folds").get<int>();
  c.class_names = j.at("class_names").get<std::vector<std::string>>();
  c.confusion_mean = matrix_from(j.at("confusion_mean"));
  c.confusion_std = matrix_from(j.at("confusion_std"));
  c.confusion_mean_raw = j.contains("confusion_mean_raw") ? matrix_from(j.at("confusion_mean_raw")) : Matrix{};
  c.typicality_gate = j.value("typicality_gate", TypicalityGateSummary{});
}

namespace {
json estimates_json(const std::map<std::string, Estimate>& m) {
  json d = json::object();
  for (const auto& [k, v] : m) d[k] = v;
  return d;
}
std::map<std::string, Estimate> estimates_from(const json& j) {
  std::map<std::string, Estimate> m;
  for (const auto& [k, v] : j.items()) m[k] = v.get<Estimate>();
  return m;
}
}  // namespace

void to_json(json& j, const SwitchNeighboursSummary& s) {
  j = {{"confusion_mean", matrix_json(s.confusion_mean)},
       {"confusion_std", matrix_json(s.confusion_std)},
       {"delta_recall", estimates_json(s.delta_recall)},
       {"delta_recall_raw", estimates_json(s.delta_recall_raw)},
       {"delta_probability", estimates_json(s.delta_probability)},
       {"delta_probability_raw", estimates_json(s.delta_probability_raw)}};
}
void from_json(const json& j, SwitchNeighboursSummary& s) {
  s.confusion_mean = matrix_from(j.at("confusion_mean"));
  s.confusion_std = matrix_from(j.at("confusion_std"));
  s.delta_recall = estimates_from(j.at("delta_recall"));
  auto optional = [&](const char* key) {
    return j.contains(key) ? estimates_from(j.at(key)) : std::map<std::string, Estimate>{};
  };
  s.delta_recall_raw = optional("delta_recall_raw");
  s.delta_probability = optional("delta_probability");
  s.delta_probability_raw = optional("delta_probability_raw");
}

void to_json(json& j, const SwitchCentreSummary& s) {
  j = {{"synthetic_fraction", json_number(s.synthetic_fraction)},
       {"synthetic_fraction_raw", json_number(s.synthetic_fraction_raw)},
       {"gate_rejected", s.gate_rejected},
       {"trajectories", s.trajectories},
       {"recognised_by", s.recognised_by}};
}
void from_json(const json& j, SwitchCentreSummary& s) {
  s.synthetic_fraction = get_num(j, "synthetic_fraction");
  s.synthetic_fraction_raw = j.contains("synthetic_fraction_raw") ? get_num(j, "synthetic_fraction_raw") : std::nan("");
  s.gate_rejected = j.value("gate_rejected", std::int64_t{0});
  s.trajectories = j.value("trajectories", std::int64_t{0});
  s.recognised_by = j.value("recognised_by", std::string());
}

void to_json(json& j, const PcShiftEntry& e) {
  j = {{"pc", e.pc},
       {"slope_mitosis", json_number(e.slope_mitosis)},
       {"slope_apoptosis", json_number(e.slope_apoptosis)},
       {"slope_ci_apoptosis", pair_json(e.slope_ci_apoptosis)},
       {"realistic_range", pair_json(e.realistic_range)},
       {"realistic_range_raw", pair_json(e.realistic_range_raw)},
       {"rho_nuclear_area", json_number(e.rho_nuclear_area)}};
}
void from_json(const json& j, PcShiftEntry& e) {
  e.pc = j.at("pc").get<int>();
  e.slope_mitosis = get_num(j, "slope_mitosis");
  e.slope_apoptosis = get_num(j, "slope_apoptosis");
  e.slope_ci_apoptosis = pair_from(j.at("slope_ci_apoptosis"));
  e.realistic_range = pair_from(j.at("realistic_range"));
  e.realistic_range_raw = j.contains("realistic_range_raw") ? pair_from(j.at("realistic_range_raw"))
                                                            : std::array<double, 2>{std::nan(""), std::nan("")};
  e.rho_nuclear_area = get_num(j, "rho_nuclear_area");
}

void to_json(json& j, const PcShiftSummary& s) {
  json shifts = json::array();
  for (double v : s.shifts) shifts.push_back(json_number(v));
  j = {{"shifts", shifts},
       {"per_pc", s.per_pc},
       {"top_pc", s.top_pc},
       {"predictions", s.predictions},
       {"gate_rejected", s.gate_rejected}};
}
void from_json(const json& j, PcShiftSummary& s) {
  s.shifts = j.at("shifts").get<std::vector<double>>();
  s.per_pc = j.at("per_pc").get<std::vector<PcShiftEntry>>();
  s.predictions = j.value("predictions", std::int64_t{0});
  s.gate_rejected = j.value("gate_rejected", std::int64_t{0});
  s.top_pc = j.at("top_pc").get<int>();
}

void to_json(json& j, const VerdictEntry& v) {
  j = {{"experiment", v.experiment},
       {"claim", v.claim},
       {"outcome", v.outcome},
       {"direction", v.direction},
       {"estimate", json_number(v.estimate)},
       {"ci", json::array({json_number(v.ci[0]), json_number(v.ci[1])})},
       {"margin", v.margin},
       {"trajectories_needed", v.trajectories_needed >= 0 ? json(v.trajectories_needed) : json(nullptr)},
       {"statistic_read", v.statistic_read},
       {"conclusion", v.conclusion},
       {"expected_outcome", v.expected_outcome},
       {"expected_direction", v.expected_direction},
       {"correct", v.correct}};
}
void from_json(const json& j, VerdictEntry& v) {
  v.experiment = j.at("experiment").get<std::string>();
  v.conclusion = j.at("conclusion").get<std::string>();
  v.correct = j.at("correct").get<bool>();
  v.claim = j.value("claim", std::string());
  v.outcome = j.value("outcome", std::string("inconclusive"));
  v.direction = j.value("direction", 0);
  v.estimate = j.contains("estimate") ? get_num(j, "estimate") : std::nan("");
  if (j.contains("ci") && j.at("ci").is_array() && j.at("ci").size() == 2) v.ci = pair_from(j.at("ci"));
  v.margin = j.value("margin", 0.0);
  v.trajectories_needed =
      j.contains("trajectories_needed") && j.at("trajectories_needed").is_number() ? j.at("trajectories_needed").get<std::int64_t>() : -1;
  v.statistic_read = j.value("statistic_read", std::isfinite(v.estimate));
  v.expected_outcome = j.value("expected_outcome", std::string());
  v.expected_direction = j.value("expected_direction", 0);
}
void to_json(json& j, const GroundTruthSummary& g) { j = {{"world", g.world}, {"verdicts", g.verdicts}}; }
void from_json(const json& j, GroundTruthSummary& g) {
  g.world = j.at("world").get<std::string>();
  g.verdicts = j.at("verdicts").get<std::vector<VerdictEntry>>();
}

void to_json(json& j, const RunSummary& s) {
  // Refuse before writing anything: json(s) runs this inside basic_json's constructor, and an
  // exception thrown after `j` owns allocations leaks them (the half-built json is never destroyed).
  if (!s.extra.is_null()) {
    if (!s.extra.is_object()) throw DataError("summary: extra sections must be a JSON object");
    for (const auto& [k, v] : s.extra.items())
      if (std::find(contract_keys().begin(), contract_keys().end(), k) != contract_keys().end())
        throw DataError("summary: extra section '" + k + "' clashes with a contract key");
  }
  j = json::object();
  j["taupe_version"] = s.taupe_version;
  j["preset"] = s.preset;
  j["world"] = s.world ? json(*s.world) : json(nullptr);
  j["seed"] = s.seed;
  j["data"] = s.data;
  j["cv"] = s.cv;
  j["switch_neighbours"] = s.switch_neighbours;
  j["switch_centre"] = s.switch_centre;
  j["pc_shift"] = s.pc_shift;
  if (s.ground_truth) j["ground_truth"] = *s.ground_truth;
  json timings = json::object();
  for (const auto& [k, v] : s.timings_s) timings[k] = json_number(v);
  j["timings_s"] = timings;
  if (!s.extra.is_null())
    for (const auto& [k, v] : s.extra.items()) j[k] = v;
}

void from_json(const json& j, RunSummary& s) {
  try {
    s.taupe_version = j.at("taupe_version").get<std::string>();
    s.preset = j.at("preset").get<std::string>();
    s.world = j.at("world").is_null() ? std::nullopt : std::optional<std::string>(j.at("world").get<std::string>());
    s.seed = j.at("seed").get<std::uint64_t>();
    s.data = j.at("data").get<DataSummary>();
    s.cv = j.at("cv").get<CvSummary>();
    s.switch_neighbours = j.at("switch_neighbours").get<SwitchNeighboursSummary>();
    s.switch_centre = j.at("switch_centre").get<SwitchCentreSummary>();
    s.pc_shift = j.at("pc_shift").get<PcShiftSummary>();
    if (j.contains("ground_truth") && !j.at("ground_truth").is_null())
      s.ground_truth = j.at("ground_truth").get<GroundTruthSummary>();
    else
      s.ground_truth.reset();
    s.timings_s.clear();
    for (const auto& [k, v] : j.at("timings_s").items()) s.timings_s[k] = v.is_null() ? std::nan("") : v.get<double>();
    s.extra = json::object();
    for (const auto& [k, v] : j.items())
      if (std::find(contract_keys().begin(), contract_keys().end(), k) == contract_keys().end()) s.extra[k] = v;
  } catch (const json::exception& e) {
    throw DataError(std::string("summary.json: ") + e.what());
  }
}

// ---- validation -------------------------------------------------------------------------------
namespace {
class Validator {
 public:
  explicit Validator(const SummaryValidationOptions& o) : opts_(o) {}
  std::vector<std::string> problems;

  void add(const std::string& path, const std::string& what) { problems.push_back(path + ": " + what); }

  /// Required key of an object; reports and returns null when missing.
  const json* key(const json& obj, const std::string& path, const std::string& k) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(k);
    if (it == obj.end()) {
      add(join(path, k), "missing");
      return nullptr;
    }
    return &*it;
  }
  const json* object(const json& obj, const std::string& path, const std::string& k) {
    const json* v = key(obj, path, k);
    if (v && !v->is_object()) {
      add(join(path, k), "expected an object, got " + std::string(v->type_name()));
      return nullptr;
    }
    return v;
  }
  void string(const json& obj, const std::string& path, const std::string& k) {
    const json* v = key(obj, path, k);
    if (v && !v->is_string()) add(join(path, k), "expected a string, got " + std::string(v->type_name()));
  }
  void count(const json& obj, const std::string& path, const std::string& k, long long min = 0) {
    const json* v = key(obj, path, k);
    if (!v) return;
    if (!v->is_number_integer()) add(join(path, k), "expected an integer, got " + std::string(v->type_name()));
    else if (v->get<long long>() < min) add(join(path, k), "= " + v->dump() + ": must be >= " + std::to_string(min));
  }
  /// Number (or null when allowed) within [lo, hi].
  void number(const json* v, const std::string& p, bool nullable, double lo = -HUGE_VAL, double hi = HUGE_VAL) {
    if (!v) return;
    if (v->is_null()) {
      if (!nullable) add(p, "expected a number, got null");
      return;
    }
    if (!v->is_number()) {
      add(p, "expected a number, got " + std::string(v->type_name()));
      return;
    }
    const double x = v->get<double>();
    if (!std::isfinite(x)) add(p, "not finite");
    else if (x < lo || x > hi)
      add(p, "= " + v->dump() +
                 (std::isfinite(hi) ? ": must be in [" + fmt(lo, 6) + ", " + fmt(hi, 6) + "]" : ": must be >= " + fmt(lo, 6)));
  }
  /// [lo, hi] pair, or null when nullable.
  void interval(const json* v, const std::string& p, bool nullable) {
    if (!v) return;
    if (v->is_null()) {
      if (!nullable) add(p, "expected [lo, hi], got null");
      return;
    }
    if (!v->is_array() || v->size() != 2) {
      add(p, "expected [lo, hi]");
      return;
    }
    number(&(*v)[0], p + "[0]", false);
    number(&(*v)[1], p + "[1]", false);
    if ((*v)[0].is_number() && (*v)[1].is_number() && (*v)[0].get<double>() > (*v)[1].get<double>())
      add(p, "lo " + (*v)[0].dump() + " > hi " + (*v)[1].dump());
  }
  /// 3×3 matrix of numbers in [0, 1]; rows summing to 1 when `normalised`.
  void matrix(const json* v, const std::string& p, bool normalised) {
    if (!v) return;
    const auto& names = summary_class_names();
    if (!v->is_array() || v->size() != 3) {
      add(p, "expected a 3x3 matrix (3 rows), got " + (v->is_array() ? std::to_string(v->size()) + " rows" : std::string(v->type_name())));
      return;
    }
    for (std::size_t i = 0; i < 3; ++i) {
      const json& row = (*v)[i];
      const std::string rp = p + "[" + std::to_string(i) + "]";
      if (!row.is_array() || row.size() != 3) {
        add(rp, "expected 3 columns, got " + (row.is_array() ? std::to_string(row.size()) : std::string(row.type_name())));
        continue;
      }
      double sum = 0;
      bool all_num = true;
      for (std::size_t k = 0; k < 3; ++k) {
        const std::string cp = rp + "[" + std::to_string(k) + "]";
        if (!row[k].is_number()) {
          add(cp, "expected a number, got " + std::string(row[k].type_name()));
          all_num = false;
          continue;
        }
        number(&row[k], cp, false, 0.0, 1.0);
        sum += row[k].get<double>();
      }
      if (normalised && all_num && std::fabs(sum - 1.0) > opts_.row_sum_tolerance)
        add(p, "row " + std::to_string(i) + " (" + names[i] + ") sums to " + fmt(sum, 6) + ", expected 1 \u00b1 " +
                   fmt(opts_.row_sum_tolerance, 6));
    }
  }
  static std::string join(const std::string& path, const std::string& k) { return path.empty() ? k : path + "." + k; }

 private:
  SummaryValidationOptions opts_;
};
}  // namespace

namespace {
void validate_data(Validator& v, const json& j) {
  if (const json* d = v.object(j, "", "data")) {
    if (const json* t = v.object(*d, "data", "trajectories")) {
      v.count(*t, "data.trajectories", "mitosis");
      v.count(*t, "data.trajectories", "apoptosis");
    }
    v.count(*d, "data", "patches");
  }
}

void validate_cv(Validator& v, const json& j) {
  if (const json* cv = v.object(j, "", "cv")) {
    v.count(*cv, "cv", "folds", 1);
    if (const json* cn = v.key(*cv, "cv", "class_names")) {
      if (!cn->is_array() || *cn != json(summary_class_names()))
        v.add("cv.class_names", "must be [\"mitosis\",\"apoptosis\",\"synthetic\"], got " + cn->dump());
    }
    v.matrix(v.key(*cv, "cv", "confusion_mean"), "cv.confusion_mean", true);
    v.matrix(v.key(*cv, "cv", "confusion_std"), "cv.confusion_std", false);
  }
}

/// switch_neighbours.<name>: class → [mean, ci_lo, ci_hi] of a change in [−1, 1]; `required`
/// classes must be present.
void validate_changes(Validator& v, const json* dr, const std::string& name, std::initializer_list<const char*> required) {
  if (!dr) return;
  for (const char* r : required)
    if (!dr->contains(r)) v.add("switch_neighbours." + name + "." + r, "missing");
  for (const auto& [k, e] : dr->items()) {
    const std::string p = "switch_neighbours." + name + "." + k;
    const auto& names = summary_class_names();
    if (std::find(names.begin(), names.end(), k) == names.end()) v.add(p, "not a class name");
    if (!e.is_array() || e.size() != 3) {
      v.add(p, "expected [mean, ci_lo, ci_hi], got " + e.dump());
      continue;
    }
    v.number(&e[0], p + "[0] (mean)", false, -1.0, 1.0);
    v.number(&e[1], p + "[1] (ci_lo)", false, -1.0, 1.0);
    v.number(&e[2], p + "[2] (ci_hi)", false, -1.0, 1.0);
    if (e[1].is_number() && e[2].is_number() && e[1].get<double>() > e[2].get<double>())
      v.add(p, "ci_lo " + e[1].dump() + " > ci_hi " + e[2].dump());
  }
}

void validate_switches(Validator& v, const json& j) {
  if (const json* sn = v.object(j, "", "switch_neighbours")) {
    v.matrix(v.key(*sn, "switch_neighbours", "confusion_mean"), "switch_neighbours.confusion_mean", true);
    v.matrix(v.key(*sn, "switch_neighbours", "confusion_std"), "switch_neighbours.confusion_std", false);
    validate_changes(v, v.object(*sn, "switch_neighbours", "delta_recall"), "delta_recall", {"mitosis", "apoptosis"});
    // Optional (empty in summaries of runs that predate them); when present, entries are checked.
    for (const char* opt : {"delta_recall_raw", "delta_probability", "delta_probability_raw"})
      if (sn->contains(opt)) validate_changes(v, v.object(*sn, "switch_neighbours", opt), opt, {});
  }
  if (const json* sc = v.object(j, "", "switch_centre"))
    v.number(v.key(*sc, "switch_centre", "synthetic_fraction"), "switch_centre.synthetic_fraction", false, 0.0, 1.0);
}

/// pc_shift.shifts: a non-empty, strictly ascending array of numbers.
void validate_shift_grid(Validator& v, const json* sh) {
  if (!sh) return;
  if (!sh->is_array() || sh->empty()) {
    v.add("pc_shift.shifts", "expected a non-empty array of numbers");
    return;
  }
  for (std::size_t i = 0; i < sh->size(); ++i) {
    v.number(&(*sh)[i], "pc_shift.shifts[" + std::to_string(i) + "]", false);
    if (i > 0 && (*sh)[i].is_number() && (*sh)[i - 1].is_number() && !((*sh)[i].get<double>() > (*sh)[i - 1].get<double>()))
      v.add("pc_shift.shifts", "not strictly ascending at index " + std::to_string(i));
  }
}

/// pc_shift.per_pc: a non-empty array of per-PC objects with distinct PCs; returns the PCs.
std::set<long long> validate_per_pc(Validator& v, const json* pp) {
  std::set<long long> pcs;
  if (!pp) return pcs;
  if (!pp->is_array() || pp->empty()) {
    v.add("pc_shift.per_pc", "expected a non-empty array");
    return pcs;
  }
  for (std::size_t i = 0; i < pp->size(); ++i) {
    const json& e = (*pp)[i];
    const std::string p = "pc_shift.per_pc[" + std::to_string(i) + "]";
    if (!e.is_object()) {
      v.add(p, "expected an object");
      continue;
    }
    v.count(e, p, "pc");
    if (e.contains("pc") && e["pc"].is_number_integer() && !pcs.insert(e["pc"].get<long long>()).second)
      v.add(p + ".pc", "duplicate pc " + e["pc"].dump());
    v.number(v.key(e, p, "slope_mitosis"), p + ".slope_mitosis", true);
    v.number(v.key(e, p, "slope_apoptosis"), p + ".slope_apoptosis", true);
    v.interval(v.key(e, p, "slope_ci_apoptosis"), p + ".slope_ci_apoptosis", true);
    v.interval(v.key(e, p, "realistic_range"), p + ".realistic_range", true);
    v.number(v.key(e, p, "rho_nuclear_area"), p + ".rho_nuclear_area", true, -1.0, 1.0);
  }
  return pcs;
}

void validate_pc_shift(Validator& v, const json& j) {
  const json* ps = v.object(j, "", "pc_shift");
  if (!ps) return;
  validate_shift_grid(v, v.key(*ps, "pc_shift", "shifts"));
  const std::set<long long> pcs = validate_per_pc(v, v.key(*ps, "pc_shift", "per_pc"));
  if (const json* tp = v.key(*ps, "pc_shift", "top_pc")) {
    if (!tp->is_number_integer()) v.add("pc_shift.top_pc", "expected an integer");
    else if (!pcs.empty() && !pcs.count(tp->get<long long>()))
      v.add("pc_shift.top_pc", "= " + tp->dump() + ": not one of the per_pc entries");
  }
}

/// One entry of ground_truth.verdicts, at path p.
void validate_verdict(Validator& v, const json& e, const std::string& p) {
  if (!e.is_object()) {
    v.add(p, "expected an object");
    return;
  }
  v.string(e, p, "experiment");
  v.string(e, p, "conclusion");
  if (const json* c = v.key(e, p, "correct"); c && !c->is_boolean()) v.add(p + ".correct", "expected a boolean");
  if (const auto r = e.find("statistic_read"); r != e.end() && !r->is_boolean())
    v.add(p + ".statistic_read", "expected a boolean");
  for (const char* k : {"outcome", "expected_outcome"})
    if (const json* o = v.key(e, p, k)) {
      // outcome: effect | no effect | inconclusive; expected_outcome: effect | no effect |
      // "" (a world whose planted causes are unknown).
      const bool is_outcome = std::string(k) == "outcome";
      const bool ok = o->is_string() && (*o == "effect" || *o == "no effect" ||
                                         (is_outcome ? *o == "inconclusive" : *o == ""));
      if (!ok) v.add(p + "." + k, std::string("expected \"effect\", \"no effect\" or ") +
                                      (is_outcome ? "\"inconclusive\"" : "\"\"") + ", found " + o->dump());
    }
  for (const char* k : {"direction", "expected_direction"})
    if (const json* d = v.key(e, p, k); d && !(d->is_number_integer() && std::abs(d->get<int>()) <= 1))
      v.add(p + "." + k, "expected -1, 0 or +1, found " + d->dump());
  if (const json* c = v.key(e, p, "ci"); c && !(c->is_array() && c->size() == 2)) v.add(p + ".ci", "expected [lo, hi]");
}

/// ground_truth: required for simulated data (world a string), absent for real data; its world
/// and verdicts.
void validate_ground_truth(Validator& v, const json& j, const json* world) {
  const bool simulated = world && world->is_string();
  const auto gt_it = j.find("ground_truth");
  const bool has_gt = gt_it != j.end() && !gt_it->is_null();
  if (simulated && !has_gt) v.add("ground_truth", "missing (required for simulated data, world = " + world->dump() + ")");
  if (!simulated && world && has_gt) v.add("ground_truth", "present for real data (world is null)");
  if (!has_gt) return;
  const json& gt = *gt_it;
  if (!gt.is_object()) {
    v.add("ground_truth", "expected an object");
    return;
  }
  v.string(gt, "ground_truth", "world");
  if (simulated && gt.contains("world") && gt["world"] != *world)
    v.add("ground_truth.world", gt["world"].dump() + " differs from world " + world->dump());
  if (const json* vs = v.key(gt, "ground_truth", "verdicts")) {
    if (!vs->is_array()) {
      v.add("ground_truth.verdicts", "expected an array");
    } else {
      for (std::size_t i = 0; i < vs->size(); ++i)
        validate_verdict(v, (*vs)[i], "ground_truth.verdicts[" + std::to_string(i) + "]");
    }
  }
}
}  // namespace

std::vector<std::string> validate_summary_json(const json& j, const SummaryValidationOptions& opts) {
  Validator v(opts);
  if (!j.is_object()) {
    v.add("summary.json", "expected a JSON object at the top level");
    return v.problems;
  }
  v.string(j, "", "taupe_version");
  v.string(j, "", "preset");
  const json* world = v.key(j, "", "world");
  if (world && !world->is_null() && !world->is_string()) v.add("world", "expected a string or null");
  v.count(j, "", "seed");
  validate_data(v, j);
  validate_cv(v, j);
  validate_switches(v, j);
  validate_pc_shift(v, j);
  validate_ground_truth(v, j, world);
  if (const json* t = v.object(j, "", "timings_s"))
    for (const auto& [k, s] : t->items()) v.number(&s, "timings_s." + k, false, 0.0);
  return v.problems;
}

// ---- files --------------------------------------------------------------------------------------
std::string summary_to_string(const RunSummary& s) {
  json j = s;
  return j.dump(2) + "\n";
}

void write_summary(const std::filesystem::path& path, const RunSummary& s) {
  json j = s;
  const auto problems = validate_summary_json(j);
  if (!problems.empty()) {
    std::string msg = path.string() + ": summary does not validate (" + std::to_string(problems.size()) + " problems):";
    for (const auto& p : problems) msg += "\n  " + p;
    throw DataError(msg);
  }
  write_text_atomic(path, j.dump(2) + "\n");
}

RunSummary read_summary(const std::filesystem::path& path) {
  const std::string text = read_text_file(path);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw DataError(path.string() + ": not valid JSON: " + e.what());
  }
  const auto problems = validate_summary_json(j);
  if (!problems.empty()) {
    std::string msg = path.string() + ": invalid summary.json (" + std::to_string(problems.size()) + " problems):";
    for (const auto& p : problems) msg += "\n  " + p;
    throw DataError(msg);
  }
  return j.get<RunSummary>();
}

// ---- brief --------------------------------------------------------------------------------------
namespace {
std::string pm(double m, double s, int d = 2) { return fmt_fixed(m, d) + " \u00b1 " + fmt_fixed(s, d); }
std::string signed_fixed(double v, int d) { return (v >= 0 ? "+" : "") + fmt_fixed(v, d); }
std::string est(const Estimate& e, int d = 2) {
  return signed_fixed(e.mean, d) + " [" + fmt_fixed(e.ci_lo, d) + ", " + fmt_fixed(e.ci_hi, d) + "]";
}
double cell(const Matrix& m, std::size_t i, std::size_t k) {
  return i < m.size() && k < m[i].size() ? m[i][k] : std::nan("");
}
}  // namespace

std::string RunSummary::brief() const {
  std::ostringstream o;
  const auto& names = summary_class_names();
  o << "taupe " << taupe_version << " | preset " << preset << " | " << (world ? "world " + *world : "real data")
    << " | seed " << seed << "\n";
  o << "  data        " << data.trajectories_mitosis << " mitosis + " << data.trajectories_apoptosis
    << " apoptosis trajectories, " << data.patches << " patches\n";
  o << "  cv          " << cv.folds << " folds; recall";
  for (std::size_t i = 0; i < 3; ++i)
    o << (i ? ", " : " ") << names[i] << " " << pm(cell(cv.confusion_mean, i, i), cell(cv.confusion_std, i, i));
  o << "\n";
  o << "  switch      delta recall";
  bool first = true;
  for (const auto& c : names) {
    auto it = switch_neighbours.delta_recall.find(c);
    if (it == switch_neighbours.delta_recall.end()) continue;
    o << (first ? " " : ", ") << c << " " << est(it->second);
    first = false;
  }
  o << "\n";
  o << "  centre      " << fmt_fixed(100.0 * switch_centre.synthetic_fraction, 0)
    << "% of real trajectories predicted synthetic (central-cell switch)\n";
  const PcShiftEntry* top = nullptr;
  for (const auto& e : pc_shift.per_pc)
    if (e.pc == pc_shift.top_pc) top = &e;
  o << "  pc-shift    top PC " << pc_shift.top_pc;
  if (top) {
    o << ": apoptosis slope " << signed_fixed(top->slope_apoptosis, 3) << " [" << fmt_fixed(top->slope_ci_apoptosis[0], 3)
      << ", " << fmt_fixed(top->slope_ci_apoptosis[1], 3) << "] per unit";
    if (std::isfinite(top->rho_nuclear_area)) o << ", rho(nuclear area) " << signed_fixed(top->rho_nuclear_area, 2);
  }
  o << "\n";
  if (ground_truth) {
    const auto ok = std::count_if(ground_truth->verdicts.begin(), ground_truth->verdicts.end(),
                                  [](const VerdictEntry& v) { return v.correct; });
    const auto open = std::count_if(ground_truth->verdicts.begin(), ground_truth->verdicts.end(),
                                    [](const VerdictEntry& v) { return v.outcome == "inconclusive"; });
    o << "  verdicts    " << ok << "/" << ground_truth->verdicts.size() << " match the planted mechanism, " << open
      << " inconclusive (world " << ground_truth->world << ")\n";
    for (const auto& v : ground_truth->verdicts)
      o << "    " << (v.outcome == "inconclusive" ? "[open]  " : v.correct ? "[ok]    " : "[WRONG] ") << v.experiment
        << ": " << v.conclusion << "\n";
  }
  if (!timings_s.empty()) {
    double total = 0;
    for (const auto& [k, s] : timings_s) total += std::isfinite(s) ? s : 0.0;
    o << "  timings     " << fmt_fixed(total, 1) << " s total (";
    bool f = true;
    for (const auto& [k, s] : timings_s) {
      o << (f ? "" : ", ") << k << " " << fmt_fixed(s, 1);
      f = false;
    }
    o << ")\n";
  }
  return o.str();
}

}  // namespace taupe::report
