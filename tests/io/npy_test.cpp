// Strict npy/npz parser: accepted layouts decode to the right values; everything else is
// refused with a message naming the source and the rule.
#include <gtest/gtest.h>

#include "io_test_util.h"
#include "taupe/io/npz.h"

namespace taupe::io {
namespace {

using testing::npy_bytes;
using testing::raw;

NpyArray parse(const std::string& b, const std::string& where = "x.npy", NpyReadOptions o = {}) {
  return parse_npy(reinterpret_cast<const std::uint8_t*>(b.data()), b.size(), where, o);
}

TEST(Npy, ReadsVersionsDtypesAndScalars) {
  auto a = parse(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                           raw(std::vector<double>{0, 1, 2, 3, 4, 5})));
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(a.values<double>("x"), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  auto s = parse(npy_bytes("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", raw(std::vector<std::int64_t>{42})));
  EXPECT_EQ(s.scalar<std::int32_t>("x"), 42);
  for (int major : {2, 3}) {
    auto v = parse(npy_bytes("{\"descr\": \"<u2\", \"shape\": (3,), \"fortran_order\": False}",
                             raw(std::vector<std::uint16_t>{7, 8, 65535}), major));
    EXPECT_EQ(v.values<std::uint16_t>("x"), (std::vector<std::uint16_t>{7, 8, 65535}));
  }
  auto b = parse(npy_bytes("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", std::string("\1\0", 2)));
  EXPECT_EQ(b.values<std::uint8_t>("x"), (std::vector<std::uint8_t>{1, 0}));
  auto u1 = parse(npy_bytes("{'descr': '<u1', 'fortran_order': False, 'shape': (2,), }", std::string("\3\4", 2)));
  EXPECT_EQ(u1.values<float>("x"), (std::vector<float>{3, 4}));
}

TEST(Npy, FortranOrderIsReorderedToC) {
  // C array [[0,1,2],[3,4,5]] in Fortran order is 0 3 1 4 2 5.
  auto a = parse(npy_bytes("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
                           raw(std::vector<std::int32_t>{0, 3, 1, 4, 2, 5})));
  EXPECT_EQ(a.values<std::int32_t>("x"), (std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
}

TEST(Npy, UnicodeStrings) {
  std::u32string s1 = U"mitosis", s2 = U"apop\u00e9";
  s2.resize(7, U'\0');
  std::string payload(reinterpret_cast<const char*>(s1.data()), 28);
  payload.append(reinterpret_cast<const char*>(s2.data()), 28);
  auto a = parse(npy_bytes("{'descr': '<U7', 'fortran_order': False, 'shape': (2,), }", payload));
  EXPECT_EQ(a.strings("x"), (std::vector<std::string>{"mitosis", "apop\xc3\xa9"}));
}

TEST(Npy, BigEndianOnlyWhenAsked) {
  const std::string be = npy_bytes("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", std::string("\0\0\1\2", 4));
  testing::expect_error<DataError>([&] { parse(be); },
                                   "x.npy: header: 'descr' '>i4' is big-endian (convert it explicitly, e.g. "
                                   "arr.astype('<i4'))");
  NpyReadOptions o;
  o.allow_big_endian = true;
  EXPECT_EQ(parse(be, "x.npy", o).scalar<std::int32_t>("x"), 258);
}

TEST(Npy, RefusesWhatItDoesNotUnderstand) {
  const std::string ok_payload = raw(std::vector<double>{1});
  struct Case { std::string bytes, message; };
  const std::vector<Case> cases = {
      {"PK\3\4garbage", "x.npy: not a .npy file (missing magic \"\\x93NUMPY\")"},
      {std::string("\x93NUMPY\x04\x00", 8) + "xx", "x.npy: unsupported .npy format version 4.0 (expected 1.0, 2.0 or 3.0)"},
      {npy_bytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", ok_payload),
       "x.npy: header: 'descr' '|O' is an object array (pickled Python objects are never read)"},
      {npy_bytes("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }", ok_payload),
       "x.npy: header: expected a quoted string at offset 10"},
      {npy_bytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", ok_payload),
       "x.npy: header: 'descr' '<c16' is not a supported dtype"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", ok_payload),
       "x.npy: data: expected 16 bytes for shape and dtype <f8, found 8"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'extra': 1, }", ok_payload),
       "x.npy: header: unknown key 'extra' (only 'descr', 'fortran_order', 'shape' are allowed)"},
      {npy_bytes("{'descr': '<f8', 'shape': (1,), }", ok_payload), "x.npy: header: missing key 'fortran_order'"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }", ok_payload),
       "x.npy: header: 'fortran_order' must be True or False"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }", ok_payload),
       "x.npy: header: 'shape' must be a tuple of non-negative integers"},
      {npy_bytes("{'descr': '=f8', 'fortran_order': False, 'shape': (1,), }", ok_payload),
       "x.npy: header: 'descr' '=f8' has native byte order; expected '<' or '|'"},
      {npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (999999999, 999999999, 999999999), }", ok_payload),
       "x.npy: header: 'shape' describes more than the size limit"},
  };
  for (const auto& c : cases) testing::expect_error<DataError>([&] { parse(c.bytes); }, c.message);
}

