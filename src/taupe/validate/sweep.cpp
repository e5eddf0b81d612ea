// Sweeps of independent runs (sweep.h): members, sweep.json, the job-array index, the gathered table.
#include "taupe/validate/sweep.h"

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/csv.h"
#include "taupe/report/run_layout.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe::validate {
namespace {

constexpr const char* kSweepFile = "sweep.json";
constexpr const char* kFormat = "taupe.sweep";

/// Each input's member name: its directory name or file stem; on a collision, its path below the
/// inputs' common parent.
std::vector<std::string> input_names(const std::vector<fs::path>& inputs) {
  std::vector<std::string> names;
  for (const auto& p : inputs) {
    const fs::path q = p.filename().empty() ? p.parent_path() : p;
    names.push_back(fs::is_directory(q) ? q.filename().string() : q.stem().string());
  }
  if (std::set<std::string>(names.begin(), names.end()).size() == names.size()) return names;
  fs::path common = inputs.front().parent_path();
  for (const auto& p : inputs)
    while (!common.empty() && p.string().rfind(common.string() + "/", 0) != 0) common = common.parent_path();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::string rel = fs::relative(inputs[i], common).replace_extension().string();
    for (char& c : rel)
      if (c == '/') c = '-';
    names[i] = rel;
  }
  if (std::set<std::string>(names.begin(), names.end()).size() != names.size())
    throw ConfigError("--data: two inputs are the same file or directory");
  return names;
}

}  // namespace

std::vector<SweepMember> sweep_members(const SweepSpec& spec, const fs::path& out) {
  std::vector<SweepMember> members;
  const std::vector<std::string> names = spec.inputs.empty() ? std::vector<std::string>{""} : input_names(spec.inputs);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::vector<std::int64_t> seeds = spec.seeds.empty() ? std::vector<std::int64_t>{-1} : spec.seeds;
    for (std::int64_t seed : seeds) {
      SweepMember m;
      m.seed = seed;
      if (!spec.inputs.empty()) m.data = spec.inputs[i];
      fs::path rel = names[i];
      if (seed >= 0) rel /= "seed-" + std::to_string(seed);
      m.name = rel.string();
      m.dir = out / rel;
      members.push_back(m);
    }
  }
  return members;
}

SweepSpec resolve_sweep(const fs::path& out, const SweepSpec& given, bool write) {
  const fs::path file = out / kSweepFile;
  if (fs::exists(file)) {
    SweepSpec recorded;
    try {
      const json j = json::parse(read_text_file(file));
      if (j.value("format", "") != kFormat) throw DataError(file.string() + ": format is not " + kFormat);
      recorded.seeds = j.at("seeds").get<std::vector<std::int64_t>>();
      for (const auto& s : j.at("inputs")) recorded.inputs.emplace_back(s.get<std::string>());
    } catch (const json::exception& e) {
      throw DataError(file.string() + ": unreadable sweep record (" + e.what() + ")");
    }
    if (!given.empty() && !(given == recorded))
      throw ConfigError(file.string() + ": this directory holds another sweep (seeds or --data differ)",
                        "use another --out, or repeat the recorded --seeds / --data");
    return recorded;
  }
  if (given.empty()) throw IoError(file.string() + ": no sweep here", "run `taupe run --seeds ... / --data A,B` first");
  if (write) {
    json inputs = json::array();
    for (const auto& p : given.inputs) inputs.push_back(p.string());
    fs::create_directories(out);
    write_text_atomic(file, json{{"format", kFormat}, {"version", 1}, {"seeds", given.seeds}, {"inputs", inputs}}.dump(2) + "\n");
  }
  return given;
}

int sweep_index(int index, std::size_t members) {
  std::string source = "--index";
  if (index < 0) {
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (!task) return -1;
    source = std::string("SLURM_ARRAY_TASK_ID = ") + task;
    char* end = nullptr;
    const long v = std::strtol(task, &end, 10);
    if (end == task || *end != '\0' || v < 0) throw ConfigError(source + ": expected a non-negative integer");
    index = static_cast<int>(v);
  }
  if (static_cast<std::size_t>(index) >= members)
    throw ConfigError(source + " (" + std::to_string(index) + "): the sweep has " + std::to_string(members) +
                      " runs (indices 0.." + std::to_string(members - 1) + ")");
  return index;
}

