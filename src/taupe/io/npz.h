#pragma once
// `.npz` archives (NumPy's zip of `.npy` members, as written by np.savez / np.savez_compressed)
// through libzip. Members must be named `<key>.npy`, stored or deflated, unencrypted and
// unique; each member is parsed by the strict .npy parser (npy.h). Anything else is a
// DataError naming the archive and the member.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "taupe/io/npy.h"

namespace taupe::io {

/// Arrays by key (member name without ".npy").
using NpzArrays = std::map<std::string, NpyArray>;

struct NpzReadOptions {
  NpyReadOptions npy;
  std::size_t max_members = 4096;
  std::size_t max_total_bytes = std::size_t{1} << 32;   ///< sum of uncompressed member sizes
};

NpzArrays parse_npz(const std::uint8_t* data, std::size_t n, const std::string& where,
                    const NpzReadOptions& opts = {});
NpzArrays read_npz(const std::filesystem::path& path, const NpzReadOptions& opts = {});

/// Writes an archive (atomic; deterministic bytes: members in key order, fixed timestamps).
/// `compress` = deflate (np.savez_compressed) else stored (np.savez).
void write_npz(const std::filesystem::path& path, const NpzArrays& arrays, bool compress = true);
/// Same bytes as write_npz, in memory.
std::string serialize_npz(const NpzArrays& arrays, bool compress = true);

/// The member `key`; DataError "<where>: member '<key>.npy': missing (required field)".
const NpyArray& npz_member(const NpzArrays& arrays, const std::string& key, const std::string& where);

}  // namespace taupe::io
