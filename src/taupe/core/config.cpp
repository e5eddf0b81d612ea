// Field <-> text conversion for the config reflection layer (config.h). The text forms are
// TOML-compatible so that `taupe config show` output can be fed back as a config file and
// `--set key=value` accepts what `config show` prints.
#include "taupe/core/config.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <type_traits>

namespace taupe {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

/// Shortest decimal text that reads back as exactly `v`, always with a '.', 'e', "inf" or "nan"
/// so TOML parses it as a float.
std::string float_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::floor(v) == v && std::fabs(v) < 1e15) {  // whole numbers: "640.0", not "6.4e+02"
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  std::string out;
  for (int prec = 1; prec <= 17; ++prec) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) {
      out = buf;
      break;
    }
  }
  if (out.find_first_of(".en") == std::string::npos) out += ".0";
  // TOML requires a digit after "e" sign forms like 1e+20 are fine; "1e-05" fine too.
  return out;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

[[noreturn]] void bad_value(const std::string& key, const std::string& text, const std::string& expected) {
  throw ConfigError(key + " = " + text + ": expected " + expected);
}

bool parse_int64(const std::string& text, std::int64_t& out) {
  std::string t = trim(text);
  std::string digits;
  for (char c : t)
    if (c != '_') digits += c;  // TOML allows 1_000
  if (digits.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(digits.c_str(), &end, 10);
  if (errno == ERANGE || end == digits.c_str() || *end != '\0') return false;
  out = v;
  return true;
}

bool parse_double(const std::string& text, double& out) {
  std::string t = trim(text);
  std::string s;
  for (char c : t)
    if (c != '_') s += c;
  if (s.empty()) return false;
  if (s == "inf" || s == "+inf") { out = std::numeric_limits<double>::infinity(); return true; }
  if (s == "-inf") { out = -std::numeric_limits<double>::infinity(); return true; }
  if (s == "nan" || s == "+nan" || s == "-nan") { out = std::numeric_limits<double>::quiet_NaN(); return true; }
  // Reject hex floats and other strtod extensions: digits, sign, '.', 'e' only.
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E'))
      return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno == ERANGE || end == s.c_str() || *end != '\0') return false;
  out = v;
  return true;
}

bool parse_bool(const std::string& text, bool& out) {
  const std::string t = trim(text);
  if (t == "true" || t == "1" || t == "on" || t == "yes") { out = true; return true; }
  if (t == "false" || t == "0" || t == "off" || t == "no") { out = false; return true; }
  return false;
}

bool parse_string(const std::string& text, std::string& out) {
  const std::string t = trim(text);
  if (t.size() >= 2 && ((t.front() == '"' && t.back() == '"') || (t.front() == '\'' && t.back() == '\''))) {
    if (t.front() == '\'') { out = t.substr(1, t.size() - 2); return true; }
    std::string r;
    for (std::size_t i = 1; i + 1 < t.size(); ++i) {
      char c = t[i];
      if (c != '\\') { r += c; continue; }
      if (i + 2 >= t.size()) return false;
      const char n = t[++i];
      switch (n) {
        case 'n': r += '\n'; break;
        case 't': r += '\t'; break;
        case 'r': r += '\r'; break;
        case '"': r += '"'; break;
        case '\\': r += '\\'; break;
        default: return false;
      }
    }
    out = r;
    return true;
  }
  out = t;  // unquoted text on the command line: taken literally
  return true;
}

/// Splits "[a, b, c]" or "a,b,c" into trimmed items ("" or "[]" -> empty).
std::vector<std::string> split_array(const std::string& text) {
  std::string t = trim(text);
  if (!t.empty() && t.front() == '[') {
    if (t.back() != ']') return {"\x01"};  // malformed marker
    t = trim(t.substr(1, t.size() - 2));
  }
  std::vector<std::string> items;
  if (t.empty()) return items;
  std::size_t start = 0;
  while (true) {
    const auto comma = t.find(',', start);
    std::string item = trim(t.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!(item.empty() && comma == std::string::npos && !items.empty())) items.push_back(item);  // allow trailing comma
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

}  // namespace

std::string field_value_string(const Field& f) {
  return std::visit(
      [](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, int> || std::is_same_v<T, std::int64_t>) {
          return std::to_string(*p);
        } else if constexpr (std::is_same_v<T, double>) {
          return float_text(*p);
        } else if constexpr (std::is_same_v<T, bool>) {
          return *p ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return quote(*p);
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          std::string s = "[";
          for (std::size_t i = 0; i < p->size(); ++i) s += (i ? ", " : "") + float_text((*p)[i]);
          return s + "]";
        } else {
          std::string s = "[";
          for (std::size_t i = 0; i < p->size(); ++i) s += (i ? ", " : "") + std::to_string((*p)[i]);
          return s + "]";
        }
      },
      f.ref);
}

