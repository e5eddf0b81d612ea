#pragma once
// Thin helpers over the HDF5 C++ API shared by every container: versioned file headers and
// typed, shape-checked dataset I/O whose errors name the file and the dataset.
#include <H5Cpp.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taupe::h5 {

/// Every taupe HDF5 file carries root attributes `format` (e.g. "taupe.glimpses") and
/// `format_version` (integer).
struct FormatTag {
  std::string name;
  int version = 1;
};

/// Creates `path` (truncating) and writes the format tag. Use inside write_atomic().
H5::H5File create(const std::filesystem::path& path, const FormatTag& tag);
/// Opens `path` read-only and checks its format tag; throws IoError (missing/unreadable,
/// truncated) or DataError (wrong format name or unsupported version) naming the file.
H5::H5File open(const std::filesystem::path& path, const FormatTag& expected);

/// Writes an N-d dataset of T (uint8/int8/uint16/int32/int64/float/double), chunked along
/// axis 0 (`chunk_rows` rows per chunk) and gzip-compressed.
template <class T>
void write(H5::Group& g, const std::string& name, const std::vector<T>& data,
           const std::vector<hsize_t>& shape, hsize_t chunk_rows = 0, int gzip_level = 4);
/// Reads a whole dataset, checking dtype class/size and (if `expected_shape` is non-empty,
/// -1 = any) its shape. Errors: DataError "<file>: dataset '<name>': expected ..., found ...".
template <class T>
std::vector<T> read(const H5::Group& g, const std::string& name, std::vector<hsize_t>* shape = nullptr,
                    const std::vector<long long>& expected_shape = {});
/// Reads rows [row0, row0 + nrows) along axis 0 (hyperslab) -- the streaming path.
template <class T>
std::vector<T> read_rows(const H5::Group& g, const std::string& name, hsize_t row0, hsize_t nrows);
/// Shape of a dataset; throws DataError if it does not exist.
std::vector<hsize_t> shape_of(const H5::Group& g, const std::string& name);
bool exists(const H5::Group& g, const std::string& name);

void write_attr(H5::H5Object& o, const std::string& name, const std::string& value);
void write_attr(H5::H5Object& o, const std::string& name, double value);
void write_attr(H5::H5Object& o, const std::string& name, std::int64_t value);
std::string read_attr_string(const H5::H5Object& o, const std::string& name);
double read_attr_double(const H5::H5Object& o, const std::string& name);
std::int64_t read_attr_int(const H5::H5Object& o, const std::string& name);
bool has_attr(const H5::H5Object& o, const std::string& name);

/// Variable-length UTF-8 string arrays.
void write_strings(H5::Group& g, const std::string& name, const std::vector<std::string>& v);
std::vector<std::string> read_strings(const H5::Group& g, const std::string& name);

}  // namespace taupe::h5
