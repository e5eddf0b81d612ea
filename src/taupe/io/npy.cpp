#include "taupe/io/npy.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <type_traits>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"

namespace taupe::io {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& where, const std::string& rule) {
  throw DataError(where + ": " + rule);
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += '?';
    if (out.size() > 40) { out += "..."; break; }
  }
  return out;
}

/// Strict parser of the header dict literal (a tiny subset of Python literal syntax).
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

  void parse(std::string& descr, bool& fortran, std::vector<std::size_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    ws();
    expect('{');
    ws();
    while (peek() != '}') {
      const std::string key = string_literal();
      ws();
      expect(':');
      ws();
      if (key == "descr") {
        if (have_descr) fail(where_, "header: duplicate key 'descr'");
        descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_fortran) fail(where_, "header: duplicate key 'fortran_order'");
        fortran = boolean();
        have_fortran = true;
      } else if (key == "shape") {
        if (have_shape) fail(where_, "header: duplicate key 'shape'");
        shape = tuple();
        have_shape = true;
      } else {
        fail(where_, "header: unknown key '" + printable(key) +
                         "' (only 'descr', 'fortran_order', 'shape' are allowed)");
      }
      ws();
      if (peek() == ',') { ++i_; ws(); continue; }
      if (peek() != '}') fail(where_, "header: expected ',' or '}' at offset " + std::to_string(i_));
    }
    ++i_;
    // Padding: spaces, then exactly one final newline.
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\x20')) ++i_;
    if (i_ + 1 != s_.size() || s_[i_] != '\n')
      fail(where_, "header: must end with '}' followed by space padding and '\\n'");
    if (!have_descr) fail(where_, "header: missing key 'descr'");
    if (!have_fortran) fail(where_, "header: missing key 'fortran_order'");
    if (!have_shape) fail(where_, "header: missing key 'shape'");
  }

 private:
  char peek() const {
    if (i_ >= s_.size()) fail(where_, "header: truncated dict literal");
    return s_[i_];
  }
  void ws() { while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_; }
  void expect(char c) {
    if (peek() != c)
      fail(where_, std::string("header: expected '") + c + "' at offset " + std::to_string(i_));
    ++i_;
  }
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') fail(where_, "header: expected a quoted string at offset " + std::to_string(i_));
    ++i_;
    std::string out;
    while (peek() != q) {
      const char c = s_[i_];
      if (c == '\\' || c == '\n' || static_cast<unsigned char>(c) < 0x20)
        fail(where_, "header: unsupported character in string literal");
      out += c;
      ++i_;
      if (out.size() > 64) fail(where_, "header: string literal longer than 64 characters");
    }
    ++i_;
    return out;
  }
  bool boolean() {
    if (s_.compare(i_, 4, "True") == 0) { i_ += 4; return true; }
    if (s_.compare(i_, 5, "False") == 0) { i_ += 5; return false; }
    fail(where_, "header: 'fortran_order' must be True or False");
  }
  std::vector<std::size_t> tuple() {
    expect('(');
    ws();
    std::vector<std::size_t> out;
    while (peek() != ')') {
      if (peek() < '0' || peek() > '9') fail(where_, "header: 'shape' must be a tuple of non-negative integers");
      std::size_t v = 0;
      int digits = 0;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
        if (++digits > 15) fail(where_, "header: 'shape' dimension too large");
        v = v * 10 + static_cast<std::size_t>(s_[i_] - '0');
        ++i_;
      }
      out.push_back(v);
      if (out.size() > 32) fail(where_, "header: 'shape' has more than 32 dimensions");
      ws();
      if (peek() == ',') { ++i_; ws(); continue; }
      if (peek() != ')') fail(where_, "header: expected ',' or ')' in 'shape'");
    }
    ++i_;
    // A one-element tuple must be written "(n,)"; "(n)" is just an int in Python.
    return out;
  }

  const std::string& s_;
  const std::string& where_;
  std::size_t i_ = 0;
};

struct ParsedDescr {
  NpyDType dtype;
  bool big_endian = false;
};

