#pragma once
// First check of every input file a reader opens (taupe containers, btrack HDF5, TIFF): says
// which of the common failures it is, before the format library reports a generic error.
// All of them are IoError (exit code 4, docs/cli.md): the input cannot be read as the format.
#include <filesystem>
#include <string>

namespace taupe {

enum class InputFormat { kHdf5, kTiff };

/// Throws IoError "<path>: <reason>" for: a missing file, a directory, not a regular file, an
/// empty file (0 bytes), a text file ("a text file, not HDF5 (it starts \"...\")"), other bytes
/// without the format's signature, and a truncated file (HDF5: shorter than the end-of-file
/// address recorded in its superblock; TIFF: the first directory lies beyond the end).
/// `expected` names what was expected in the message (e.g. "taupe.tracks file").
void check_input_file(const std::filesystem::path& path, InputFormat format, const std::string& expected = {});

}  // namespace taupe
