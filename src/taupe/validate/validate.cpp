// `taupe validate`: study resolution, runs, reading back and aggregation (validate.h).
#include "taupe/validate/validate.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <set>
#include <sstream>
#include <cstring>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/json_number.h"
#include "taupe/core/log.h"
#include "taupe/core/presets.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/stats.h"
#include "taupe/pipeline/pipeline.h"
#include "taupe/pipeline/run_config.h"
#include "taupe/simulate/artifacts.h"
#include "taupe/simulate/sim_config.h"
#include "taupe/validate/validation_html.h"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe::validate {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kStudyFormat = "taupe.study";
constexpr const char* kValidationFormat = "taupe.validation";
constexpr int kFormatVersion = 1;

std::string seed_dir_name(std::int64_t seed) { return "seed-" + std::to_string(seed); }

std::string fixed(double v, int d) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(d) << v;
  return s.str();
}

}  // namespace

const std::vector<std::string>& outcome_columns() {
  static const std::vector<std::string> cols = {kEffect, kNoEffect, kInconclusive, kMissing};
  return cols;
}

// ---- the study ---------------------------------------------------------------------------------
void to_json(json& j, const StudySpec& s) {
  j = {{"format", kStudyFormat},
       {"version", kFormatVersion},
       {"preset", s.preset},
       {"config_file", s.config_file.string()},
       {"sets", s.sets},
       {"worlds", s.worlds},
       {"seeds", s.seeds}};
}

void from_json(const json& j, StudySpec& s) {
  s.preset = j.at("preset").get<std::string>();
  s.config_file = j.value("config_file", std::string());
  s.sets = j.value("sets", std::vector<std::string>{});
  s.worlds = j.at("worlds").get<std::vector<std::string>>();
  s.seeds = j.at("seeds").get<std::vector<std::int64_t>>();
}

std::vector<std::int64_t> parse_seed_list(const std::string& text, const std::string& what) {
  std::vector<std::int64_t> out;
  auto bad = [&](const std::string& why) {
    return ConfigError(what + " = \"" + text + "\": " + why, "give seeds as a list and/or ranges, e.g. 1..10 or 1,4,7 or 1..3,9");
  };
  auto parse_int = [&](const std::string& s) -> std::int64_t {
    std::size_t pos = 0;
    long long v = 0;
    try {
      v = std::stoll(s, &pos);
    } catch (const std::exception&) {
      throw bad("'" + s + "' is not an integer");
    }
    if (pos != s.size()) throw bad("'" + s + "' is not an integer");
    if (v < 0) throw bad("seeds must be >= 0");
    return v;
  };
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) throw bad("empty item");
    const auto dots = item.find("..");
    if (dots == std::string::npos) {
      out.push_back(parse_int(item));
      continue;
    }
    const std::int64_t a = parse_int(item.substr(0, dots)), b = parse_int(item.substr(dots + 2));
    if (b < a) throw bad("range " + item + " runs backwards");
    if (b - a >= 100000) throw bad("range " + item + " is too long");
    for (std::int64_t s = a; s <= b; ++s) out.push_back(s);
  }
  if (out.empty()) throw bad("no seeds");
  std::set<std::int64_t> seen;
  for (auto s : out)
    if (!seen.insert(s).second) throw bad("seed " + std::to_string(s) + " is listed twice");
  return out;
}

fs::path study_file(const fs::path& study_dir) { return study_dir / "study.json"; }

namespace {

void check_spec(const StudySpec& s, const std::string& where) {
  if (!has_preset(s.preset)) (void)preset_text(s.preset);  // throws ConfigError with the list
  if (s.worlds.empty()) throw ConfigError(where + ": worlds is empty");
  if (s.seeds.empty()) throw ConfigError(where + ": seeds is empty");
  std::set<std::string> worlds;
  for (const auto& w : s.worlds) {
    SimConfig c;
    c.world = w;
    try {
      c.validate();
    } catch (const ConfigError& e) {
      throw ConfigError(where + ": world \"" + w + "\": " + e.what());
    }
    if (!worlds.insert(w).second) throw ConfigError(where + ": world \"" + w + "\" is listed twice");
  }
  std::set<std::int64_t> seeds;
  for (auto v : s.seeds) {
    if (v < 0) throw ConfigError(where + ": seed " + std::to_string(v) + " is negative");
    if (!seeds.insert(v).second) throw ConfigError(where + ": seed " + std::to_string(v) + " is listed twice");
  }
}

}  // namespace

