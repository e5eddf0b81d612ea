#pragma once
// Atomic writes: every output file is written to `<name>.tmp.<pid>` in the same directory,
// flushed (fsync), then renamed over the final name. A process killed mid-write (SIGKILL
// included) leaves at most a `*.tmp.*` file, never a partial file under a final name.
#include <filesystem>
#include <functional>
#include <string>

namespace taupe {

/// Temporary sibling path used while writing `final_path`.
std::filesystem::path temp_path_for(const std::filesystem::path& final_path);

/// Calls `write(tmp)` to produce the file at a temporary path, fsyncs it and renames it to
/// `final_path`. If `write` throws, the temporary file is removed and the exception rethrown.
/// Parent directories are created. Throws IoError naming the file on failure.
void write_atomic(const std::filesystem::path& final_path,
                  const std::function<void(const std::filesystem::path& tmp)>& write);

/// A directory written whole: `write(stage)` fills a temporary sibling `<name>.tmp.<pid>`, which
/// then replaces `final_dir` (an existing one is removed first, so callers decide beforehand
/// whether replacing is allowed). If `write` throws, the stage is removed and the exception
/// rethrown: an interrupted writer leaves no half-written directory under the final name.
void write_directory_atomic(const std::filesystem::path& final_dir,
                            const std::function<void(const std::filesystem::path& stage)>& write);

/// Atomically writes a text/binary string to `final_path`.
void write_text_atomic(const std::filesystem::path& final_path, const std::string& content);

/// Reads a whole file; throws IoError naming the file when it cannot be read.
std::string read_text_file(const std::filesystem::path& path);

/// Removes leftover `*.tmp.*` files of earlier interrupted runs under `dir` (and its
/// subdirectories when `recursive`). Temporaries of live processes are kept.
void remove_stale_temporaries(const std::filesystem::path& dir, bool recursive = false);

/// True for the name of an atomic write's temporary (`<name>.tmp.<pid>`, `<name>.tmp.<pid>.part`).
bool is_temporary_name(const std::string& filename);

/// Called where writing `file` failed: when the cause is the disk being full (under 1 MiB free
/// for this user) or `file` reaching the process's file-size limit (RLIMIT_FSIZE; SIGXFSZ is
/// ignored by the binary so the write fails with EFBIG), throws ResourceError naming the file
/// (the final name when `file` is a temporary) and the limit; otherwise returns.
/// `write_errno`: errno of the failed write when known (0 otherwise).
void throw_if_out_of_space(const std::filesystem::path& file, int write_errno = 0);

}  // namespace taupe
