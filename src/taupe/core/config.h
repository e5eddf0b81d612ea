#pragma once
// Configuration reflection. Every stage has one plain struct with in-class defaults, a
// `visit(v)` that lists its fields (name, reference, help) and a `validate()` that throws
// ConfigError naming the offending field. Generic code (TOML load/save, --set overrides,
// CLI --help, `taupe config show`) works on the Field list produced by `fields_of()`, so a
// default is written exactly once: in the struct.
//
//   struct SimConfig {
//     int frames = 200;  // number of frames
//     template <class V> void visit(V& v) { v("frames", frames, "number of frames (4 min each)"); }
//     void validate() const { check_gt("simulate.frames", frames, 0); }
//   };
#include <cstdint>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "taupe/core/errors.h"

namespace taupe {

/// A reference to one config field: its key, help text and storage.
struct Field {
  using Ref = std::variant<int*, std::int64_t*, double*, bool*, std::string*, std::vector<double>*,
                           std::vector<int>*>;
  std::string name;
  std::string help;
  Ref ref;
};

namespace detail {
struct FieldCollector {
  std::vector<Field>* out;
  template <class T>
  void operator()(const char* name, T& value, const char* help) {
    out->push_back(Field{name, help, &value});
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