StudySpec resolve_study(const fs::path& study_dir, const StudySpec& given, bool write) {
  const fs::path file = study_file(study_dir);
  if (fs::exists(file)) {
    StudySpec stored;
    try {
      const json j = json::parse(read_text_file(file));
      if (j.value("format", "") != kStudyFormat) throw DataError(file.string() + ": field \"format\" must be \"" + kStudyFormat + "\"");
      stored = j.get<StudySpec>();
    } catch (const json::exception& e) {
      throw DataError(file.string() + ": not a study file: " + e.what());
    }
    auto differs = [&](const std::string& field) {
      return ConfigError(file.string() + ": field \"" + field + "\" differs from the command line",
                         "a study directory holds one study: drop the option to use the recorded study, or use another "
                         "directory");
    };
    if (!given.preset.empty() && given.preset != stored.preset) throw differs("preset");
    if (!given.config_file.empty() && given.config_file != stored.config_file) throw differs("config_file");
    if (!given.sets.empty() && given.sets != stored.sets) throw differs("sets");
    if (!given.worlds.empty() && given.worlds != stored.worlds) throw differs("worlds");
    if (!given.seeds.empty() && given.seeds != stored.seeds) throw differs("seeds");
    check_spec(stored, file.string());
    return stored;
  }
  StudySpec s = given;
  if (s.preset.empty()) s.preset = kDefaultPreset;
  if (!s.config_file.empty()) s.config_file = fs::absolute(s.config_file);
  if (s.worlds.empty()) s.worlds = kSimWorlds;
  if (s.seeds.empty())
    for (int i = 1; i <= kDefaultSeeds; ++i) s.seeds.push_back(i);
  check_spec(s, "taupe validate");
  if (write) write_text_atomic(file, json(s).dump(2) + "\n");
  return s;
}

std::vector<StudyMember> study_members(const StudySpec& spec, const fs::path& study_dir) {
  std::vector<StudyMember> out;
  for (const auto& w : spec.worlds)
    for (auto s : spec.seeds) out.push_back({w, s, study_dir / w / seed_dir_name(s)});
  return out;
}

// ---- reading a run back -----------------------------------------------------------------------------
std::string direction_mark(const std::string& outcome, int direction) {
  if (outcome != kEffect || direction == 0) return "";
  return direction > 0 ? " (+)" : " (-)";
}

VerdictRecord::VerdictRecord() : estimate(kNaN), ci_lo(kNaN), ci_hi(kNaN), margin(kNaN) {}

double RunRecord::seconds() const {
  double s = 0;
  for (const auto& [stage, t] : timings_s) s += t;
  return s;
}

namespace {

double number_or_nan(const json& j, const char* key) {
  if (!j.is_object()) return kNaN;
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
}

int sign_of(const json& j, const char* key) {
  const double v = number_or_nan(j, key);
  return std::isfinite(v) ? (v > 0) - (v < 0) : 0;
}

std::string string_or(const json& j, const char* key, const std::string& fallback) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

/// Diagonal recalls (mitosis, apoptosis) of a 3×3 row-normalised confusion matrix.
void recall_from(const json& m, const std::string& suffix, std::map<std::string, double>& out) {
  if (!m.is_array() || m.size() < 2) return;
  const char* names[] = {"mitosis", "apoptosis"};
  for (std::size_t i = 0; i < 2; ++i)
    if (m[i].is_array() && m[i].size() > i && m[i][i].is_number()) out[names[i] + suffix] = m[i][i].get<double>();
}

}  // namespace