ParsedDescr parse_descr(const std::string& d, const std::string& where) {
  const std::string bad = "header: 'descr' '" + printable(d) + "'";
  if (d.size() >= 2 && d[1] == 'O')
    fail(where, bad + " is an object array (pickled Python objects are never read)");
  if (d.size() < 3) fail(where, bad + " is not a supported dtype");
  const char order = d[0], kind = d[1];
  std::size_t n = 0;
  for (std::size_t i = 2; i < d.size(); ++i) {
    if (d[i] < '0' || d[i] > '9' || i > 10) fail(where, bad + " is not a supported dtype");
    n = n * 10 + static_cast<std::size_t>(d[i] - '0');
  }
  ParsedDescr p;
  if (order == '=') fail(where, bad + " has native byte order; expected '<' or '|'");
  if (order != '<' && order != '>' && order != '|') fail(where, bad + " is not a supported dtype");
  p.big_endian = (order == '>');
  switch (kind) {
    case 'b': p.dtype = {NpyKind::kBool, 1}; if (n != 1) fail(where, bad + " is not a supported dtype"); break;
    case 'u': p.dtype = {NpyKind::kUInt, n}; break;
    case 'i': p.dtype = {NpyKind::kInt, n}; break;
    case 'f': p.dtype = {NpyKind::kFloat, n}; break;
    case 'U': p.dtype = {NpyKind::kUnicode, n * 4}; break;
    case 'S': p.dtype = {NpyKind::kBytes, n}; break;
    case 'O': fail(where, bad + " is an object array (pickled Python objects are never read)");
    default: fail(where, bad + " is not a supported dtype");
  }
  const NpyKind k = p.dtype.kind;
  if ((k == NpyKind::kUInt || k == NpyKind::kInt) && n != 1 && n != 2 && n != 4 && n != 8)
    fail(where, bad + " is not a supported dtype");
  if (k == NpyKind::kFloat && n != 4 && n != 8) fail(where, bad + " is not a supported dtype");
  if ((k == NpyKind::kUnicode || k == NpyKind::kBytes) && (n == 0 || n > 4096))
    fail(where, bad + " has an unsupported string width");
  if (k == NpyKind::kBytes && order != '|') fail(where, bad + " is not a supported dtype");
  if (p.dtype.size == 1) p.big_endian = false;            // byte order is moot
  else if (order == '|') fail(where, bad + " needs a byte order ('<')");
  return p;
}

std::size_t element_count(const std::vector<std::size_t>& shape, std::size_t itemsize,
                          std::size_t max_bytes, const std::string& where) {
  std::size_t count = 1;
  for (std::size_t d : shape) {
    if (d != 0 && count > max_bytes / d) fail(where, "header: 'shape' describes more than the size limit");
    count *= d;
  }
  if (itemsize != 0 && count > max_bytes / itemsize)
    fail(where, "header: payload of " + std::to_string(count) + " elements exceeds the size limit");
  return count;
}

void fortran_to_c(NpyArray& a) {
  const std::size_t nd = a.shape.size();
  if (nd < 2) return;
  const std::size_t n = a.size(), w = a.dtype.size;
  if (n == 0) return;
  std::vector<std::size_t> fstride(nd);
  fstride[0] = 1;
  for (std::size_t j = 1; j < nd; ++j) fstride[j] = fstride[j - 1] * a.shape[j - 1];
  std::vector<std::uint8_t> out(a.bytes.size());
  std::vector<std::size_t> idx(nd, 0);
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t f = 0;
    for (std::size_t j = 0; j < nd; ++j) f += idx[j] * fstride[j];
    std::memcpy(&out[c * w], &a.bytes[f * w], w);
    for (std::size_t j = nd; j-- > 0;) {
      if (++idx[j] < a.shape[j]) break;
      idx[j] = 0;
    }
  }
  a.bytes.swap(out);
}

template <class S>
S load(const std::uint8_t* p) {
  S v;
  std::memcpy(&v, p, sizeof(S));
  return v;
}

/// Element i as either an integer (exact) or a double, by the array's kind.
struct Elem {
  bool is_float = false;
  bool is_unsigned = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double f = 0;
};

