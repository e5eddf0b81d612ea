// TOML loading/serialisation and --set overrides for ConfigSections (toml++).
#include "taupe/core/config_io.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <sstream>
#include <type_traits>

#include <toml++/toml.h>

#include "taupe/core/atomic_file.h"

namespace taupe {
namespace {

std::vector<std::string> section_names(const ConfigSections& sections) {
  std::vector<std::string> out;
  for (const auto& s : sections) out.push_back(s.name);
  return out;
}

std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  const std::string m = closest_match(word, candidates);
  return m.empty() ? std::string() : " (did you mean '" + m + "'?)";
}

std::string list_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

const ConfigSection& find_section(const ConfigSections& sections, const std::string& name, const std::string& where) {
  for (const auto& s : sections)
    if (s.name == name) return s;
  throw ConfigError(where + "unknown config section [" + name + "]" + suggestion(name, section_names(sections)),
                    "known sections: " + list_of(section_names(sections)));
}

std::string where_of(const toml::node& node, const std::string& source) {
  const auto& src = node.source();
  if (src.begin.line > 0) return source + ":" + std::to_string(src.begin.line) + ": ";
  return source + ": ";
}

std::string toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::array: return "array";
    case toml::node_type::table: return "table";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

[[noreturn]] void wrong_type(const std::string& where, const std::string& key, const Field& f, const toml::node& node) {
  throw ConfigError(where + key + ": expected " + field_type_name(f) + ", got " + toml_type_name(node));
}

bool node_as_double(const toml::node& n, double& out) {
  if (auto v = n.as_floating_point()) { out = v->get(); return true; }
  if (auto v = n.as_integer()) { out = static_cast<double>(v->get()); return true; }
  return false;
}

bool node_as_int(const toml::node& n, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  auto v = n.as_integer();
  if (!v) return false;
  if (v->get() < lo || v->get() > hi) return false;
  out = v->get();
  return true;
}

/// Stores a TOML value into the field with strict type checking.
void assign_node(const Field& f, const std::string& key, const toml::node& node, const std::string& where) {
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, int>) {
          std::int64_t v = 0;
          if (!node.is_integer()) wrong_type(where, key, f, node);
          if (!node_as_int(node, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), v))
            throw ConfigError(where + key + " = " + std::to_string(node.as_integer()->get()) +
                              ": out of range for a 32-bit integer");
          *p = static_cast<int>(v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          if (!node.is_integer()) wrong_type(where, key, f, node);
          *p = node.as_integer()->get();
        } else if constexpr (std::is_same_v<T, double>) {
          double v = 0;
          if (!node_as_double(node, v)) wrong_type(where, key, f, node);
          *p = v;
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!node.is_boolean()) wrong_type(where, key, f, node);
          *p = node.as_boolean()->get();
        } else if constexpr (std::is_same_v<T, std::string>) {
          if (!node.is_string()) wrong_type(where, key, f, node);
          *p = node.as_string()->get();
        } else if constexpr (std::is_same_v<T, std::vector<double>>) {
          const auto* arr = node.as_array();
          if (!arr) wrong_type(where, key, f, node);
          std::vector<double> out;
          for (const auto& item : *arr) {
            double v = 0;
            if (!node_as_double(item, v))
              throw ConfigError(where + key + ": expected array of floats, found an element of type " +
                                toml_type_name(item));
            out.push_back(v);
          }
          *p = std::move(out);
        } else {
          const auto* arr = node.as_array();
          if (!arr) wrong_type(where, key, f, node);
          std::vector<int> out;
          for (const auto& item : *arr) {
            std::int64_t v = 0;
            if (!node_as_int(item, std::numeric_limits<int>::min(), std::numeric_limits<int>::max(), v))
              throw ConfigError(where + key + ": expected array of 32-bit integers, found an element of type " +
                                toml_type_name(item));
            out.push_back(static_cast<int>(v));
          }
          *p = std::move(out);
        }
      },
      f.ref);
}

toml::table parse_toml(const std::string& text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(source + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                      ": invalid TOML: " + std::string(e.description()));
  }
}

std::vector<std::string> field_names(const ConfigSection& s) {
  std::vector<std::string> out;
  for (const auto& f : s.fields) out.push_back(f.name);
  return out;
}

}  // namespace

std::size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insert, delete, substitute, and swap of adjacent letters cost 1.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::numeric_limits<std::size_t>::max();
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) { best_d = d; best = c; }
  }
  // Close = at most a third of the word changed (min 1, max 3 edits), or a prefix match.
  const std::size_t limit = std::clamp<std::size_t>(word.size() / 3, 1, 3);
  if (best_d <= limit) return best;
  for (const auto& c : candidates)
    if (word.size() >= 3 && c.rfind(word, 0) == 0) return c;
  return {};
}