RunRecord parse_run(const StudyMember& m, const json& summary, const json& manifest) {
  RunRecord r;
  r.member = m;
  if (manifest.is_object() && manifest.contains("stages") && manifest["stages"].is_array())
    for (const auto& st : manifest["stages"])
      if (st.is_object() && st.value("status", "") == "done" && st.contains("seconds") && st["seconds"].is_number())
        r.timings_s[st.value("name", "?")] = st["seconds"].get<double>();
  if (!summary.is_object()) {
    r.problem = "no summary.json";
    return r;
  }
  r.status = "done";
  if (summary.contains("timings_s") && summary["timings_s"].is_object()) {
    r.timings_s.clear();
    for (const auto& [stage, t] : summary["timings_s"].items())
      if (t.is_number()) r.timings_s[stage] = t.get<double>();
  }
  if (summary.contains("cv") && summary["cv"].is_object()) {
    const json& cv = summary["cv"];
    if (cv.contains("confusion_mean")) recall_from(cv["confusion_mean"], "", r.cv_recall);
    // The TCN alone (no typicality gate) beside the gated result, when the run reports it.
    if (cv.contains("confusion_mean_raw")) recall_from(cv["confusion_mean_raw"], "_raw", r.cv_recall);
  }
  if (summary.contains("model_skill") && summary["model_skill"].is_object())
    r.skill_state = string_or(summary["model_skill"], "state",  // older summaries: only "passes"
                              summary["model_skill"].value("passes", false) ? "shown" : "");
  const std::string world = string_or(summary, "world", "");
  if (world != m.world) {
    r.status = "invalid";
    r.problem = "summary.json: world \"" + world + "\", expected \"" + m.world + "\"";
    return r;
  }
  const json* verdicts = nullptr;
  if (summary.contains("ground_truth") && summary["ground_truth"].is_object() &&
      summary["ground_truth"].contains("verdicts") && summary["ground_truth"]["verdicts"].is_array())
    verdicts = &summary["ground_truth"]["verdicts"];
  else if (world.empty() && summary.contains("verdicts") && summary["verdicts"].is_array())
    verdicts = &summary["verdicts"];  // real data: the conclusions without expected outcomes
  if (!verdicts) {
    r.problem = "summary.json: no ground_truth.verdicts";
    return r;
  }
  for (const auto& v : *verdicts) {
    VerdictRecord vr;
    vr.experiment = string_or(v, "experiment", "");
    if (vr.experiment.empty()) continue;
    const std::string outcome = string_or(v, "outcome", kMissing);
    vr.outcome = (outcome == kEffect || outcome == kNoEffect || outcome == kInconclusive) ? outcome : kMissing;
    vr.direction = sign_of(v, "direction");
    vr.estimate = number_or_nan(v, "estimate");
    if (v.contains("ci") && v["ci"].is_array() && v["ci"].size() == 2) {
      vr.ci_lo = v["ci"][0].is_number() ? v["ci"][0].get<double>() : kNaN;
      vr.ci_hi = v["ci"][1].is_number() ? v["ci"][1].get<double>() : kNaN;
    }
    vr.margin = number_or_nan(v, "margin");
    vr.expected_outcome = string_or(v, "expected_outcome", "");
    vr.expected_direction = sign_of(v, "expected_direction");
    vr.statistic_read = v.contains("statistic_read") && v["statistic_read"].is_boolean()
                            ? v["statistic_read"].get<bool>()
                            : std::isfinite(vr.estimate);
    // A verdict without an outcome (older schema) is never correct.
    vr.correct = vr.outcome != kMissing && vr.outcome != kInconclusive && v.contains("correct") &&
                 v["correct"].is_boolean() && v["correct"].get<bool>();
    r.verdicts.push_back(vr);
  }
  return r;
}

const std::vector<std::string>& world_stat_keys() {
  namespace sa = simulate_artifacts;
  static const std::vector<std::string> keys = {sa::kAucCompression, sa::kAucWtNeighbours, sa::kAucSmallNucleus,
                                                sa::kLogitCompression, sa::kLogitWtNeighbours};
  return keys;
}

namespace {
/// world_stat_keys() from a parsed simulation.json: numbers as they are, arrays by their first
/// element (the estimate); anything else is left out.
std::map<std::string, double> world_stats_of(const json& sim) {
  std::map<std::string, double> out;
  if (!sim.is_object()) return out;
  for (const auto& k : world_stat_keys()) {
    const auto it = sim.find(k);
    if (it == sim.end()) continue;
    const json& x = it->is_array() && !it->empty() ? it->front() : *it;
    if (x.is_number()) out[k] = x.get<double>();
  }
  return out;
}
}  // namespace

RunRecord read_run(const StudyMember& m) {
  auto read_json = [](const fs::path& f, std::string& problem) -> json {
    if (!fs::exists(f)) return json();
    try {
      return json::parse(read_text_file(f));
    } catch (const std::exception& e) {
      problem = f.filename().string() + ": " + e.what();
      return json();
    }
  };
  std::string problem;
  const json manifest = read_json(m.dir / RunDir::kManifestName, problem);
  const json summary = read_json(RunLayout(m.dir).summary(), problem);
  RunRecord r = parse_run(m, summary, manifest);
  // The world's ground truth is context, not a verdict: an unreadable simulation.json is noted
  // but leaves the run's status alone.
  std::string sim_problem;
  r.world_stats = world_stats_of(read_json(simulate_artifacts::simulation_json(RunLayout(m.dir).data()), sim_problem));
  if (!problem.empty()) {
    r.status = "invalid";
    r.problem = problem;
  } else if (r.status == kMissing && !fs::exists(m.dir)) {
    r.problem = "not run";
  }
  if (!sim_problem.empty()) r.problem += (r.problem.empty() ? "" : "; ") + sim_problem;
  return r;
}

