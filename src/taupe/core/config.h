#pragma once
// Configuration reflection. Every stage has one plain struct with in-class defaults and a
// `visit(v)` that declares each field once: key, reference, help text, the rule its value
// obeys and whether it changes results or only speed. `validate()` checks those rules
// (check_fields) plus any rule that ties several fields together, throwing ConfigError naming
// `section.key`. Generic code (TOML load/save, --set overrides, CLI --help, `taupe config
// show|keys`, config hashes) works on the Field list produced by `fields_of()`, so a default,
// a rule and a help text are each written exactly once: in the struct.
//
//   struct SimConfig {
//     static constexpr const char* kSection = "simulate";
//     int frames = 200;
//     int threads = 0;
//     template <class V> void visit(V& v) {
//       v("frames", frames, "number of frames (4 min each)", above(0));
//       v("threads", threads, "worker threads (0 = cores)", at_least(0), speed_only);
//     }
//     void validate() const { check_fields(*this); }
//   };
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "taupe/core/errors.h"

namespace taupe {

/// The rule a field's value obeys, declared with the field. Numeric rules apply to numbers and
/// to every element of a list; one_of applies to strings.
struct Rule {
  enum class Kind { kNone, kAbove, kAtLeast, kAtMost, kRange, kOneOf };
  Kind kind = Kind::kNone;
  double lo = 0, hi = 0;
  std::vector<std::string> choices;
  /// "> 0", ">= 0", "<= 1", "in [0, 1]", "one of: a | b" ("" for none).
  std::string text() const;
};
inline Rule above(double lo) { return Rule{Rule::Kind::kAbove, lo, 0, {}}; }
inline Rule at_least(double lo) { return Rule{Rule::Kind::kAtLeast, lo, 0, {}}; }
inline Rule at_most(double hi) { return Rule{Rule::Kind::kAtMost, 0, hi, {}}; }
inline Rule in_range(double lo, double hi) { return Rule{Rule::Kind::kRange, lo, hi, {}}; }
inline Rule one_of(std::vector<std::string> choices) { return Rule{Rule::Kind::kOneOf, 0, 0, std::move(choices)}; }

/// Declares a field that changes only how fast results are computed, never what is written
/// (thread counts, memory budgets, caches): it is left out of the stages' config hashes.
struct SpeedOnly {};
inline constexpr SpeedOnly speed_only{};

/// A reference to one config field: its key, help text, rule and storage.
struct Field {
  using Ref = std::variant<int*, std::int64_t*, double*, bool*, std::string*, std::vector<double>*,
                           std::vector<int>*>;
  std::string name;
  std::string help;
  Ref ref;
  Rule rule;
  bool speed_only = false;  ///< changes speed only (SpeedOnly)
};

namespace detail {
inline void apply_option(Field& f, const Rule& r) { f.rule = r; }
inline void apply_option(Field& f, SpeedOnly) { f.speed_only = true; }

struct FieldCollector {
  std::vector<Field>* out;
  template <class T, class... Options>
  void operator()(const char* name, T& value, const char* help, const Options&... options) {
    Field f{name, help, &value, {}, false};
    (apply_option(f, options), ...);
    out->push_back(std::move(f));
  }
};
}  // namespace detail

/// All fields of a config struct, in declaration order.
template <class Config>
std::vector<Field> fields_of(Config& cfg) {
  std::vector<Field> out;
  detail::FieldCollector c{&out};
  cfg.visit(c);
  return out;
}

/// Current value of a field as TOML-compatible text ("3", "0.5", "true", "\"abc\"", "[1, 2]").
std::string field_value_string(const Field& f);
/// Parse `text` into the field; throws ConfigError("<key> = <text>: expected <type>").
void field_set_from_string(const Field& f, const std::string& key, const std::string& text);
/// Type name of the field for messages ("integer", "float", "boolean", "string", "array").
std::string field_type_name(const Field& f);
/// The field's help text with its rule and, for speed-only fields, "(speed only)" appended.
std::string field_help(const Field& f);
/// Throws ConfigError "<key> = <value>: must be <rule>" when the field's value breaks its rule.
void check_field(const Field& f, const std::string& key);

/// Checks every field of `cfg` against its declared rule, naming `<Config::kSection>.<key>`.
template <class Config>
void check_fields(const Config& cfg) {
  for (const auto& f : fields_of(const_cast<Config&>(cfg))) check_field(f, std::string(Config::kSection) + "." + f.name);
}

// ---- validation helpers: throw ConfigError naming `key`, its value and the rule ----------
template <class T>
std::string config_value_text(const T& v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
template <class T, class U>
void check_gt(const std::string& key, const T& v, const U& lo) {
  if (!(v > lo)) throw ConfigError(key + " = " + config_value_text(v) + ": must be > " + config_value_text(lo));
}
template <class T, class U>
void check_ge(const std::string& key, const T& v, const U& lo) {
  if (!(v >= lo)) throw ConfigError(key + " = " + config_value_text(v) + ": must be >= " + config_value_text(lo));
}
template <class T, class U>
void check_le(const std::string& key, const T& v, const U& hi) {
  if (!(v <= hi)) throw ConfigError(key + " = " + config_value_text(v) + ": must be <= " + config_value_text(hi));
}
template <class T, class U, class W>
void check_range(const std::string& key, const T& v, const U& lo, const W& hi) {
  if (!(v >= lo && v <= hi))
    throw ConfigError(key + " = " + config_value_text(v) + ": must be in [" + config_value_text(lo) + ", " +
                      config_value_text(hi) + "]");
}
void check_one_of(const std::string& key, const std::string& v, const std::vector<std::string>& allowed);

}  // namespace taupe