const Field& find_field(const ConfigSections& sections, const std::string& section, const std::string& key) {
  const ConfigSection& s = find_section(sections, section, "");
  for (const auto& f : s.fields)
    if (f.name == key) return f;
  // Maybe the key exists in another section: suggest the right place.
  std::string hint = "keys of [" + section + "]: " + list_of(field_names(s));
  for (const auto& other : sections)
    for (const auto& f : other.fields)
      if (f.name == key && other.name != section) hint = "'" + key + "' is a key of [" + other.name + "]";
  throw ConfigError("unknown config key " + section + "." + key + suggestion(key, field_names(s)), hint);
}

void apply_toml(ConfigSections& sections, const std::string& toml_text, const std::string& source) {
  const toml::table root = parse_toml(toml_text, source);
  for (const auto& [k, node] : root) {
    const std::string name(k.str());
    const std::string where = where_of(node, source);
    const auto* table = node.as_table();
    if (!table) {
      // A top-level key: tell which section holds it.
      std::string hint = "keys belong to a section such as [" + (sections.empty() ? "run" : sections[0].name) + "]";
      for (const auto& s : sections)
        for (const auto& f : s.fields)
          if (f.name == name) hint = "put it under [" + s.name + "]";
      throw ConfigError(where + "key '" + name + "' is outside any [section]", hint);
    }
    const ConfigSection& s = find_section(sections, name, where);
    for (const auto& [fk, fnode] : *table) {
      const std::string key(fk.str());
      const std::string fwhere = where_of(fnode, source);
      const Field* field = nullptr;
      for (const auto& f : s.fields)
        if (f.name == key) field = &f;
      if (!field)
        throw ConfigError(fwhere + "unknown config key " + name + "." + key + suggestion(key, field_names(s)),
                          "keys of [" + name + "]: " + list_of(field_names(s)));
      assign_node(*field, name + "." + key, fnode, fwhere);
    }
  }
}

void apply_toml_file(ConfigSections& sections, const std::filesystem::path& file) {
  apply_toml(sections, read_text_file(file), file.string());
}

void apply_set(ConfigSections& sections, const std::string& assignment) {
  const auto eq = assignment.find('=');
  const std::string lhs = assignment.substr(0, eq);
  const auto dot = lhs.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 >= lhs.size())
    throw ConfigError("--set " + assignment + ": expected section.key=value", "e.g. --set run.seed=7");
  auto strip = [](std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(s.begin());
    return s;
  };
  const std::string section = strip(lhs.substr(0, dot));
  const std::string key = strip(lhs.substr(dot + 1));
  const Field& f = find_field(sections, section, key);
  field_set_from_string(f, section + "." + key, assignment.substr(eq + 1));
}

void apply_sets(ConfigSections& sections, const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) apply_set(sections, a);
}

void validate_all(const ConfigSections& sections) {
  for (const auto& s : sections)
    if (s.validate) s.validate();
}

std::string to_toml(const ConfigSections& sections, bool comments) {
  std::ostringstream out;
  bool first = true;
  for (const auto& s : sections) {
    if (!first) out << "\n";
    first = false;
    out << "[" << s.name << "]\n";
    for (const auto& f : s.fields) {
      if (comments && !f.help.empty()) out << "# " << f.help << "\n";
      out << f.name << " = " << field_value_string(f) << "\n";
    }
  }
  return out.str();
}

std::string peek_toml_string(const std::string& toml_text, const std::string& source, const std::string& section,
                             const std::string& key) {
  const toml::table root = parse_toml(toml_text, source);
  if (auto v = root[section][key].value<std::string>()) return *v;
  return {};
}

std::string config_keys_markdown(const ConfigSections& sections) {
  const auto cell = [](std::string t) {
    std::string out;
    for (char c : t) out += c == '|' ? std::string("\\|") : std::string(1, c);
    return out;
  };
  std::ostringstream out;
  out << "<!-- Generated by `taupe config keys` (build target `docs`); edit the config structs, not this file. -->\n"
      << "# Configuration keys\n\n"
      << "Every key of every section with its default, the rule its value must obey and whether it changes\n"
      << "the results or only how fast they are computed (speed-only keys are left out of the stages'\n"
      << "config hashes, so changing them reruns nothing). Set them in a TOML file (`--config`), with\n"
      << "`--set section.key=value` or, for `taupe config show`, as `--section.key`.\n";
  for (const auto& sec : sections) {
    out << "\n## [" << sec.name << "]\n\n| key | default | rule | changes | meaning |\n|---|---|---|---|---|\n";
    for (const auto& f : sec.fields)
      out << "| `" << sec.name << "." << f.name << "` | `" << cell(field_value_string(f)) << "` | "
          << cell(f.rule.text()) << " | " << (f.speed_only ? "speed" : "results") << " | " << cell(f.help) << " |\n";
  }
  return out.str();
}

}  // namespace taupe