// ---- aggregation --------------------------------------------------------------------------------------
Proportion proportion(std::int64_t k, std::int64_t n) {
  Proportion p;
  p.k = k;
  p.n = n;
  const stats::Interval ci = stats::wilson_interval(k, n);
  p.value = n > 0 ? static_cast<double>(k) / static_cast<double>(n) : kNaN;
  p.lo = ci.lo;
  p.hi = ci.hi;
  return p;
}

Validation aggregate(const StudySpec& spec, std::vector<RunRecord> runs) {
  Validation v;
  v.spec = spec;
  v.runs = std::move(runs);
  // Verdicts in the order the runs first report them, over all worlds: every world gets a cell
  // for every verdict (a world whose runs never report one shows it as missing).
  std::vector<std::string> experiments;
  for (const auto& r : v.runs)
    for (const auto& vr : r.verdicts)
      if (std::find(experiments.begin(), experiments.end(), vr.experiment) == experiments.end())
        experiments.push_back(vr.experiment);
  for (const auto& world : spec.worlds) {
    std::vector<const RunRecord*> wr;
    for (const auto& r : v.runs)
      if (r.member.world == world) wr.push_back(&r);
    for (const auto& e : experiments) {
      Cell c;
      c.world = world;
      c.experiment = e;
      c.seeds = static_cast<std::int64_t>(wr.size());
      for (const auto& col : outcome_columns()) c.counts[col] = 0;
      std::int64_t right_effect = 0;
      for (const RunRecord* r : wr) {
        const VerdictRecord* found = nullptr;
        for (const auto& vr : r->verdicts)
          if (vr.experiment == e) found = &vr;
        if (!found) {
          ++c.counts[kMissing];
          continue;
        }
        ++c.counts[found->outcome];
        if (c.expected_outcome.empty() && !found->expected_outcome.empty()) {
          c.expected_outcome = found->expected_outcome;
          c.expected_direction = found->expected_direction;
        }
        if (found->correct) ++c.correct;
        if (found->outcome == kEffect) {
          if (found->direction == found->expected_direction) ++right_effect;
          else if (found->expected_outcome == kEffect) ++c.wrong_direction;
        }
      }
      c.accuracy = proportion(c.correct, c.seeds);
      if (c.expected_outcome == kNoEffect) c.false_effect_rate = proportion(c.counts[kEffect], c.seeds);
      if (c.expected_outcome == kEffect) c.power = proportion(right_effect, c.seeds);
      v.cells.push_back(c);
    }
  }
  for (const auto& r : v.runs) {
    v.runs_sum_s += r.seconds();
    v.run_max_s = std::max(v.run_max_s, r.seconds());
    for (const auto& [k, x] : r.world_stats) {
      WorldStat& w = v.world_stats[r.member.world][k];
      w.min = w.n ? std::min(w.min, x) : x;
      w.max = w.n ? std::max(w.max, x) : x;
      w.mean += x;
      ++w.n;
    }
  }
  for (auto& [world, stats] : v.world_stats)
    for (auto& [k, w] : stats) w.mean /= static_cast<double>(w.n);
  return v;
}

namespace {

json proportion_json(const std::optional<Proportion>& p) {
  if (!p) return nullptr;
  return {{"k", p->k}, {"n", p->n}, {"value", json_number(p->value)}, {"ci", {json_number(p->lo), json_number(p->hi)}}};
}

}  // namespace

