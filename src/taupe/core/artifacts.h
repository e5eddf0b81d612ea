#pragma once
// Verified artifacts: the size and SHA-256 (OpenSSL libcrypto) of every file a stage finishes,
// recorded in the run directory's manifest.json (stage field "files", docs/cli.md), and the
// check that they are still the same. RunDir records them at stage_end(); `taupe run` checks
// them before skipping a finished stage, `taupe verify` checks a whole run directory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace taupe {

/// SHA-256 of a file's content as 64 lower-case hex digits. Throws IoError naming the file.
std::string sha256_file(const std::filesystem::path& file);
/// SHA-256 of a string (64 hex digits).
std::string sha256_hex(const std::string& data);

/// {"<path relative to root>": {"size": n, "sha256": hex}} for every regular file at or under
/// `paths` (files or directories under `root`, e.g. RunLayout paths; missing ones are skipped),
/// except temporaries of atomic writes (`*.tmp.<pid>`). Throws IoError when a file cannot be read.
nlohmann::json record_files(const std::filesystem::path& root, const std::vector<std::filesystem::path>& paths);

/// Checks recorded files ({rel: {"size", "sha256"}}) under `root`. Returns one line per file
/// that is missing or whose size or SHA-256 differs ("model/encoder.pt: SHA-256 differs"), in
/// path order; empty when every file is intact.
std::vector<std::string> verify_files(const std::filesystem::path& root, const nlohmann::json& records);

}  // namespace taupe
