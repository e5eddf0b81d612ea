#pragma once
// Internal to the temporal stage: TCN weight files. A fold file holds named tensors
// ("block0.conv0.v", ..., "head_w1", ..., the PCA the TCN was trained with as "pca.mean" /
// "pca.components") and a JSON string "meta" (format "taupe.temporal.tcn", version, options).
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "taupe/temporal/tcn.h"

namespace taupe {

inline constexpr const char* kTcnFileFormat = "taupe.temporal.tcn";
inline constexpr int kTcnFileVersion = 1;

nlohmann::json tcn_options_json(const TcnOptions& o);
TcnOptions tcn_options_from_json(const nlohmann::json& j);

/// Writes the TCN's parameters + buffers, the PCA and `meta` (merged with format/version/options)
/// atomically to `path`.
void save_tcn_file(const std::filesystem::path& path, TcnImpl& tcn, const PcaTransform& pca,
                   nlohmann::json meta);

struct LoadedTcn {
  Tcn tcn{nullptr};
  PcaTransform pca;
  nlohmann::json meta;
};
/// Loads and checks format, version, every tensor name and shape; ModelError naming the file.
LoadedTcn load_tcn_file(const std::filesystem::path& path);

/// An eval-mode copy of `tcn` (same options, parameters and buffers) placed on `device`, for
/// inference beside the original.
Tcn tcn_copy_on(const TcnImpl& tcn, const c10::Device& device);

/// Registers (once) the runtime hook that sets LibTorch's intra-op threads.
void ensure_torch_thread_hook();

}  // namespace taupe