std::string field_type_name(const Field& f) {
  return std::visit(
      [](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, int>) return "integer";
        else if constexpr (std::is_same_v<T, std::int64_t>) return "integer";
        else if constexpr (std::is_same_v<T, double>) return "float";
        else if constexpr (std::is_same_v<T, bool>) return "boolean";
        else if constexpr (std::is_same_v<T, std::string>) return "string";
        else if constexpr (std::is_same_v<T, std::vector<double>>) return "array of floats";
        else return "array of integers";
      },
      f.ref);
}

void field_set_from_string(const Field& f, const std::string& key, const std::string& text) {
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, int>) {
          std::int64_t v = 0;
          if (!parse_int64(text, v)) bad_value(key, text, "integer");
          if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
            bad_value(key, text, "integer within 32-bit range");
          *p = static_cast<int>(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          std::int64_t v = 0;
          if (!parse_int64(text, v)) bad_value(key, text, "integer");
          *p = v;
        } else if constexpr (std::is_same_v<T, double>) {
          double v = 0;
          if (!parse_double(text, v)) bad_value(key, text, "float");
          *p = v;
        } else if constexpr (std::is_same_v<T, bool>) {
          bool v = false;
          if (!parse_bool(text, v)) bad_value(key, text, "boolean (true/false)");
          *p = v;
        } else if constexpr (std::is_same_v<T, std::string>) {
          std::string v;
          if (!parse_string(text, v)) bad_value(key, text, "string");
          *p = v;
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          std::vector<double> out;
          for (const auto& item : split_array(text)) {
            double v = 0;
            if (!parse_double(item, v)) bad_value(key, text, "array of floats, e.g. [0.5, 1.0]");
            out.push_back(v);
          }
          *p = std::move(out);
        } else {
          std::vector<int> out;
          for (const auto& item : split_array(text)) {
            std::int64_t v = 0;
            if (!parse_int64(item, v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
              bad_value(key, text, "array of integers, e.g. [1, 2]");
            out.push_back(static_cast<int>(v));
          }
          *p = std::move(out);
        }
      },
      f.ref);
}

void check_one_of(const std::string& key, const std::string& v, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed)
    if (a == v) return;
  std::string list;
  for (std::size_t i = 0; i < allowed.size(); ++i) list += (i ? ", " : "") + std::string("\"") + allowed[i] + "\"";
  throw ConfigError(key + " = \"" + v + "\": must be one of " + list);
}

std::string Rule::text() const {
  const auto num = [](double v) { return config_value_text(v); };
  switch (kind) {
    case Kind::kNone: return "";
    case Kind::kAbove: return "> " + num(lo);
    case Kind::kAtLeast: return ">= " + num(lo);
    case Kind::kAtMost: return "<= " + num(hi);
    case Kind::kRange: return "in [" + num(lo) + ", " + num(hi) + "]";
    case Kind::kOneOf: {
      std::string t = "one of: ";
      for (std::size_t i = 0; i < choices.size(); ++i) t += (i ? " | " : "") + choices[i];
      return t;
    }
  }
  return "";
}

std::string field_help(const Field& f) {
  std::string h = f.help;
  const std::string rule = f.rule.text();
  if (!rule.empty()) h += " [" + rule + "]";
  if (f.speed_only) h += " (speed only: does not change results)";
  return h;
}

namespace {

template <class T>
void check_number(const Rule& r, const std::string& key, const T& v) {
  switch (r.kind) {
    case Rule::Kind::kAbove: check_gt(key, v, r.lo); break;
    case Rule::Kind::kAtLeast: check_ge(key, v, r.lo); break;
    case Rule::Kind::kAtMost: check_le(key, v, r.hi); break;
    case Rule::Kind::kRange: check_range(key, v, r.lo, r.hi); break;
    default: break;
  }
}

}  // namespace

void check_field(const Field& f, const std::string& key) {
  const Rule& r = f.rule;
  if (r.kind == Rule::Kind::kNone) return;
  std::visit(
      [&](auto* p) {
        using T = std::decay_t<decltype(*p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (r.kind == Rule::Kind::kOneOf) check_one_of(key, *p, r.choices);
        } else if constexpr (std::is_same_v<T, std::vector<double>> || std::is_same_v<T, std::vector<int>>) {
          for (const auto& x : *p) check_number(r, key, x);
        } else if constexpr (!std::is_same_v<T, bool>) {
          check_number(r, key, *p);
        }
      },
      f.ref);
}

}  // namespace taupe