Elem element(const NpyArray& a, std::size_t i) {
  const std::uint8_t* p = a.bytes.data() + i * a.dtype.size;
  Elem e;
  switch (a.dtype.kind) {
    case NpyKind::kBool: e.is_unsigned = true; e.u = p[0]; break;
    case NpyKind::kUInt:
      e.is_unsigned = true;
      switch (a.dtype.size) {
        case 1: e.u = load<std::uint8_t>(p); break;
        case 2: e.u = load<std::uint16_t>(p); break;
        case 4: e.u = load<std::uint32_t>(p); break;
        default: e.u = load<std::uint64_t>(p); break;
      }
      break;
    case NpyKind::kInt:
      switch (a.dtype.size) {
        case 1: e.i = load<std::int8_t>(p); break;
        case 2: e.i = load<std::int16_t>(p); break;
        case 4: e.i = load<std::int32_t>(p); break;
        default: e.i = load<std::int64_t>(p); break;
      }
      break;
    case NpyKind::kFloat:
      e.is_float = true;
      e.f = a.dtype.size == 4 ? static_cast<double>(load<float>(p)) : load<double>(p);
      break;
    default: break;
  }
  return e;
}

template <class T>
T convert(const Elem& e, const std::string& where, std::size_t index) {
  auto bad = [&](const std::string& why) -> T {
    fail(where, "element " + std::to_string(index) + ": " + why);
  };
  if constexpr (std::is_floating_point_v<T>) {
    if (e.is_float) {
      if (std::isfinite(e.f) && std::fabs(e.f) > static_cast<double>(std::numeric_limits<T>::max()))
        return bad("value out of range of the target type");
      return static_cast<T>(e.f);
    }
    return e.is_unsigned ? static_cast<T>(e.u) : static_cast<T>(e.i);
  } else {
    using L = std::numeric_limits<T>;
    if (e.is_float) {
      if (!std::isfinite(e.f)) return bad("non-finite value where an integer is expected");
      if (std::floor(e.f) != e.f) return bad("non-integral value where an integer is expected");
      if (e.f < static_cast<double>(L::lowest()) || e.f > static_cast<double>(L::max()))
        return bad("value out of range of the target type");
      return static_cast<T>(e.f);
    }
    if (e.is_unsigned) {
      if (e.u > static_cast<std::uint64_t>(L::max())) return bad("value out of range of the target type");
      return static_cast<T>(e.u);
    }
    if constexpr (std::is_unsigned_v<T>) {
      if (e.i < 0 || static_cast<std::uint64_t>(e.i) > static_cast<std::uint64_t>(L::max()))
        return bad("value out of range of the target type");
    } else {
      if (e.i < static_cast<std::int64_t>(L::lowest()) || e.i > static_cast<std::int64_t>(L::max()))
        return bad("value out of range of the target type");
    }
    return static_cast<T>(e.i);
  }
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

std::vector<std::uint32_t> decode_utf8(const std::string& s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + static_cast<std::size_t>(len) > s.size())
      throw DataError("npy writer: string '" + printable(s) + "' is not valid UTF-8");
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc >> 6) != 0x2) throw DataError("npy writer: string '" + printable(s) + "' is not valid UTF-8");
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

template <class T>
NpyDType dtype_of() {
  if constexpr (std::is_same_v<T, bool>) return {NpyKind::kBool, 1};
  else if constexpr (std::is_floating_point_v<T>) return {NpyKind::kFloat, sizeof(T)};
  else if constexpr (std::is_unsigned_v<T>) return {NpyKind::kUInt, sizeof(T)};
  else return {NpyKind::kInt, sizeof(T)};
}

}  // namespace

std::string NpyDType::descr() const {
  switch (kind) {
    case NpyKind::kBool: return "|b1";
    case NpyKind::kUInt: return (size == 1 ? "|u" : "<u") + std::to_string(size);
    case NpyKind::kInt: return (size == 1 ? "|i" : "<i") + std::to_string(size);
    case NpyKind::kFloat: return "<f" + std::to_string(size);
    case NpyKind::kUnicode: return "<U" + std::to_string(size / 4);
    case NpyKind::kBytes: return "|S" + std::to_string(size);
  }
  return "?";
}

