#include "taupe/pipeline/stage_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>

#include "taupe/core/config_io.h"
#include "taupe/core/errors.h"
#include "taupe/pipeline/run_config.h"

namespace taupe {

namespace {

/// The key of a `key = value` TOML line ("" for other lines).
std::string line_key(const std::string& line) {
  const auto eq = line.find('=');
  if (eq == std::string::npos) return {};
  std::string key = line.substr(0, eq);
  key.erase(key.find_last_not_of(" \t") + 1);
  key.erase(0, key.find_first_not_of(" \t"));
  return key;
}

/// A section as canonical TOML without its speed-only fields (Field::speed_only): they change
/// how fast a stage runs, never what it writes, so they do not invalidate.
std::string section_text(ConfigSection sec) {
  sec.fields.erase(std::remove_if(sec.fields.begin(), sec.fields.end(), [](const Field& f) { return f.speed_only; }),
                   sec.fields.end());
  return to_toml({sec}, false);
}

/// The canonical text of one config input: "section" (every key) or "section.key".
std::string config_input_text(const ConfigSections& secs, const std::string& input) {
  const auto dot = input.find('.');
  const std::string section = input.substr(0, dot);
  for (const auto& sec : secs) {
    if (sec.name != section) continue;
    if (dot == std::string::npos) return section_text(sec);
    const std::string key = input.substr(dot + 1);
    find_field(secs, section, key);  // throws ConfigError naming an unknown key
    std::istringstream in(to_toml({sec}, false));
    std::string line;
    while (std::getline(in, line))
      if (line_key(line) == key) return section + "." + line + "\n";
  }
  throw ConfigError("stage config input '" + input + "': no such configuration section");
}

}  // namespace

std::vector<std::string> stage_names(const StageTable& stages) {
  std::vector<std::string> names;
  for (const auto& s : stages) names.push_back(s.name);
  return names;
}

std::vector<std::string> pipeline_stage_names(bool real_data) {
  return stage_names(active_stages(pipeline_stages(), real_data));
}

std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::map<std::string, std::string> stage_config_hashes(const StageTable& stages, RunConfig& cfg,
                                                       const std::string& data_identity) {
  RunConfig copy = cfg;
  const ConfigSections secs = sections(copy);
  std::map<std::string, std::string> h;
  for (const auto& st : stages) {
    std::string text = st.name + "\n";
    for (const auto& dep : st.depends_on) text += dep + "=" + h.at(dep) + "\n";
    if (st.hashes_data_source) text += "data=" + data_identity + "\n";
    for (const auto& input : st.config) text += config_input_text(secs, input);
    h[st.name] = fnv1a_hex(text);
  }
  return h;
}

std::map<std::string, std::string> stage_config_hashes(RunConfig& cfg, bool real_data,
                                                       const std::string& data_identity) {
  return stage_config_hashes(active_stages(pipeline_stages(), real_data), cfg, data_identity);
}

const char* to_string(StageAction a) {
  switch (a) {
    case StageAction::kSkip: return "skip";
    case StageAction::kResume: return "resume";
    case StageAction::kRun: return "run";
  }
  return "run";
}

std::map<std::string, StageRecord> stage_records(const nlohmann::json& manifest) {
  std::map<std::string, StageRecord> out;
  if (!manifest.is_object() || !manifest.contains("stages") || !manifest["stages"].is_array()) return out;
  for (const auto& st : manifest["stages"]) {
    if (!st.is_object()) continue;
    const std::string name = st.value("name", "");
    if (name.empty()) continue;
    StageRecord r;
    try {
      r.status = stage_status_from_string(st.value("status", "none"));
    } catch (...) {
      r.status = StageStatus::kNone;
    }
    if (st.contains("config_hash") && st["config_hash"].is_string()) r.config_hash = st["config_hash"].get<std::string>();
    if (st.contains("seconds") && st["seconds"].is_number()) r.seconds = st["seconds"].get<double>();
    out[name] = r;
  }
  return out;
}

std::vector<PlannedStage> plan_stages(const StageTable& stages, const std::map<std::string, std::string>& hashes,
                                      const std::map<std::string, StageRecord>& previous) {
  std::vector<PlannedStage> plan;
  std::map<std::string, std::string> reruns;  // stage that runs -> the first stage upstream that runs
  for (const auto& st : stages) {
    PlannedStage p;
    p.name = st.name;
    auto h = hashes.find(st.name);
    p.config_hash = h != hashes.end() ? h->second : std::string();
    std::string upstream;
    for (const auto& dep : st.depends_on)
      if (reruns.count(dep) && (upstream.empty() || reruns.at(dep) < upstream)) upstream = reruns.at(dep);
    auto prev = previous.find(st.name);
    if (prev == previous.end() || prev->second.status == StageStatus::kNone) {
      p.action = StageAction::kRun;
      p.reason = "not run yet";
    } else if (prev->second.config_hash != p.config_hash) {
      p.action = StageAction::kRun;
      p.reason = prev->second.config_hash.empty() ? "no recorded config hash" : "configuration changed";
    } else if (prev->second.status == StageStatus::kDone || prev->second.status == StageStatus::kSkipped) {
      if (!upstream.empty()) {
        p.action = StageAction::kRun;
        p.reason = "upstream stage " + upstream + " reran";
      } else if (!prev->second.changed_files.empty()) {
        p.action = StageAction::kRun;
        p.reason = "its files changed since it finished: " + prev->second.changed_files.front();
        if (prev->second.changed_files.size() > 1)
          p.reason += " (and " + std::to_string(prev->second.changed_files.size() - 1) + " more)";
      } else {
        p.action = StageAction::kSkip;
        p.reason = "done";
      }
    } else {  // running (killed) or failed, same configuration
      p.action = StageAction::kResume;
      p.reason = std::string("interrupted (") + to_string(prev->second.status) + ")";
    }
    if (p.action != StageAction::kSkip) reruns[st.name] = upstream.empty() ? st.name : upstream;
    plan.push_back(p);
  }
  return plan;
}

std::vector<PlannedStage> plan_stages(const std::vector<std::string>& order,
                                      const std::map<std::string, std::string>& hashes,
                                      const std::map<std::string, StageRecord>& previous) {
  StageTable chain;
  for (const auto& name : order) {
    Stage s;
    s.name = name;
    if (!chain.empty()) s.depends_on = {chain.back().name};
    chain.push_back(s);
  }
  return plan_stages(chain, hashes, previous);
}

std::map<std::string, double> expected_stage_seconds(const StageTable& stages, const RunConfig& cfg) {
  std::map<std::string, double> e;
  for (const auto& st : stages) e[st.name] = st.expected_seconds ? st.expected_seconds(cfg) : 0.0;
  return e;
}

std::map<std::string, MemoryEstimate> expected_stage_memory(const StageTable& stages, const RunConfig& cfg) {
  std::map<std::string, MemoryEstimate> e;
  for (const auto& st : stages) e[st.name] = st.expected_memory ? st.expected_memory(cfg) : MemoryEstimate{};
  return e;
}

std::map<std::string, double> expected_stage_seconds(const RunConfig& cfg, bool real_data) {
  return expected_stage_seconds(active_stages(pipeline_stages(), real_data), cfg);
}

StageTable active_stages(const StageTable& table, bool real_data) {
  StageTable out;
  std::set<std::string> active;
  for (const auto& s : table) {
    if (s.source != StageSource::kAlways && (s.source == StageSource::kRealData) != real_data) continue;
    out.push_back(s);
    auto& deps = out.back().depends_on;
    deps.erase(std::remove_if(deps.begin(), deps.end(), [&](const std::string& d) { return !active.count(d); }),
               deps.end());
    active.insert(s.name);
  }
  return out;
}

void check_stage_table(const StageTable& table) {
  std::set<std::string> seen;
  for (const auto& s : table) {
    if (s.name.empty() || seen.count(s.name)) throw Error("stage table: stage name '" + s.name + "' is empty or repeated");
    for (const auto& d : s.depends_on)
      if (!seen.count(d))
        throw Error("stage table: stage '" + s.name + "' depends on '" + d + "', which is not an earlier stage");
    seen.insert(s.name);
  }
}

}  // namespace taupe
