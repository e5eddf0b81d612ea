#pragma once
// A small, strict reader/writer of NumPy `.npy` arrays (format versions 1.0, 2.0, 3.0).
//
// Accepted: magic "\x93NUMPY", version 1.0/2.0/3.0, a header that is exactly a Python dict
// literal with the three keys 'descr', 'fortran_order', 'shape' (in any order, trailing comma
// allowed), terminated by '\n'; dtypes u1 i1 u2 i2 i4 u4 i8 u8 f4 f8 b1 (little-endian or
// '|'), fixed-width unicode '<U<n>' (UTF-32LE) and bytes '|S<n>'. A Fortran-ordered array is
// reordered to C order on read. Rejected with a DataError naming the source and the rule:
// anything else -- big-endian data (unless `allow_big_endian`, which byte-swaps), object or
// structured dtypes, extra header keys, a payload whose size differs from prod(shape) * itemsize.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taupe::io {

enum class NpyKind : std::uint8_t { kBool, kUInt, kInt, kFloat, kUnicode, kBytes };

/// Element type of an array. `size` is the item size in bytes (for '<U<n>' it is 4*n).
struct NpyDType {
  NpyKind kind = NpyKind::kFloat;
  std::size_t size = 8;
  /// NumPy descr string as written by this library ('<f8', '|u1', '<U5', ...).
  std::string descr() const;
  bool operator==(const NpyDType& o) const { return kind == o.kind && size == o.size; }
};

/// An n-d array in C order with little-endian element bytes.
struct NpyArray {
  NpyDType dtype;
  std::vector<std::size_t> shape;   ///< empty = scalar (one element)
  std::vector<std::uint8_t> bytes;  ///< prod(shape) * dtype.size bytes

  std::size_t size() const;         ///< number of elements

  /// Numeric elements converted to T. Integers must be representable in T exactly and
  /// floats converted to an integer T must be integral and in range; otherwise DataError
  /// naming `where`. Unicode/bytes arrays are refused.
  template <class T>
  std::vector<T> values(const std::string& where) const;
  /// The single element of a scalar / one-element array, converted as by values<T>().
  template <class T>
  T scalar(const std::string& where) const;
  /// Elements of a '<U..'/'|S..' array as UTF-8 strings (trailing NULs removed).
  std::vector<std::string> strings(const std::string& where) const;

  template <class T>
  static NpyArray from(const std::vector<T>& v, std::vector<std::size_t> shape);
  static NpyArray from_strings(const std::vector<std::string>& v, std::vector<std::size_t> shape);
};

struct NpyReadOptions {
  bool allow_big_endian = false;        ///< byte-swap '>' arrays instead of rejecting them
  std::size_t max_bytes = std::size_t{1} << 32;  ///< refuse payloads larger than this
};

/// Parses a whole .npy byte string; `where` names the source in messages (file or member).
NpyArray parse_npy(const std::uint8_t* data, std::size_t n, const std::string& where,
                   const NpyReadOptions& opts = {});
/// Serialises as format version 1.0 (2.0 if the header needs it), header padded to 64 bytes.
std::string serialize_npy(const NpyArray& a);

NpyArray read_npy(const std::filesystem::path& path, const NpyReadOptions& opts = {});
void write_npy(const std::filesystem::path& path, const NpyArray& a);   ///< atomic

}  // namespace taupe::io