TEST(Npy, ConversionChecksRange) {
  auto a = NpyArray::from<double>({1.5}, {1});
  testing::expect_error<DataError>([&] { a.values<std::int32_t>("m.npz: field 'cutoff'"); },
                                   "m.npz: field 'cutoff': element 0: non-integral value where an integer is expected");
  auto b = NpyArray::from<std::int64_t>({-3}, {});
  testing::expect_error<DataError>([&] { b.values<std::uint16_t>("f"); },
                                   "f: element 0: value out of range of the target type");
}

TEST(Npy, SerializeRoundTrip) {
  auto a = NpyArray::from<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  const std::string b = serialize_npy(a);
  EXPECT_EQ(b.size() % 64, (6 * 4) % 64);   // header padded to 64 bytes
  auto r = parse(b);
  EXPECT_EQ(r.shape, a.shape);
  EXPECT_EQ(r.bytes, a.bytes);
  auto s = NpyArray::from_strings({"apoptosis", ""}, {2});
  EXPECT_EQ(parse(serialize_npy(s)).strings("x"), (std::vector<std::string>{"apoptosis", ""}));
}

TEST(Npz, RoundTripStoredAndDeflated) {
  NpzArrays m;
  m["cutoff"] = NpyArray::from<std::int64_t>({7}, {});
  m["label"] = NpyArray::from_strings({"mitosis"}, {});
  m["x"] = NpyArray::from<float>({1, 2, 3}, {3});
  for (bool compress : {false, true}) {
    const std::string z = serialize_npz(m, compress);
    EXPECT_EQ(z, serialize_npz(m, compress));   // deterministic bytes
    auto r = parse_npz(reinterpret_cast<const std::uint8_t*>(z.data()), z.size(), "m.npz");
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(npz_member(r, "cutoff", "m.npz").scalar<int>("c"), 7);
    EXPECT_EQ(r.at("label").strings("l")[0], "mitosis");
    EXPECT_EQ(r.at("x").values<float>("x"), (std::vector<float>{1, 2, 3}));
  }
  NpzArrays empty;
  testing::expect_error<DataError>([&] { npz_member(empty, "cutoff", "m.npz"); },
                                   "m.npz: member 'cutoff.npy': missing (required field)");
}

TEST(Npz, RefusesNonZipAndForeignMembers) {
  const std::string junk = "not a zip at all";
  EXPECT_THROW(parse_npz(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size(), "m.npz"), DataError);
  // A member that is not .npy: build with the writer, then rename the member in place.
  NpzArrays m;
  m["abcd"] = NpyArray::from<float>({1}, {1});
  std::string z = serialize_npz(m, false);
  for (std::size_t p = 0; (p = z.find("abcd.npy", p)) != std::string::npos; p += 8) z.replace(p, 8, "abcd.txt");
  testing::expect_error<DataError>(
      [&] { parse_npz(reinterpret_cast<const std::uint8_t*>(z.data()), z.size(), "m.npz"); },
      "m.npz: member 'abcd.txt': not a .npy member (expected '<key>.npy')");
  // Truncated archive.
  std::string t = serialize_npz(m, true);
  t.resize(t.size() / 2);
  EXPECT_THROW(parse_npz(reinterpret_cast<const std::uint8_t*>(t.data()), t.size(), "m.npz"), DataError);
}

}  // namespace
}  // namespace taupe::io
