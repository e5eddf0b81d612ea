#include "taupe/dataset/h5file.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>
#include <sstream>
#include <system_error>
#include <type_traits>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/version.h"
#include "taupe/dataset/input_file.h"

namespace taupe::h5 {
namespace fs = std::filesystem;

// ---- type traits ------------------------------------------------------------------------
namespace {

template <class T>
struct Traits;
#define TAUPE_H5_TRAITS(T, PRED, CLASS, NAME)                              \
  template <>                                                             \
  struct Traits<T> {                                                      \
    static const H5::PredType& type() { return H5::PredType::PRED; }      \
    static constexpr H5T_class_t cls = CLASS;                             \
    static constexpr const char* name = NAME;                             \
  };
TAUPE_H5_TRAITS(std::uint8_t, NATIVE_UINT8, H5T_INTEGER, "uint8")
TAUPE_H5_TRAITS(std::int8_t, NATIVE_INT8, H5T_INTEGER, "int8")
TAUPE_H5_TRAITS(std::uint16_t, NATIVE_UINT16, H5T_INTEGER, "uint16")
TAUPE_H5_TRAITS(std::int16_t, NATIVE_INT16, H5T_INTEGER, "int16")
TAUPE_H5_TRAITS(std::uint32_t, NATIVE_UINT32, H5T_INTEGER, "uint32")
TAUPE_H5_TRAITS(std::int32_t, NATIVE_INT32, H5T_INTEGER, "int32")
TAUPE_H5_TRAITS(std::uint64_t, NATIVE_UINT64, H5T_INTEGER, "uint64")
TAUPE_H5_TRAITS(std::int64_t, NATIVE_INT64, H5T_INTEGER, "int64")
TAUPE_H5_TRAITS(float, NATIVE_FLOAT, H5T_FLOAT, "float32")
TAUPE_H5_TRAITS(double, NATIVE_DOUBLE, H5T_FLOAT, "float64")
#undef TAUPE_H5_TRAITS

/// Innermost message of the current HDF5 error stack (the root cause), e.g.
/// "truncated file: eof = 1024, sblock->base_addr = 0, stored_eof = 4096".
std::string stack_detail() {
  std::string out;
  auto cb = [](unsigned, const H5E_error2_t* err, void* data) -> herr_t {
    auto* s = static_cast<std::string*>(data);
    if (s->empty() && err && err->desc && *err->desc) *s = err->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, cb, &out);
  H5Eclear2(H5E_DEFAULT);
  return out;
}

std::string describe(const H5::Exception& e) {
  std::string detail = stack_detail();
  std::string msg = e.getDetailMsg();
  if (!detail.empty()) msg += " (" + detail + ")";
  return msg;
}

std::string shape_str(const std::vector<hsize_t>& s) {
  std::ostringstream o;
  o << '(';
  for (std::size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  if (s.size() == 1) o << ',';
  o << ')';
  return o.str();
}

std::string shape_str(const std::vector<long long>& s) {
  std::ostringstream o;
  o << '(';
  for (std::size_t i = 0; i < s.size(); ++i) {
    o << (i ? ", " : "");
    if (s[i] < 0) o << '*'; else o << s[i];
  }
  if (s.size() == 1) o << ',';
  o << ')';
  return o.str();
}

std::string dtype_str(const H5::DataType& t) {
  switch (t.getClass()) {
    case H5T_INTEGER: {
      const H5::IntType it(t.getId());
      const bool sgn = it.getSign() != H5T_SGN_NONE;
      return std::string(sgn ? "int" : "uint") + std::to_string(8 * t.getSize());
    }
    case H5T_FLOAT: return "float" + std::to_string(8 * t.getSize());
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "vlen";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
    case H5T_REFERENCE: return "reference";
    default: return "unknown type";
  }
}

template <class T>
bool dtype_matches(const H5::DataType& t) {
  if (t.getClass() != Traits<T>::cls || t.getSize() != sizeof(T)) return false;
  if constexpr (std::is_integral_v<T>) {
    const H5::IntType it(t.getId());
    const bool sgn = it.getSign() != H5T_SGN_NONE;
    if (sgn != std::is_signed_v<T>) return false;
  }
  return true;
}

std::string obj_path(const H5::Group& g, const std::string& name) {
  std::string base;
  try {
    base = g.getObjName();
  } catch (const H5::Exception&) {
    H5Eclear2(H5E_DEFAULT);
  }
  if (base.empty() || base == "/") return "/" + name;
  return base + "/" + name;
}

std::string where(const H5::Group& g, const std::string& name) {
  return file_of(g) + ": dataset '" + obj_path(g, name) + "'";
}

std::string attr_where(const H5::H5Object& o, const std::string& name) {
  std::string base;
  try {
    base = o.getObjName();
  } catch (const H5::Exception&) {
    H5Eclear2(H5E_DEFAULT);
  }
  if (base.empty()) base = "/";
  return file_of(o) + ": attribute '" + name + "' of '" + base + "'";
}

H5::DataSet open_dataset(const H5::Group& g, const std::string& name, const std::string& expect) {
  if (!exists(g, name))
    throw DataError(where(g, name) + " is missing" + (expect.empty() ? "" : " (expected " + expect + ")"));
  try {
    return g.openDataSet(name);
  } catch (const H5::Exception& e) {
    throw IoError(where(g, name) + ": cannot open: " + describe(e));
  }
}

std::vector<hsize_t> dims_of(const H5::DataSet& ds) {
  const H5::DataSpace sp = ds.getSpace();
  const int rank = sp.getSimpleExtentNdims();
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) sp.getSimpleExtentDims(dims.data());
  return dims;
}

template <class T>
void check_dtype(const H5::DataSet& ds, const H5::Group& g, const std::string& name) {
  const H5::DataType t = ds.getDataType();
  if (!dtype_matches<T>(t))
    throw DataError(where(g, name) + ": expected dtype " + Traits<T>::name + ", found " + dtype_str(t));
}

hsize_t product(const std::vector<hsize_t>& v, std::size_t from = 0) {
  hsize_t p = 1;
  for (std::size_t i = from; i < v.size(); ++i) p *= v[i];
  return p;
}

hsize_t auto_chunk_rows(hsize_t row_bytes, hsize_t rows) {
  constexpr hsize_t kTarget = hsize_t{1} << 20;  // ~1 MiB per chunk
  hsize_t r = std::max<hsize_t>(1, kTarget / std::max<hsize_t>(1, row_bytes));
  if (rows > 0) r = std::min(r, rows);
  return r;
}

/// Dataset creation properties without object modification times (same data -> same bytes).
H5::DSetCreatPropList untimed_plist() {
  H5::DSetCreatPropList pl;
  H5Pset_obj_track_times(pl.getId(), false);
  return pl;
}

H5::DSetCreatPropList chunked_plist(const std::vector<hsize_t>& chunk, std::size_t elem_size, int gzip_level) {
  H5::DSetCreatPropList pl = untimed_plist();
  pl.setChunk(static_cast<int>(chunk.size()), chunk.data());
  if (gzip_level > 0) {
    if (elem_size > 1) pl.setShuffle();
    pl.setDeflate(std::clamp(gzip_level, 1, 9));
  }
  return pl;
}

}  // namespace

// ---- files ------------------------------------------------------------------------------

void quiet() {
  static std::once_flag once;
  std::call_once(once, [] { H5::Exception::dontPrint(); });
}

std::string file_of(const H5::H5Location& o) {
  try {
    return o.getFileName();
  } catch (const H5::Exception&) {
    H5Eclear2(H5E_DEFAULT);
    return "<hdf5>";
  }
}

template <class T>
const char* dtype_name() {
  return Traits<T>::name;
}

H5::H5File create(const fs::path& path, const FormatTag& tag) {
  quiet();
  H5::H5File f;
  try {
    f = H5::H5File(path.string(), H5F_ACC_TRUNC);
  } catch (const H5::Exception& e) {
    throw IoError(path.string() + ": cannot create HDF5 file: " + describe(e));
  }
  write_attr(f, "format", tag.name);
  write_attr(f, "format_version", static_cast<std::int64_t>(tag.version));
  write_attr(f, "writer", std::string("taupe ") + kVersion);
  return f;
}

H5::H5File open(const fs::path& path, const FormatTag& expected) {
  quiet();
  const std::string p = path.string();
  check_input_file(path, InputFormat::kHdf5, expected.name + " file");
  H5::H5File f;
  try {
    f = H5::H5File(p, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    const std::string d = describe(e);
    const bool truncated = d.find("truncated") != std::string::npos;
    throw IoError(p + (truncated ? ": file is truncated (incomplete write?): " : ": cannot open HDF5 file: ") + d);
  }
  if (!has_attr(f, "format"))
    throw DataError(p + ": root attribute 'format' is missing: not a taupe file (expected format '" +
                    expected.name + "')");
  const std::string name = read_attr_string(f, "format");
  if (name != expected.name)
    throw DataError(p + ": attribute 'format' is '" + name + "', expected '" + expected.name + "'");
  if (!has_attr(f, "format_version"))
    throw DataError(p + ": root attribute 'format_version' is missing (expected " + std::to_string(expected.version) + ")");
  const std::int64_t v = read_attr_int(f, "format_version");
  if (v < 1 || v > expected.version)
    throw DataError(p + ": attribute 'format_version' is " + std::to_string(v) + ": this taupe reads " + expected.name +
                        " version" + (expected.version > 1 ? "s 1.." : " ") + std::to_string(expected.version),
                    "rewrite the file with a matching taupe version");
  return f;
}

// ---- datasets ---------------------------------------------------------------------------

bool exists(const H5::Group& g, const std::string& name) {
  quiet();
  // Check each path component (H5Lexists fails on a missing intermediate group).
  std::size_t pos = 0;
  while (true) {
    const std::size_t next = name.find('/', pos);
    const std::string prefix = name.substr(0, next);
    const htri_t r = H5Lexists(g.getId(), prefix.c_str(), H5P_DEFAULT);
    if (r <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return true;
}

std::vector<hsize_t> shape_of(const H5::Group& g, const std::string& name) {
  const H5::DataSet ds = open_dataset(g, name, "");
  try {
    return dims_of(ds);
  } catch (const H5::Exception& e) {
    throw IoError(where(g, name) + ": " + describe(e));
  }
}

H5::Group group(H5::Group& g, const std::string& name) {
  quiet();
  try {
    if (exists(g, name)) return g.openGroup(name);
    // Created through the C API so that the group carries no modification times.
    const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, false);
    const hid_t id = H5Gcreate2(g.getId(), name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (id < 0) {
      H5Eclear2(H5E_DEFAULT);
      throw IoError(file_of(g) + ": group '" + name + "': cannot create");
    }
    H5Gclose(id);
    return g.openGroup(name);
  } catch (const H5::Exception& e) {
    throw IoError(file_of(g) + ": group '" + name + "': " + describe(e));
  }
}

H5::Group open_group(const H5::Group& g, const std::string& name) {
  quiet();
  if (!exists(g, name)) throw DataError(file_of(g) + ": group '" + obj_path(g, name) + "' is missing");
  try {
    return g.openGroup(name);
  } catch (const H5::Exception& e) {
    throw DataError(file_of(g) + ": '" + obj_path(g, name) + "' is not a group: " + describe(e));
  }
}

std::vector<std::string> members(const H5::Group& g) {
  std::vector<std::string> out;
  try {
    const hsize_t n = g.getNumObjs();
    for (hsize_t i = 0; i < n; ++i) out.push_back(g.getObjnameByIdx(i));
  } catch (const H5::Exception& e) {
    throw IoError(file_of(g) + ": cannot list group: " + describe(e));
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <class T>
void write(H5::Group& g, const std::string& name, const std::vector<T>& data, const std::vector<hsize_t>& shape,
           hsize_t chunk_rows, int gzip_level) {
  quiet();
  if (shape.empty()) throw DataError(where(g, name) + ": cannot write a rank-0 dataset");
  const hsize_t n = product(shape);
  if (n != data.size())
    throw DataError(where(g, name) + ": " + std::to_string(data.size()) + " values do not fill shape " +
                    shape_str(shape) + " (" + std::to_string(n) + " values)");
  try {
    H5::DataSpace space(static_cast<int>(shape.size()), shape.data());
    H5::DSetCreatPropList pl = untimed_plist();
    if (n > 0) {
      std::vector<hsize_t> chunk = shape;
      const hsize_t row_bytes = product(shape, 1) * sizeof(T);
      chunk[0] = chunk_rows > 0 ? std::min(chunk_rows, shape[0]) : auto_chunk_rows(row_bytes, shape[0]);
      pl = chunked_plist(chunk, sizeof(T), gzip_level);
    }
    H5::DataSet ds = g.createDataSet(name, Traits<T>::type(), space, pl);
    if (n > 0) ds.write(data.data(), Traits<T>::type());
  } catch (const H5::Exception& e) {
    throw_if_out_of_space(file_of(g));
    throw IoError(where(g, name) + ": write failed: " + describe(e));
  }
}

template <class T>
std::vector<hsize_t> check(const H5::Group& g, const std::string& name, const std::vector<long long>& expected_shape) {
  quiet();
  const std::string expect = std::string(Traits<T>::name) +
                             (expected_shape.empty() ? "" : " " + shape_str(expected_shape));
  const H5::DataSet ds = open_dataset(g, name, expect);
  try {
    check_dtype<T>(ds, g, name);
    const std::vector<hsize_t> dims = dims_of(ds);
    if (!expected_shape.empty()) {
      bool ok = dims.size() == expected_shape.size();
      for (std::size_t i = 0; ok && i < dims.size(); ++i)
        ok = expected_shape[i] < 0 || static_cast<long long>(dims[i]) == expected_shape[i];
      if (!ok)
        throw DataError(where(g, name) + ": expected shape " + shape_str(expected_shape) + ", found " +
                        shape_str(dims));
    }
    return dims;
  } catch (const H5::Exception& e) {
    throw IoError(where(g, name) + ": " + describe(e));
  }
}

template <class T>
std::vector<T> read(const H5::Group& g, const std::string& name, std::vector<hsize_t>* shape,
                    const std::vector<long long>& expected_shape) {
  const std::vector<hsize_t> dims = check<T>(g, name, expected_shape);
  std::vector<T> out(product(dims));
  try {
    const H5::DataSet ds = g.openDataSet(name);
    if (!out.empty()) ds.read(out.data(), Traits<T>::type());
  } catch (const H5::Exception& e) {
    throw IoError(where(g, name) + ": read failed: " + describe(e));
  }
  if (shape) *shape = dims;
  return out;
}

template <class T>
std::size_t read_rows_into(const H5::DataSet& ds, hsize_t row0, hsize_t nrows, T* out, std::size_t capacity) {
  quiet();
  std::string name, file;
  try {
    name = ds.getObjName();
    file = file_of(ds);
  } catch (const H5::Exception&) {
    H5Eclear2(H5E_DEFAULT);
  }
  const std::string where = file + ": dataset '" + name + "'";
  std::size_t values = 0;
  try {
    const H5::DataType t = ds.getDataType();
    if (!dtype_matches<T>(t))
      throw DataError(where + ": expected dtype " + Traits<T>::name + ", found " + dtype_str(t));
    std::vector<hsize_t> dims = dims_of(ds);
    if (dims.empty()) throw DataError(where + ": expected an array, found a scalar");
    if (row0 + nrows > dims[0] || row0 + nrows < row0)
      throw DataError(where + ": rows [" + std::to_string(row0) + ", " + std::to_string(row0 + nrows) +
                      ") out of range (dataset has " + std::to_string(dims[0]) + " rows)");
    values = nrows * product(dims, 1);
    if (values > capacity)
      throw DataError(where + ": rows [" + std::to_string(row0) + ", " + std::to_string(row0 + nrows) + ") hold " +
                      std::to_string(values) + " values, the buffer " + std::to_string(capacity));
    if (values == 0) return 0;
    H5::DataSpace fspace = ds.getSpace();
    std::vector<hsize_t> start(dims.size(), 0), count = dims;
    start[0] = row0;
    count[0] = nrows;
    fspace.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
    H5::DataSpace mspace(static_cast<int>(count.size()), count.data());
    ds.read(out, Traits<T>::type(), mspace, fspace);
  } catch (const H5::Exception& e) {
    throw IoError(where + ": read failed: " + describe(e));
  }
  return values;
}

template <class T>
std::vector<T> read_rows(const H5::DataSet& ds, hsize_t row0, hsize_t nrows) {
  const std::vector<hsize_t> dims = dims_of(ds);
  std::vector<T> out(dims.empty() || row0 + nrows > dims[0] || row0 + nrows < row0 ? 0 : nrows * product(dims, 1));
  read_rows_into(ds, row0, nrows, out.data(), out.size());  // checks dtype, rank and range
  return out;
}

template <class T>
std::vector<T> read_rows(const H5::Group& g, const std::string& name, hsize_t row0, hsize_t nrows) {
  return read_rows<T>(open_dataset(g, name, Traits<T>::name), row0, nrows);
}

H5::DataSet open_dataset(const H5::Group& g, const std::string& name) { return open_dataset(g, name, ""); }

hsize_t chunk_rows(const H5::DataSet& ds) {
  quiet();
  const H5::DSetCreatPropList plist = ds.getCreatePlist();
  if (plist.getLayout() != H5D_CHUNKED) return 0;
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(1, plist.getChunk(0, nullptr))));
  plist.getChunk(static_cast<int>(dims.size()), dims.data());
  return dims.empty() ? 0 : dims[0];
}

// ---- attributes -------------------------------------------------------------------------

bool has_attr(const H5::H5Object& o, const std::string& name) {
  quiet();
  const htri_t r = H5Aexists(o.getId(), name.c_str());
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

namespace {

/// `n` strings of type `st` (fixed- or variable-length) read by `read(memory_type, buffer)`
/// from a dataset or an attribute whose dataspace is `space`.
template <class Read>
std::vector<std::string> read_string_values(const H5::StrType& st, std::size_t n, const H5::DataSpace& space, Read read) {
  std::vector<std::string> out;
  out.reserve(n);
  if (n == 0) return out;
  if (st.isVariableStr()) {
    H5::StrType mt(H5::PredType::C_S1, H5T_VARIABLE);
    mt.setCset(st.getCset());
    std::vector<char*> ptrs(n, nullptr);
    read(mt, static_cast<void*>(ptrs.data()));
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mt.getId(), space.getId(), H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t len = st.getSize();
    H5::StrType mt(H5::PredType::C_S1, len);
    mt.setCset(st.getCset());
    mt.setStrpad(H5T_STR_NULLPAD);
    std::vector<char> buf(n * len);
    read(mt, static_cast<void*>(buf.data()));
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(buf.data() + i * len, strnlen(buf.data() + i * len, len));
  }
  return out;
}

H5::Attribute fresh_attr(H5::H5Object& o, const std::string& name, const H5::DataType& t) {
  if (has_attr(o, name)) o.removeAttr(name);
  return o.createAttribute(name, t, H5::DataSpace(H5S_SCALAR));
}

H5::Attribute open_attr(const H5::H5Object& o, const std::string& name) {
  if (!has_attr(o, name)) throw DataError(attr_where(o, name) + " is missing");
  return o.openAttribute(name);
}
}  // namespace

void write_attr(H5::H5Object& o, const std::string& name, const std::string& value) {
  quiet();
  try {
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    t.setCset(H5T_CSET_UTF8);
    H5::Attribute a = fresh_attr(o, name, t);
    a.write(t, value);
  } catch (const H5::Exception& e) {
    throw IoError(attr_where(o, name) + ": write failed: " + describe(e));
  }
}

void write_attr(H5::H5Object& o, const std::string& name, double value) {
  quiet();
  try {
    H5::Attribute a = fresh_attr(o, name, H5::PredType::NATIVE_DOUBLE);
    a.write(H5::PredType::NATIVE_DOUBLE, &value);
  } catch (const H5::Exception& e) {
    throw IoError(attr_where(o, name) + ": write failed: " + describe(e));
  }
}

void write_attr(H5::H5Object& o, const std::string& name, std::int64_t value) {
  quiet();
  try {
    H5::Attribute a = fresh_attr(o, name, H5::PredType::NATIVE_INT64);
    a.write(H5::PredType::NATIVE_INT64, &value);
  } catch (const H5::Exception& e) {
    throw IoError(attr_where(o, name) + ": write failed: " + describe(e));
  }
}

std::string read_attr_string(const H5::H5Object& o, const std::string& name) {
  quiet();
  const H5::Attribute a = open_attr(o, name);
  try {
    const H5::DataType t = a.getDataType();
    if (t.getClass() != H5T_STRING)
      throw DataError(attr_where(o, name) + ": expected a string, found " + dtype_str(t));
    std::string v;
    a.read(a.getStrType(), v);
    while (!v.empty() && v.back() == '\0') v.pop_back();
    return v;
  } catch (const H5::Exception& e) {
    throw IoError(attr_where(o, name) + ": read failed: " + describe(e));
  }
}

std::vector<std::string> read_attr_strings(const H5::H5Object& o, const std::string& name) {
  quiet();
  const H5::Attribute a = open_attr(o, name);
  try {
    const H5::DataType t = a.getDataType();
    if (t.getClass() != H5T_STRING)
      throw DataError(attr_where(o, name) + ": expected strings, found " + dtype_str(t));
    const auto n = static_cast<std::size_t>(a.getSpace().getSimpleExtentNpoints());
    return read_string_values(a.getStrType(), n, a.getSpace(),
                              [&](const H5::DataType& mt, void* buf) { a.read(mt, buf); });
  } catch (const H5::Exception& e) {
    throw IoError(attr_where(o, name) + ": read failed: " + describe(e));
  }
}

double read_attr_double(const H5::H5Object& o, const std::string& name) {
  quiet();
  const H5::Attribute a = open_attr(o, name);
  try {
    const H5::DataType t = a.getDataType();
    if ((t.getClass() != H5T_FLOAT && t.getClass() != H5T_INTEGER) || a.getSpace().getSimpleExtentNpoints() != 1)
      throw DataError(attr_where(o, name) + ": expected a number, found " + dtype_str(t));
    double v = 0;
    a.read(H5::PredType::NATIVE_DOUBLE, &v);
    return v;
  } catch (const H5::Exception& e) {
    throw IoError(attr_where(o, name) + ": read failed: " + describe(e));
  }
}

std::int64_t read_attr_int(const H5::H5Object& o, const std::string& name) {
  quiet();
  const H5::Attribute a = open_attr(o, name);
  try {
    const H5::DataType t = a.getDataType();
    if (t.getClass() != H5T_INTEGER || a.getSpace().getSimpleExtentNpoints() != 1)
      throw DataError(attr_where(o, name) + ": expected an integer, found " + dtype_str(t));
    std::int64_t v = 0;
    a.read(H5::PredType::NATIVE_INT64, &v);
    return v;
  } catch (const H5::Exception& e) {
    throw IoError(attr_where(o, name) + ": read failed: " + describe(e));
  }
}

// ---- strings ----------------------------------------------------------------------------

void write_strings(H5::Group& g, const std::string& name, const std::vector<std::string>& v) {
  quiet();
  try {
    H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
    t.setCset(H5T_CSET_UTF8);
    const hsize_t n = v.size();
    H5::DataSpace space(1, &n);
    H5::DataSet ds = g.createDataSet(name, t, space, untimed_plist());
    if (n == 0) return;
    std::vector<const char*> ptrs(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) ptrs[i] = v[i].c_str();
    ds.write(ptrs.data(), t);
  } catch (const H5::Exception& e) {
    throw_if_out_of_space(file_of(g));
    throw IoError(where(g, name) + ": write failed: " + describe(e));
  }
}

std::vector<std::string> read_strings(const H5::Group& g, const std::string& name) {
  quiet();
  const H5::DataSet ds = open_dataset(g, name, "string (n,)");
  std::vector<std::string> out;
  try {
    const H5::DataType t = ds.getDataType();
    if (t.getClass() != H5T_STRING) throw DataError(where(g, name) + ": expected dtype string, found " + dtype_str(t));
    const std::vector<hsize_t> dims = dims_of(ds);
    if (dims.size() != 1) throw DataError(where(g, name) + ": expected shape (*,), found " + shape_str(dims));
    out = read_string_values(H5::StrType(ds), static_cast<std::size_t>(dims[0]), ds.getSpace(),
                             [&](const H5::DataType& mt, void* buf) { ds.read(buf, mt); });
  } catch (const H5::Exception& e) {
    throw IoError(where(g, name) + ": read failed: " + describe(e));
  }
  return out;
}

// ---- RowAppender ------------------------------------------------------------------------

template <class T>
RowAppender<T>::RowAppender(H5::Group& g, const std::string& name, const std::vector<hsize_t>& inner_shape,
                            hsize_t chunk_rows, int gzip_level)
    : name_(name), file_(file_of(g)), inner_(inner_shape) {
  quiet();
  row_size_ = product(inner_);
  if (row_size_ == 0) throw DataError(where(g, name) + ": rows must not be empty");
  chunk_rows_ = chunk_rows > 0 ? chunk_rows : auto_chunk_rows(row_size_ * sizeof(T), 0);
  std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{chunk_rows_};
  dims.insert(dims.end(), inner_.begin(), inner_.end());
  maxdims.insert(maxdims.end(), inner_.begin(), inner_.end());
  chunk.insert(chunk.end(), inner_.begin(), inner_.end());
  try {
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data(), maxdims.data());
    ds_ = g.createDataSet(name, Traits<T>::type(), space, chunked_plist(chunk, sizeof(T), gzip_level));
  } catch (const H5::Exception& e) {
    throw IoError(where(g, name) + ": create failed: " + describe(e));
  }
  name_ = obj_path(g, name);
}

template <class T>
void RowAppender<T>::write_block(const T* data, hsize_t nrows) {
  if (nrows == 0) return;
  try {
    std::vector<hsize_t> dims{written_ + nrows}, start{written_}, count{nrows};
    dims.insert(dims.end(), inner_.begin(), inner_.end());
    count.insert(count.end(), inner_.begin(), inner_.end());
    start.resize(count.size(), 0);
    ds_.extend(dims.data());
    H5::DataSpace fspace = ds_.getSpace();
    fspace.selectHyperslab(H5S_SELECT_SET, count.data(), start.data());
    H5::DataSpace mspace(static_cast<int>(count.size()), count.data());
    ds_.write(data, Traits<T>::type(), mspace, fspace);
  } catch (const H5::Exception& e) {
    throw_if_out_of_space(file_);
    throw IoError(file_ + ": dataset '" + name_ + "': write failed: " + describe(e));
  }
  written_ += nrows;
}

template <class T>
void RowAppender<T>::append(const T* data, hsize_t nrows) {
  if (nrows == 0) return;
  const hsize_t n = nrows * row_size_;
  if (buffer_.empty() && nrows >= chunk_rows_) {  // fast path: whole chunks straight to disk
    const hsize_t direct = nrows / chunk_rows_ * chunk_rows_;
    write_block(data, direct);
    buffer_.insert(buffer_.end(), data + direct * row_size_, data + n);
    return;
  }
  buffer_.insert(buffer_.end(), data, data + n);
  const hsize_t have = buffered_rows();
  if (have >= chunk_rows_) {
    const hsize_t direct = have / chunk_rows_ * chunk_rows_;
    write_block(buffer_.data(), direct);
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(direct * row_size_));
  }
}

template <class T>
void RowAppender<T>::append(const std::vector<T>& data) {
  if (data.size() % row_size_ != 0)
    throw DataError(file_ + ": dataset '" + name_ + "': " + std::to_string(data.size()) +
                    " values are not a whole number of rows of " + std::to_string(row_size_));
  append(data.data(), data.size() / row_size_);
}

template <class T>
void RowAppender<T>::flush() {
  write_block(buffer_.data(), buffered_rows());
  buffer_.clear();
}

// ---- AtomicFile -------------------------------------------------------------------------

AtomicFile::AtomicFile(const fs::path& final_path, const FormatTag& tag)
    : final_(final_path), temp_(temp_path_for(final_path)) {
  // A name of our own (still matching `*.tmp.*`, so remove_stale_temporaries() cleans it up),
  // distinct from the one write_atomic() hands to its callback at commit.
  temp_ += ".part";
  std::error_code ec;
  if (final_.has_parent_path()) fs::create_directories(final_.parent_path(), ec);
  if (ec) throw IoError(final_.string() + ": cannot create directory " + final_.parent_path().string() + ": " + ec.message());
  file_ = std::make_unique<H5::H5File>(create(temp_, tag));
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  if (std::uncaught_exceptions() > 0) {
    // Unwinding from a failed write (e.g. EFBIG, ENOSPC): libhdf5 1.10 can crash closing a file
    // whose flush failed, so the handle is left open (the temporary is deleted below; the
    // process is ending with an error).
    (void)file_.release();
  } else {
    try {
      if (file_) file_->close();
    } catch (...) {
      H5Eclear2(H5E_DEFAULT);
    }
  }
  file_.reset();
  std::error_code ec;
  fs::remove(temp_, ec);
}

void AtomicFile::commit() {
  if (committed_) return;
  try {
    file_->flush(H5F_SCOPE_GLOBAL);
    file_->close();
  } catch (const H5::Exception& e) {
    throw_if_out_of_space(temp_);
    throw IoError(temp_.string() + ": cannot close HDF5 file: " + describe(e));
  }
  file_.reset();
  // The file is complete under its temporary name; write_atomic() fsyncs and renames it.
  write_atomic(final_, [this](const fs::path& tmp) {
    if (tmp != temp_) {
      std::error_code ec;
      fs::rename(temp_, tmp, ec);
      if (ec) throw IoError(temp_.string() + ": cannot rename to " + tmp.string() + ": " + ec.message());
    }
  });
  committed_ = true;
}

// ---- instantiations ---------------------------------------------------------------------
#define TAUPE_H5_INSTANTIATE(T)                                                                              \
  template const char* dtype_name<T>();                                                                      \
  template void write<T>(H5::Group&, const std::string&, const std::vector<T>&, const std::vector<hsize_t>&, \
                         hsize_t, int);                                                                      \
  template std::vector<T> read<T>(const H5::Group&, const std::string&, std::vector<hsize_t>*,               \
                                  const std::vector<long long>&);                                            \
  template std::vector<T> read_rows<T>(const H5::Group&, const std::string&, hsize_t, hsize_t);              \
  template std::vector<T> read_rows<T>(const H5::DataSet&, hsize_t, hsize_t);                                \
  template std::size_t read_rows_into<T>(const H5::DataSet&, hsize_t, hsize_t, T*, std::size_t);            \
  template std::vector<hsize_t> check<T>(const H5::Group&, const std::string&, const std::vector<long long>&); \
  template class RowAppender<T>;
TAUPE_H5_INSTANTIATE(std::uint8_t)
TAUPE_H5_INSTANTIATE(std::int8_t)
TAUPE_H5_INSTANTIATE(std::uint16_t)
TAUPE_H5_INSTANTIATE(std::int16_t)
TAUPE_H5_INSTANTIATE(std::uint32_t)
TAUPE_H5_INSTANTIATE(std::int32_t)
TAUPE_H5_INSTANTIATE(std::uint64_t)
TAUPE_H5_INSTANTIATE(std::int64_t)
TAUPE_H5_INSTANTIATE(float)
TAUPE_H5_INSTANTIATE(double)
#undef TAUPE_H5_INSTANTIATE

}  // namespace taupe::h5