json Validation::to_json() const {
  json runs_j = json::array();
  for (const auto& r : runs) {
    json vs = json::array();
    for (const auto& vr : r.verdicts)
      vs.push_back({{"experiment", vr.experiment},
                    {"outcome", vr.outcome},
                    {"direction", vr.direction},
                    {"estimate", json_number(vr.estimate)},
                    {"ci", {json_number(vr.ci_lo), json_number(vr.ci_hi)}},
                    {"margin", json_number(vr.margin)},
                    {"expected_outcome", vr.expected_outcome},
                    {"expected_direction", vr.expected_direction},
                    {"correct", vr.correct}});
    json recall = json::object();
    for (const auto& [k, x] : r.cv_recall) recall[k] = json_number(x);
    runs_j.push_back({{"world", r.member.world},
                      {"seed", r.member.seed},
                      {"dir", r.member.dir.string()},
                      {"status", r.status},
                      {"problem", r.problem},
                      {"cv_recall", recall},
                      {"seconds", r.seconds()},
                      {"timings_s", r.timings_s},
                      {"world_stats", r.world_stats},
                      {"verdicts", vs}});
  }
  json world_stats_j = json::object();
  for (const auto& [world, stats] : world_stats)
    for (const auto& [k, w] : stats)
      world_stats_j[world][k] = {{"n", w.n}, {"mean", json_number(w.mean)}, {"min", json_number(w.min)}, {"max", json_number(w.max)}};
  json cells_j = json::array();
  for (const auto& c : cells)
    cells_j.push_back({{"world", c.world},
                       {"experiment", c.experiment},
                       {"seeds", c.seeds},
                       {"expected_outcome", c.expected_outcome.empty() ? json(nullptr) : json(c.expected_outcome)},
                       {"expected_direction", c.expected_direction},
                       {"counts", c.counts},
                       {"correct", c.correct},
                       {"wrong_direction", c.wrong_direction},
                       {"accuracy", proportion_json(c.accuracy)},
                       {"false_effect_rate", proportion_json(c.false_effect_rate)},
                       {"power", proportion_json(c.power)}});
  return {{"format", kValidationFormat},
          {"version", kFormatVersion},
          {"preset", spec.preset},
          {"config_file", spec.config_file.string()},
          {"sets", spec.sets},
          {"worlds", spec.worlds},
          {"seeds", spec.seeds},
          {"runs", runs_j},
          {"cells", cells_j},
          {"world_stats", world_stats_j},
          {"timing",
           {{"runs_sum_s", runs_sum_s},
            {"run_max_s", run_max_s},
            {"elapsed_s", elapsed_s ? json(*elapsed_s) : json(nullptr)}}}};
}

std::string Validation::brief() const {
  std::ostringstream o;
  std::size_t done = 0;
  for (const auto& r : runs) done += r.status == "done";
  o << "validation: preset " << spec.preset << ", " << spec.worlds.size() << " worlds x " << spec.seeds.size()
    << " seeds, " << done << "/" << runs.size() << " runs read\n";
  o << std::left << std::setw(12) << "world" << std::setw(20) << "verdict" << std::setw(11) << "expected"
    << std::right << std::setw(7) << "effect" << std::setw(6) << "none" << std::setw(7) << "incon" << std::setw(6)
    << "miss" << "  accuracy [95% CI]     false effect / power\n";
  for (const auto& c : cells) {
    o << std::left << std::setw(12) << c.world << std::setw(20) << c.experiment << std::setw(11)
      << (c.expected_outcome.empty() ? "?" : c.expected_outcome) << std::right << std::setw(7) << c.counts.at(kEffect)
      << std::setw(6) << c.counts.at(kNoEffect) << std::setw(7) << c.counts.at(kInconclusive) << std::setw(6)
      << c.counts.at(kMissing) << "  " << c.correct << "/" << c.seeds << " [" << fixed(c.accuracy.lo, 2) << ", "
      << fixed(c.accuracy.hi, 2) << "]";
    if (c.false_effect_rate) o << "     false effect " << c.false_effect_rate->k << "/" << c.false_effect_rate->n;
    if (c.power) o << "     power " << c.power->k << "/" << c.power->n;
    o << "\n";
  }
  // The worlds' ground truth, means over their runs (validation.html has the ranges).
  for (const auto& world : spec.worlds) {
    const auto ws = world_stats.find(world);
    if (ws == world_stats.end()) continue;
    o << "ground truth " << world << ":";
    for (const auto& key : world_stat_keys()) {
      const auto it = ws->second.find(key);
      if (it != ws->second.end()) o << " " << key << " " << fixed(it->second.mean, 2);
    }
    o << "\n";
  }
  o << "wall time: runs " << fixed(runs_sum_s, 0) << " s in all, longest run " << fixed(run_max_s, 0) << " s";
  if (elapsed_s) o << ", this study " << fixed(*elapsed_s, 0) << " s";
  o << "\n";
  return o.str();
}

