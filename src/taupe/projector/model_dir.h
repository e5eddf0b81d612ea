#pragma once
// The model directory shared by the encoder, projector and temporal stages (docs/models.md):
//   <dir>/manifest.json     format "taupe.model", format_version, one section per stage
//                           ("encoder", "projector", "temporal"): config, shapes, training metadata
//   <dir>/encoder.pt        named tensors (torch::serialize archive)
//   <dir>/decoder.pt        named tensors
//   <dir>/pca.h5            taupe.pca v1
//   <dir>/temporal/fold_XX.pt, <dir>/folds.csv   (temporal stage)
// Torch-free, so every stage can use it. Lives in the projector stage because the temporal
// stage links it.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace taupe {

inline constexpr const char* kModelFormat = "taupe.model";
inline constexpr int kModelFormatVersion = 1;

namespace model_files {
std::filesystem::path manifest(const std::filesystem::path& dir);   ///< manifest.json
std::filesystem::path encoder(const std::filesystem::path& dir);    ///< encoder.pt
std::filesystem::path decoder(const std::filesystem::path& dir);    ///< decoder.pt
std::filesystem::path pca(const std::filesystem::path& dir);        ///< pca.h5
std::filesystem::path temporal_dir(const std::filesystem::path& dir);  ///< temporal/
std::filesystem::path temporal_fold(const std::filesystem::path& dir, int fold);  ///< temporal/fold_XX.pt
std::filesystem::path folds_csv(const std::filesystem::path& dir);  ///< folds.csv
}  // namespace model_files

/// Reads and checks manifest.json (format name and version); throws IoError if missing,
/// ModelError if malformed or of another format/version.
nlohmann::json read_model_manifest(const std::filesystem::path& dir);
/// The manifest section `section`; throws ModelError "<dir>/manifest.json: no '<section>'
/// section (run `taupe train <section>` first)" when absent.
nlohmann::json model_manifest_section(const std::filesystem::path& dir, const std::string& section);
/// Read-modify-write of one section (creates the manifest if absent); atomic.
void update_model_manifest(const std::filesystem::path& dir, const std::string& section,
                           const nlohmann::json& value);

}  // namespace taupe