json SweepTable::to_json() const {
  json runs_json = json::array();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = runs[i];
    json verdicts = json::array();
    for (const auto& v : r.verdicts)
      verdicts.push_back({{"experiment", v.experiment}, {"outcome", v.outcome}, {"direction", v.direction},
                          {"estimate", v.estimate}, {"ci", {v.ci_lo, v.ci_hi}}, {"margin", v.margin}});
    runs_json.push_back({{"member", members[i].name},
                         {"dir", members[i].dir.string()},
                         {"seed", members[i].seed},
                         {"data", members[i].data.string()},
                         {"world", r.member.world},
                         {"status", r.status},
                         {"problem", r.problem},
                         {"cv_recall", r.cv_recall},
                         {"seconds", r.seconds()},
                         {"verdicts", verdicts}});
  }
  json reps = json::array();
  for (const auto& g : replicates) reps.push_back(g.to_json());
  return {{"format", "taupe.sweep_table"}, {"version", 1}, {"runs", runs_json}, {"replicates", reps}};
}

std::string SweepTable::csv() const {
  std::vector<std::string> experiments;  // every verdict any run reports, in first-reported order
  for (const auto& r : runs)
    for (const auto& v : r.verdicts)
      if (std::find(experiments.begin(), experiments.end(), v.experiment) == experiments.end())
        experiments.push_back(v.experiment);
  std::vector<std::string> header = {"member", "status", "seed", "data", "world", "cv_recall_mitosis",
                                     "cv_recall_apoptosis", "cv_recall_mitosis_raw", "cv_recall_apoptosis_raw", "seconds"};
  for (const auto& e : experiments)
    for (const char* k : {"outcome", "direction", "estimate", "ci_lo", "ci_hi"}) header.push_back(e + ":" + k);
  CsvTable t(header);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = runs[i];
    auto recall = [&](const char* k) { return r.cv_recall.count(k) ? cell(r.cv_recall.at(k)) : std::string(); };
    std::vector<std::string> row = {members[i].name, r.status, members[i].seed >= 0 ? cell(members[i].seed) : "",
                                    members[i].data.string(), r.member.world, recall("mitosis"), recall("apoptosis"),
                                    recall("mitosis_raw"), recall("apoptosis_raw"), cell(r.seconds())};
    for (const auto& e : experiments) {
      const auto v = std::find_if(r.verdicts.begin(), r.verdicts.end(), [&](const VerdictRecord& x) { return x.experiment == e; });
      if (v == r.verdicts.end()) {
        row.insert(row.end(), {kMissing, "", "", "", ""});
        continue;
      }
      row.insert(row.end(), {v->outcome, cell(v->direction), cell(v->estimate), cell(v->ci_lo), cell(v->ci_hi)});
    }
    t.add_row(row);
  }
  return to_csv(t);
}

std::string SweepTable::brief() const {
  std::ostringstream o;
  std::size_t done = 0;
  for (const auto& r : runs) done += r.status == "done";
  o << "sweep: " << done << " of " << runs.size() << " runs finished\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const RunRecord& r = runs[i];
    o << "  " << std::left << std::setw(24) << members[i].name << std::setw(9) << r.status;
    if (r.cv_recall.count("apoptosis"))
      o << std::fixed << std::setprecision(2) << " recall mitosis " << r.cv_recall.at("mitosis") << " apoptosis "
        << r.cv_recall.at("apoptosis");
    for (const auto& v : r.verdicts)
      o << " | " << v.experiment << ": " << v.outcome << direction_mark(v.outcome, v.direction);
    if (!r.problem.empty()) o << " (" << r.problem << ")";
    o << "\n";
  }
  for (const auto& g : replicates) o << g.brief();
  return o.str();
}

SweepTable gather_sweep(const fs::path& out) {
  SweepTable t;
  t.members = sweep_members(resolve_sweep(out, {}, false), out);
  for (const auto& m : t.members) {
    StudyMember sm;
    sm.dir = m.dir;
    try {  // the run's own world (real data has none): a sweep does not fix it
      sm.world = json::parse(read_text_file(RunLayout(m.dir).summary())).value("world", "");
    } catch (const std::exception&) {
    }
    t.runs.push_back(read_run(sm));
  }
  std::vector<ReplicateRun> reps;
  double alpha = -1;
  for (std::size_t i = 0; i < t.members.size(); ++i) {
    reps.push_back({t.members[i].data.string(), t.members[i].name, &t.runs[i]});
    if (alpha < 0 && t.runs[i].status == "done") alpha = run_alpha(t.members[i].dir);
  }
  if (alpha >= 0) t.replicates = combine_replicates(reps, alpha);
  write_text_atomic(out / "runs.json", t.to_json().dump(2) + "\n");
  write_text_atomic(out / "runs.csv", t.csv());
  return t;
}

}  // namespace taupe::validate