std::size_t NpyArray::size() const {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

template <class T>
std::vector<T> NpyArray::values(const std::string& where) const {
  if (dtype.kind == NpyKind::kUnicode || dtype.kind == NpyKind::kBytes)
    fail(where, "dtype " + dtype.descr() + ": expected a numeric array, found strings");
  const std::size_t n = size();
  std::vector<T> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = convert<T>(element(*this, i), where, i);
  return out;
}

template <class T>
T NpyArray::scalar(const std::string& where) const {
  if (size() != 1) fail(where, "expected a scalar, found " + std::to_string(size()) + " elements");
  return values<T>(where)[0];
}

std::vector<std::string> NpyArray::strings(const std::string& where) const {
  if (dtype.kind != NpyKind::kUnicode && dtype.kind != NpyKind::kBytes)
    fail(where, "dtype " + dtype.descr() + ": expected a string array");
  const std::size_t n = size();
  std::vector<std::string> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* p = bytes.data() + i * dtype.size;
    std::string s;
    if (dtype.kind == NpyKind::kBytes) {
      s.assign(reinterpret_cast<const char*>(p), dtype.size);
      while (!s.empty() && s.back() == '\0') s.pop_back();
    } else {
      std::size_t len = dtype.size / 4;
      while (len > 0 && load<std::uint32_t>(p + 4 * (len - 1)) == 0) --len;
      for (std::size_t k = 0; k < len; ++k) {
        const auto cp = load<std::uint32_t>(p + 4 * k);
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
          fail(where, "element " + std::to_string(i) + ": invalid unicode code point");
        append_utf8(s, cp);
      }
    }
    out[i] = std::move(s);
  }
  return out;
}

template <class T>
NpyArray NpyArray::from(const std::vector<T>& v, std::vector<std::size_t> shape) {
  NpyArray a;
  a.dtype = dtype_of<T>();
  a.shape = std::move(shape);
  if (a.size() != v.size())
    throw DataError("npy writer: shape holds " + std::to_string(a.size()) + " elements, data has " +
                    std::to_string(v.size()));
  a.bytes.resize(v.size() * sizeof(T));
  if constexpr (std::is_same_v<T, bool>) {
    for (std::size_t i = 0; i < v.size(); ++i) a.bytes[i] = v[i] ? 1 : 0;
  } else if (!v.empty()) {
    std::memcpy(a.bytes.data(), v.data(), a.bytes.size());
  }
  return a;
}

NpyArray NpyArray::from_strings(const std::vector<std::string>& v, std::vector<std::size_t> shape) {
  NpyArray a;
  a.shape = std::move(shape);
  if (a.size() != v.size())
    throw DataError("npy writer: shape holds " + std::to_string(a.size()) + " elements, data has " +
                    std::to_string(v.size()));
  std::vector<std::vector<std::uint32_t>> cps;
  std::size_t width = 1;
  for (const auto& s : v) {
    cps.push_back(decode_utf8(s));
    width = std::max(width, cps.back().size());
  }
  a.dtype = {NpyKind::kUnicode, width * 4};
  a.bytes.assign(v.size() * width * 4, 0);
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t k = 0; k < cps[i].size(); ++k)
      std::memcpy(&a.bytes[(i * width + k) * 4], &cps[i][k], 4);
  return a;
}

#define TAUPE_NPY_INSTANTIATE(T)                                                       \
  template std::vector<T> NpyArray::values<T>(const std::string&) const;              \
  template T NpyArray::scalar<T>(const std::string&) const;                           \
  template NpyArray NpyArray::from<T>(const std::vector<T>&, std::vector<std::size_t>);
TAUPE_NPY_INSTANTIATE(std::uint8_t)
TAUPE_NPY_INSTANTIATE(std::uint16_t)
TAUPE_NPY_INSTANTIATE(std::uint32_t)
TAUPE_NPY_INSTANTIATE(std::int8_t)
TAUPE_NPY_INSTANTIATE(std::int32_t)
TAUPE_NPY_INSTANTIATE(std::int64_t)
TAUPE_NPY_INSTANTIATE(float)
TAUPE_NPY_INSTANTIATE(double)
#undef TAUPE_NPY_INSTANTIATE
template NpyArray NpyArray::from<bool>(const std::vector<bool>&, std::vector<std::size_t>);