Validation gather(const fs::path& study_dir, std::optional<double> elapsed_s) {
  if (!fs::exists(study_file(study_dir)))
    throw IoError(study_file(study_dir).string() + ": no study here", "run `taupe validate STUDY_DIR` first");
  const StudySpec spec = resolve_study(study_dir, {}, false);
  std::vector<RunRecord> runs;
  for (const auto& m : study_members(spec, study_dir)) runs.push_back(read_run(m));
  Validation v = aggregate(spec, std::move(runs));
  v.elapsed_s = elapsed_s;
  write_text_atomic(study_dir / "validation.json", v.to_json().dump(2) + "\n");
  write_validation_html(v, study_dir / "validation.html");
  return v;
}

// ---- running -----------------------------------------------------------------------------------------
void run_member(const StudySpec& spec, const StudyMember& m, const StudyOptions& opts) {
  std::vector<std::string> sets = spec.sets;
  // run.world is what the pipeline simulates (it sets simulate.world from it).
  sets.push_back("run.world=" + m.world);
  sets.push_back("run.seed=" + std::to_string(m.seed));
  RunConfig cfg = load_run_config(spec.preset, spec.config_file, sets);
  PipelineOptions po;
  po.out = m.dir;
  po.command_line = opts.command_line;
  po.progress = opts.progress;
  run_pipeline(cfg, po);
}

namespace {

std::string member_name(const StudyMember& m) { return m.world + " seed " + std::to_string(m.seed); }

/// Runs members as child processes, at most `jobs` at once; fills res.ran and res.failed.
void run_children(const std::vector<StudyMember>& members, const StudyOptions& opts, StudyResult& res) {
  if (opts.child_command.empty()) throw Error("taupe validate: jobs > 1 needs a child command");
  std::vector<std::string>& failed = res.failed;
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0;
  auto wait_one = [&] {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) throw Error(std::string("taupe validate: waitpid failed: ") + std::strerror(errno));
    const auto it = running.find(pid);
    if (it == running.end()) return;
    const StudyMember& m = members[it->second];
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
      failed.push_back(member_name(m) + ": child process " +
                       (WIFEXITED(status) ? "exited with " + std::to_string(WEXITSTATUS(status))
                                          : "killed by signal " + std::to_string(WTERMSIG(status))) +
                       " (see " + (m.dir / RunDir::kLogName).string() + ")");
    if (ok) res.ran.push_back(m);
    log_info("validate: " + member_name(m) + (ok ? " done" : " FAILED"));
    running.erase(it);
  };
  while (next < members.size() || !running.empty()) {
    while (next < members.size() && static_cast<int>(running.size()) < opts.jobs) {
      std::vector<std::string> args = opts.child_command;
      args.push_back("--index");
      args.push_back(std::to_string(next));
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      pid_t pid = 0;
      const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
      if (rc != 0) throw Error("taupe validate: cannot start " + args[0] + ": " + std::strerror(rc));
      log_info("validate: " + member_name(members[next]) + " started (process " + std::to_string(pid) + ")");
      running[pid] = next++;
    }
    if (!running.empty()) wait_one();
  }
}

}  // namespace

StudyResult run_study(const fs::path& study_dir, const StudySpec& given, const StudyOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  fs::create_directories(study_dir);
  const StudySpec spec = resolve_study(study_dir, given, true);
  const std::vector<StudyMember> members = study_members(spec, study_dir);
  StudyResult res;
  if (opts.index >= 0) {
    if (opts.index >= static_cast<int>(members.size()))
      throw ConfigError("--index " + std::to_string(opts.index) + ": the study has " + std::to_string(members.size()) +
                        " runs (indices 0.." + std::to_string(members.size() - 1) + ")");
    const StudyMember& m = members[static_cast<std::size_t>(opts.index)];
    log_info("validate: run " + std::to_string(opts.index) + " of " + std::to_string(members.size()) + ": " +
             member_name(m) + " -> " + m.dir.string());
    run_member(spec, m, opts);  // a single job reports its failure as the command's own
    res.ran.push_back(m);
    return res;
  }
  if (opts.jobs > 1) {
    run_children(members, opts, res);
  } else {
    for (std::size_t i = 0; i < members.size(); ++i) {
      const StudyMember& m = members[i];
      log_info("validate: run " + std::to_string(i + 1) + "/" + std::to_string(members.size()) + ": " + member_name(m) +
               " -> " + m.dir.string());
      try {
        run_member(spec, m, opts);
        res.ran.push_back(m);
      } catch (const Error& e) {
        log_error("validate: " + member_name(m) + " failed: " + e.what());
        res.failed.push_back(member_name(m) + ": " + e.what());
      }
    }
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.validation = gather(study_dir, elapsed);
  return res;
}

}  // namespace taupe::validate
