#include "taupe/dataset/input_file.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

#include "taupe/core/errors.h"

namespace fs = std::filesystem;

namespace taupe {
namespace {

std::uint64_t le(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t be(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

std::vector<unsigned char> read_bytes(const fs::path& path, std::uint64_t offset, std::size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::vector<unsigned char> b(n);
  in.seekg(std::streamoff(offset));
  in.read(reinterpret_cast<char*>(b.data()), std::streamsize(n));
  b.resize(std::size_t(std::max<std::streamsize>(in.gcount(), 0)));
  return b;
}

/// "a text file (it starts "...")" or "binary data (it starts 0x.. 0x..)".
std::string what_it_is(const std::vector<unsigned char>& head) {
  const std::size_t n = std::min<std::size_t>(head.size(), 256);
  bool text = n > 0;
  for (std::size_t i = 0; i < n && text; ++i) {
    const unsigned char c = head[i];
    text = c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c != 0x7f);
  }
  if (text) {
    std::string first;
    for (std::size_t i = 0; i < n && first.size() < 40 && head[i] != '\n' && head[i] != '\r'; ++i)
      first += head[i] < 0x80 ? char(head[i]) : '?';
    return "a text file (it starts \"" + first + "\")";
  }
  std::string hex;
  char buf[8];
  for (std::size_t i = 0; i < std::min<std::size_t>(head.size(), 8); ++i) {
    std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", head[i]);
    hex += buf;
  }
  return "binary data without the signature (it starts " + hex + ")";
}

/// HDF5: the 8-byte signature at 0, 512, 1024, 2048, ...; the superblock after it records the
/// end-of-file address (relative to the base address). Returns false if no signature.
bool check_hdf5(const fs::path& path, std::uint64_t size, std::string& why) {
  static const unsigned char kSig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  for (std::uint64_t at = 0; at + 8 <= size; at = at ? at * 2 : 512) {
    const auto b = read_bytes(path, at, 8 + 48 + 8 * 8);
    if (b.size() < 8 || !std::equal(kSig, kSig + 8, b.begin())) continue;
    if (b.size() < 12) { why = "truncated HDF5 file (" + std::to_string(size) + " bytes, superblock incomplete)"; return true; }
    const int version = b[8];
    std::size_t off_size = 0, pos = 0;
    if (version <= 1) {
      off_size = b[13];
      pos = 8 + 16 + (version == 1 ? 4 : 0);   // base address
      pos += 2 * off_size;                     // base, free-space info -> end-of-file address
    } else if (version <= 3) {
      off_size = b[9];
      pos = 12 + 2 * off_size;                 // base, superblock extension -> end-of-file address
    } else {
      return true;   // unknown superblock version: leave it to libhdf5
    }
    if (off_size != 2 && off_size != 4 && off_size != 8) return true;
    const std::size_t base_pos = version <= 1 ? 8 + 16 + (version == 1 ? 4 : 0) : 12;
    if (b.size() < pos + off_size) {
      why = "truncated HDF5 file (" + std::to_string(size) + " bytes, superblock incomplete)";
      return true;
    }
    const std::uint64_t base = le(&b[base_pos], int(off_size));
    const std::uint64_t eof = le(&b[pos], int(off_size));
    const std::uint64_t undefined = off_size == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * off_size)) - 1;
    if (eof != undefined && base != undefined && base + eof > size)
      why = "truncated HDF5 file: " + std::to_string(size) + " bytes, its superblock records " +
            std::to_string(base + eof) + " (incomplete copy or write?)";
    return true;
  }
  return false;
}

/// TIFF: II*\0 / MM\0* (classic) or II+\0 / MM\0+ (BigTIFF); the first directory must lie
/// inside the file. Returns false if no signature.
bool check_tiff(const fs::path& path, std::uint64_t size, std::string& why) {
  const auto b = read_bytes(path, 0, 16);
  if (b.size() < 4) return false;
  const bool little = b[0] == 'I' && b[1] == 'I', big = b[0] == 'M' && b[1] == 'M';
  if (!little && !big) return false;
  const std::uint64_t magic = little ? le(&b[2], 2) : be(&b[2], 2);
  if (magic != 42 && magic != 43) return false;
  const std::size_t need = magic == 42 ? 8 : 16;
  if (b.size() < need) {
    why = "truncated TIFF file (" + std::to_string(size) + " bytes, header incomplete)";
    return true;
  }
  const std::uint64_t ifd = magic == 42 ? (little ? le(&b[4], 4) : be(&b[4], 4)) : (little ? le(&b[8], 8) : be(&b[8], 8));
  if (ifd >= size)
    why = "truncated TIFF file: " + std::to_string(size) + " bytes, its first image directory is at byte " +
          std::to_string(ifd) + " (incomplete copy or write?)";
  return true;
}

}  // namespace

void check_input_file(const fs::path& path, InputFormat format, const std::string& expected) {
  const std::string p = path.string();
  const std::string fmt = format == InputFormat::kHdf5 ? "HDF5" : "TIFF";
  const std::string want = " (expected " + (expected.empty() ? "a " + fmt + " file" : "a " + expected) + ")";
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) throw IoError(p + ": file not found" + want);
  if (fs::is_directory(st)) throw IoError(p + ": is a directory, not a file" + want);
  if (!fs::is_regular_file(st)) throw IoError(p + ": not a regular file" + want);
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) throw IoError(p + ": cannot read: " + ec.message());
  if (size == 0) throw IoError(p + ": empty file (0 bytes)" + want);
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(p + ": cannot open for reading (permissions?)");
  }
  std::string why;
  const bool signed_ok = format == InputFormat::kHdf5 ? check_hdf5(path, size, why) : check_tiff(path, size, why);
  if (!signed_ok)
    throw IoError(p + ": not " + (format == InputFormat::kHdf5 ? "an" : "a") + " " + fmt + " file: " +
                  what_it_is(read_bytes(path, 0, 256)) + want);
  if (!why.empty()) throw IoError(p + ": " + why + want);
}

}  // namespace taupe
