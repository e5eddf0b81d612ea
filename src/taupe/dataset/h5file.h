#pragma once
// Thin helpers over the HDF5 C++ API shared by every container: versioned file headers and
// typed, shape-checked dataset I/O whose errors name the file and the dataset.
//
// Every function here translates HDF5 exceptions into taupe::IoError / DataError whose
// message starts with "<file>: " and names the dataset or attribute; HDF5's automatic
// error-stack printing is switched off the first time any helper runs.
#include <H5Cpp.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace taupe::h5 {

/// Every taupe HDF5 file carries root attributes `format` (e.g. "taupe.glimpses") and
/// `format_version` (integer).
struct FormatTag {
  std::string name;
  int version = 1;
};

/// Switches off HDF5's automatic error printing (idempotent; called by every helper).
void quiet();

/// Creates `path` (truncating) and writes the format tag (+ attribute `writer` = "taupe <version>").
/// Use on a temporary path (core/atomic_file.h).
H5::H5File create(const std::filesystem::path& path, const FormatTag& tag);
/// Opens `path` read-only and checks its format tag; throws IoError (missing/unreadable,
/// truncated) or DataError (wrong format name or unsupported version) naming the file.
/// A file whose version is newer than `expected.version` is refused (no forward compatibility).
H5::H5File open(const std::filesystem::path& path, const FormatTag& expected);

/// Name of the file an object lives in (for messages).
std::string file_of(const H5::H5Location& o);

/// Human-readable dtype names used in messages ("uint16", "float32", ...).
template <class T>
const char* dtype_name();

/// Writes an N-d dataset of T (uint8/int8/uint16/int16/uint32/int32/uint64/int64/float/double),
/// chunked along axis 0 (`chunk_rows` rows per chunk; 0 = about 1 MiB per chunk), byte-shuffled
/// and gzip-compressed (`gzip_level` 0 = no compression). Empty datasets are stored contiguous.
template <class T>
void write(H5::Group& g, const std::string& name, const std::vector<T>& data,
           const std::vector<hsize_t>& shape, hsize_t chunk_rows = 0, int gzip_level = 4);
/// Reads a whole dataset, checking dtype class/size and (if `expected_shape` is non-empty,
/// -1 = any) its shape. Errors: DataError "<file>: dataset '<name>': expected ..., found ...".
template <class T>
std::vector<T> read(const H5::Group& g, const std::string& name, std::vector<hsize_t>* shape = nullptr,
                    const std::vector<long long>& expected_shape = {});
/// Checks that dataset `name` exists with dtype T and (if non-empty, -1 = any) shape
/// `expected_shape`, without reading it; returns its shape. Same errors as read().
template <class T>
std::vector<hsize_t> check(const H5::Group& g, const std::string& name, const std::vector<long long>& expected_shape = {});
/// Reads rows [row0, row0 + nrows) along axis 0 (hyperslab) -- the streaming path.
template <class T>
std::vector<T> read_rows(const H5::Group& g, const std::string& name, hsize_t row0, hsize_t nrows);
/// Same on an already opened dataset: readers keep their datasets open so HDF5's chunk cache
/// survives between calls (neighbouring reads do not decompress the same chunk again).
template <class T>
std::vector<T> read_rows(const H5::DataSet& ds, hsize_t row0, hsize_t nrows);
/// Same into a caller's buffer of `capacity` values (DataError if the rows hold more); returns
/// the values read.
template <class T>
std::size_t read_rows_into(const H5::DataSet& ds, hsize_t row0, hsize_t nrows, T* out, std::size_t capacity);
/// Opens a dataset; DataError naming file and dataset if it is missing.
H5::DataSet open_dataset(const H5::Group& g, const std::string& name);
/// Rows (first dimension) per storage chunk of a chunked dataset; 0 if it is not chunked.
hsize_t chunk_rows(const H5::DataSet& ds);
/// Shape of a dataset; throws DataError if it does not exist.
std::vector<hsize_t> shape_of(const H5::Group& g, const std::string& name);
bool exists(const H5::Group& g, const std::string& name);
/// Opens (or creates, if absent) the sub-group `name` of `g`.
H5::Group group(H5::Group& g, const std::string& name);
/// Opens an existing sub-group; DataError naming the file and group if it is missing.
H5::Group open_group(const H5::Group& g, const std::string& name);
/// Names of the members of a group, sorted.
std::vector<std::string> members(const H5::Group& g);

void write_attr(H5::H5Object& o, const std::string& name, const std::string& value);
void write_attr(H5::H5Object& o, const std::string& name, double value);
void write_attr(H5::H5Object& o, const std::string& name, std::int64_t value);
inline void write_attr(H5::H5Object& o, const std::string& name, const char* value) {
  write_attr(o, name, std::string(value));
}
inline void write_attr(H5::H5Object& o, const std::string& name, int value) {
  write_attr(o, name, static_cast<std::int64_t>(value));
}
std::string read_attr_string(const H5::H5Object& o, const std::string& name);
double read_attr_double(const H5::H5Object& o, const std::string& name);
std::int64_t read_attr_int(const H5::H5Object& o, const std::string& name);
bool has_attr(const H5::H5Object& o, const std::string& name);
/// A string-array attribute (fixed- or variable-length strings, any rank, flattened), as
/// h5py writes a numpy array of bytes (Keras' `layer_names`, `weight_names`).
std::vector<std::string> read_attr_strings(const H5::H5Object& o, const std::string& name);

/// Variable-length UTF-8 string arrays.
void write_strings(H5::Group& g, const std::string& name, const std::vector<std::string>& v);
std::vector<std::string> read_strings(const H5::Group& g, const std::string& name);

/// A taupe HDF5 file being written under a temporary name (core/atomic_file.h). commit()
/// closes it and renames it to the final name; destroying an uncommitted AtomicFile closes
/// and removes the temporary, so no file ever appears under the final name half-written.
class AtomicFile {
 public:
  AtomicFile(const std::filesystem::path& final_path, const FormatTag& tag);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  H5::H5File& file() { return *file_; }
  const std::filesystem::path& final_path() const { return final_; }
  const std::filesystem::path& temp_path() const { return temp_; }
  bool committed() const { return committed_; }
  void commit();

 private:
  std::filesystem::path final_, temp_;
  std::unique_ptr<H5::H5File> file_;
  bool committed_ = false;
};

/// Streaming writer of one extendible dataset (rows of a fixed inner shape appended along
/// axis 0). Rows are buffered and written a whole chunk at a time; flush() writes the tail.
template <class T>
class RowAppender {
 public:
  RowAppender() = default;
  /// `inner_shape` = shape of one row (may be empty for a 1-d dataset).
  RowAppender(H5::Group& g, const std::string& name, const std::vector<hsize_t>& inner_shape,
              hsize_t chunk_rows = 0, int gzip_level = 4);
  /// Appends `nrows` rows (data.size() must be nrows * row size).
  void append(const T* data, hsize_t nrows);
  void append(const std::vector<T>& data);
  void flush();
  hsize_t rows() const { return written_ + buffered_rows(); }
  hsize_t row_size() const { return row_size_; }

 private:
  hsize_t buffered_rows() const { return row_size_ ? buffer_.size() / row_size_ : 0; }
  void write_block(const T* data, hsize_t nrows);
  H5::DataSet ds_;
  std::string name_, file_;
  std::vector<hsize_t> inner_;
  hsize_t row_size_ = 1, chunk_rows_ = 1, written_ = 0;
  std::vector<T> buffer_;
};

}  // namespace taupe::h5