NpyArray parse_npy(const std::uint8_t* data, std::size_t n, const std::string& where,
                   const NpyReadOptions& opts) {
  if (n < kMagicLen + 2 || std::memcmp(data, kMagic, kMagicLen) != 0)
    fail(where, "not a .npy file (missing magic \"\\x93NUMPY\")");
  const int major = data[6], minor = data[7];
  if (minor != 0 || major < 1 || major > 3)
    fail(where, "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                    " (expected 1.0, 2.0 or 3.0)");
  std::size_t pos = 8, hlen = 0;
  if (major == 1) {
    if (n < pos + 2) fail(where, "truncated header length");
    hlen = static_cast<std::size_t>(data[8]) | (static_cast<std::size_t>(data[9]) << 8);
    pos += 2;
  } else {
    if (n < pos + 4) fail(where, "truncated header length");
    hlen = static_cast<std::size_t>(data[8]) | (static_cast<std::size_t>(data[9]) << 8) |
           (static_cast<std::size_t>(data[10]) << 16) | (static_cast<std::size_t>(data[11]) << 24);
    pos += 4;
  }
  if (hlen > n - pos) fail(where, "header length " + std::to_string(hlen) + " runs past the end of the data");
  const std::string header(reinterpret_cast<const char*>(data + pos), hlen);
  if (major < 3)
    for (unsigned char c : header)
      if (c >= 0x80) fail(where, "header: non-ASCII byte in a version 1/2 header");
  pos += hlen;

  std::string descr;
  bool fortran = false;
  NpyArray a;
  HeaderParser(header, where).parse(descr, fortran, a.shape);
  const ParsedDescr pd = parse_descr(descr, where);
  if (pd.big_endian && !opts.allow_big_endian)
    fail(where, "header: 'descr' '" + descr + "' is big-endian (convert it explicitly, e.g. arr.astype('<" +
                    descr.substr(1) + "'))");
  a.dtype = pd.dtype;
  const std::size_t count = element_count(a.shape, a.dtype.size, opts.max_bytes, where);
  const std::size_t payload = count * a.dtype.size;
  if (n - pos != payload)
    fail(where, "data: expected " + std::to_string(payload) + " bytes for shape and dtype " + descr +
                    ", found " + std::to_string(n - pos));
  a.bytes.assign(data + pos, data + n);
  if (pd.big_endian) {
    const std::size_t unit = a.dtype.kind == NpyKind::kUnicode ? 4 : a.dtype.size;
    for (std::size_t i = 0; i + unit <= a.bytes.size(); i += unit)
      for (std::size_t k = 0; k < unit / 2; ++k) std::swap(a.bytes[i + k], a.bytes[i + unit - 1 - k]);
  }
  if (a.dtype.kind == NpyKind::kBool)
    for (std::size_t i = 0; i < a.bytes.size(); ++i)
      if (a.bytes[i] > 1) fail(where, "element " + std::to_string(i) + ": boolean byte is neither 0 nor 1");
  if (fortran) fortran_to_c(a);
  return a;
}

std::string serialize_npy(const NpyArray& a) {
  if (a.bytes.size() != a.size() * a.dtype.size)
    throw DataError("npy writer: " + std::to_string(a.bytes.size()) + " bytes do not match shape and dtype " +
                    a.dtype.descr());
  std::string dict = "{'descr': '" + a.dtype.descr() + "', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < a.shape.size(); ++i) {
    dict += std::to_string(a.shape[i]);
    dict += (a.shape.size() == 1 || i + 1 < a.shape.size()) ? "," : "";
    if (i + 1 < a.shape.size()) dict += " ";
  }
  dict += "), }";
  int major = 1;
  std::size_t prefix = kMagicLen + 2 + 2;
  std::size_t total = prefix + dict.size() + 1;
  if ((total + 63) / 64 * 64 - prefix > 0xFFFF) {
    major = 2;
    prefix += 2;
    total = prefix + dict.size() + 1;
  }
  const std::size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  const std::size_t hlen = dict.size();
  std::string out(kMagic, kMagicLen);
  out += static_cast<char>(major);
  out += '\0';
  out += static_cast<char>(hlen & 0xFF);
  out += static_cast<char>((hlen >> 8) & 0xFF);
  if (major == 2) {
    out += static_cast<char>((hlen >> 16) & 0xFF);
    out += static_cast<char>((hlen >> 24) & 0xFF);
  }
  out += dict;
  out.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
  return out;
}

NpyArray read_npy(const std::filesystem::path& path, const NpyReadOptions& opts) {
  const std::string bytes = read_text_file(path);
  return parse_npy(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), path.string(), opts);
}

void write_npy(const std::filesystem::path& path, const NpyArray& a) {
  write_text_atomic(path, serialize_npy(a));
}

}  // namespace taupe::io
