#pragma once
// (internal) EncoderConfig <-> JSON for manifest.json, via the config's visit().
#include <nlohmann/json.hpp>

#include "taupe/encoder/encoder_config.h"

namespace taupe::detail {

struct ToJson {
  nlohmann::json* j;
  template <class T, class... Options>
  void operator()(const char* name, T& value, const char*, const Options&...) {
    (*j)[name] = value;
  }
};
struct FromJson {
  const nlohmann::json* j;
  template <class T, class... Options>
  void operator()(const char* name, T& value, const char*, const Options&...) {
    if (j->contains(name)) value = (*j)[name].get<T>();
  }
};

inline nlohmann::json encoder_config_to_json(EncoderConfig cfg) {
  nlohmann::json j = nlohmann::json::object();
  ToJson v{&j};
  cfg.visit(v);
  return j;
}
inline EncoderConfig encoder_config_from_json(const nlohmann::json& j) {
  EncoderConfig cfg;
  FromJson v{&j};
  cfg.visit(v);
  return cfg;
}

}  // namespace taupe::detail
