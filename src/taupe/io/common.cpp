#include "taupe/io/common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "taupe/core/errors.h"

namespace taupe::io {

std::string IoSummary::brief() const {
  std::ostringstream os;
  os << what << ":";
  bool first = true;
  for (const auto& [k, v] : counts) {
    os << (first ? " " : ", ") << v << " " << k;
    first = false;
  }
  for (const auto& p : outputs) os << "\n  wrote " << p.string();
  for (const auto& n : notes) os << "\n  note: " << n;
  return os.str();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Fate fate_from_label(const std::string& name, const std::map<std::string, Fate>& label_map,
                     const std::string& where) {
  const std::string n = lower(name);
  if (auto it = label_map.find(n); it != label_map.end()) return it->second;
  if (n == "mitosis" || n == "mit" || n == "mitotic") return Fate::kMitosis;
  if (n == "apoptosis" || n == "apop" || n == "apoptotic") return Fate::kApoptosis;
  if (n == "censored") return Fate::kCensored;
  if (n == "left_field") return Fate::kLeftField;
  throw DataError(where + ": label '" + name +
                  "': unknown fate label (expected mitosis/mit/mitotic or apoptosis/apop/apoptotic; map others with "
                  "--label-map " + name + "=mitosis|apoptosis|censored)");
}

std::map<std::string, std::string> parse_key_values(const std::vector<std::string>& items, const std::string& option) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ',')) {
      if (part.empty()) continue;
      const auto eq = part.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == part.size())
        throw ConfigError(option + " " + part + ": expected name=value");
      const std::string k = part.substr(0, eq);
      if (!out.emplace(k, part.substr(eq + 1)).second) throw ConfigError(option + " " + part + ": '" + k + "' given twice");
    }
  }
  return out;
}

std::map<std::string, Fate> parse_label_map(const std::vector<std::string>& items) {
  std::map<std::string, Fate> out;
  for (const auto& [k, v] : parse_key_values(items, "--label-map")) {
    try {
      out[lower(k)] = fate_from_string(v);
    } catch (const DataError& e) {
      throw ConfigError("--label-map " + k + "=" + v + ": " + e.what());
    }
  }
  return out;
}

ChannelMap parse_channel_map(const std::vector<std::string>& items) {
  ChannelMap m;
  for (const auto& [k, v] : parse_key_values(items, "--channels")) {
    int idx = -1;
    try {
      std::size_t used = 0;
      idx = std::stoi(v, &used);
      if (used != v.size()) idx = -1;
    } catch (const std::exception&) {
      idx = -1;
    }
    if (idx < 0) throw ConfigError("--channels " + k + "=" + v + ": channel index must be an integer >= 0");
    const std::string n = lower(k);
    if (n == "gfp" || n == "wt") m.gfp = idx;
    else if (n == "rfp" || n == "scrib") m.rfp = idx;
    else throw ConfigError("--channels " + k + "=" + v + ": unknown channel name (expected gfp or rfp)");
  }
  if (m.gfp == m.rfp) throw ConfigError("--channels: gfp and rfp must be different channels (both " + std::to_string(m.gfp) + ")");
  return m;
}

std::vector<std::uint16_t> to_uint16(const std::vector<double>& v, bool* rescaled) {
  std::vector<std::uint16_t> out(v.size());
  bool exact = true;
  double lo = 0, hi = 0;
  if (!v.empty()) lo = hi = v[0];
  for (double x : v) {
    if (x < 0 || x > 65535 || std::floor(x) != x) exact = false;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  if (rescaled) *rescaled = !exact;
  if (exact) {
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<std::uint16_t>(v[i]);
    return out;
  }
  const double scale = hi > lo ? 65535.0 / (hi - lo) : 0.0;
  for (std::size_t i = 0; i < v.size(); ++i)
    out[i] = static_cast<std::uint16_t>(std::lround(std::clamp((v[i] - lo) * scale, 0.0, 65535.0)));
  return out;
}

std::vector<std::uint32_t> to_labels(const std::vector<double>& v, const std::string& where) {
  std::vector<std::uint32_t> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double x = v[i];
    if (x < 0 || x > 4294967295.0 || std::floor(x) != x)
      throw DataError(where + ": pixel " + std::to_string(i) + ": label value " + std::to_string(x) +
                      " is not a non-negative integer");
    out[i] = static_cast<std::uint32_t>(x);
  }
  return out;
}

std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir,
                                              const std::vector<std::string>& extensions) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string ext = lower(e.path().extension().string());
    if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) out.push_back(e.path());
  }
  if (ec) throw IoError(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::filesystem::path> list_dirs(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_directory()) out.push_back(e.path());
  if (ec) throw IoError(dir.string() + ": cannot list folder: " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

void check_output(const std::filesystem::path& out, bool overwrite) {
  std::error_code ec;
  if (overwrite || !std::filesystem::exists(out, ec)) return;
  if (std::filesystem::is_directory(out, ec) && std::filesystem::is_empty(out, ec)) return;
  throw IoError(out.string() + ": output exists (pass --overwrite to replace it)");
}

}  // namespace taupe::io
