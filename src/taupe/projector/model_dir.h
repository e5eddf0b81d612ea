#pragma once
// The model directory shared by the encoder, projector and temporal stages (docs/models.md):
//   <dir>/manifest.json     format "taupe.model", format_version, one section per stage
//                           ("encoder", "projector", "temporal"): config, shapes, training metadata
//   <dir>/encoder.pt, decoder.pt, encoder_training/   the encoder's (encoder/artifacts.h)
//   <dir>/pca.h5            taupe.pca v1 (projector, this header)
//   <dir>/pc_meaning.{csv,json}  the PC-meaning report (projector, this header)
//   <dir>/temporal/, <dir>/folds.csv   the temporal stage's (temporal/artifacts.h)
// Torch-free, so every stage can use it. Lives in the projector stage because the temporal
// stage links it.
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"

namespace taupe {

inline constexpr const char* kModelFormat = "taupe.model";
inline constexpr int kModelFormatVersion = 1;

/// Paths inside a model directory.
/// read_model_manifest: reads and checks manifest.json (format name and version); throws IoError
///   if missing, ModelError if malformed or of another format/version.
/// model_manifest_section: the manifest section `section`; ModelError "<dir>/manifest.json: no
///   '<section>' section" (hint: run `taupe train <section>` first) when absent.
/// update_model_manifest: read-modify-write of one section (creates the manifest if absent); atomic.
/// (Header-only so that every stage can use it without a link dependency on taupe_projector.)
namespace model_files {
inline std::filesystem::path manifest(const std::filesystem::path& dir) { return dir / "manifest.json"; }
inline std::filesystem::path pca(const std::filesystem::path& dir) { return dir / "pca.h5"; }
/// The PC-meaning report (projector.h write_pc_meaning).
inline std::filesystem::path pc_meaning_csv(const std::filesystem::path& dir) { return dir / "pc_meaning.csv"; }
inline std::filesystem::path pc_meaning_json(const std::filesystem::path& dir) { return dir / "pc_meaning.json"; }
}  // namespace model_files

inline nlohmann::json read_model_manifest(const std::filesystem::path& dir) {
  const auto path = model_files::manifest(dir);
  if (!std::filesystem::exists(path))
    throw IoError(path.string() + ": model manifest not found (is '" + dir.string() + "' a model directory?)",
                  "train one with `taupe train encoder`");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || j.value("format", std::string()) != kModelFormat)
    throw ModelError(path.string() + ": format is not \"" + std::string(kModelFormat) + "\"");
  const int v = j.value("format_version", -1);
  if (v != kModelFormatVersion)
    throw ModelError(path.string() + ": format_version " + std::to_string(v) + " is not supported (this taupe reads " +
                     std::to_string(kModelFormatVersion) + ")");
  return j;
}

inline nlohmann::json model_manifest_section(const std::filesystem::path& dir, const std::string& section) {
  const nlohmann::json j = read_model_manifest(dir);
  if (!j.contains(section) || !j[section].is_object())
    throw ModelError(model_files::manifest(dir).string() + ": no '" + section + "' section",
                     "run `taupe train " + section + "` first");
  return j[section];
}

inline void update_model_manifest(const std::filesystem::path& dir, const std::string& section, const nlohmann::json& value) {
  nlohmann::json j;
  if (std::filesystem::exists(model_files::manifest(dir))) {
    j = read_model_manifest(dir);
  } else {
    j = nlohmann::json::object();
    j["format"] = kModelFormat;
    j["format_version"] = kModelFormatVersion;
  }
  j[section] = value;
  write_text_atomic(model_files::manifest(dir), j.dump(2) + "\n");
}

}  // namespace taupe
