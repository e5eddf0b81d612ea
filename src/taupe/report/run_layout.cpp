// The layout of a run directory (run_layout.h).
#include "taupe/report/run_layout.h"

#include <nlohmann/json.hpp>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/simulate/artifacts.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {

namespace {

json read_source_json(const fs::path& f) {
  try {
    return json::parse(read_text_file(f));
  } catch (const json::exception& e) {
    throw DataError(f.string() + ": not valid JSON: " + e.what());
  }
}

}  // namespace

bool RunLayout::real_data() const { return fs::exists(data_source()); }

fs::path RunLayout::glimpses() const {
  if (real_data()) return read_source_json(data_source()).value("glimpses", "");
  return simulate_artifacts::glimpses(data());
}

fs::path RunLayout::patches() const {
  if (real_data()) return read_source_json(data_source()).value("patches", "");
  return simulate_artifacts::patches(data());
}

}  // namespace taupe
