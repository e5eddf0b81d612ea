// Unreadable inputs say which failure they are (empty, truncated, a directory, text, other
// bytes), for HDF5 and TIFF alike, and all are IoError (exit code 4).
#include "taupe/dataset/input_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "dataset_fixtures.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/h5file.h"
#include "taupe/dataset/tiff_stack.h"

namespace taupe {
namespace {

namespace fs = std::filesystem;
using testing_data::expect_error;
using testing_data::TempDir;

const fs::path kRealH5 = fs::path(TAUPE_SOURCE_DIR) / "tests/data/btrack/btrack_examples_0.4.3_subset.h5";

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}
std::string prefix_of(const fs::path& p, std::size_t n) {
  std::ifstream in(p, std::ios::binary);
  std::string s(n, '\0');
  in.read(s.data(), std::streamsize(n));
  s.resize(std::size_t(in.gcount()));
  return s;
}

TEST(InputFile, Hdf5FailuresAreNamed) {
  TempDir dir;
  const fs::path empty = dir.path() / "empty.h5", text = dir.path() / "text.h5", half = dir.path() / "half.h5",
                 bin = dir.path() / "bin.h5";
  write_bytes(empty, "");
  write_bytes(text, "ID,t,y,x\n1,0,5,5\n");
  write_bytes(half, prefix_of(kRealH5, std::size_t(fs::file_size(kRealH5) / 2)));
  write_bytes(bin, std::string("\x00\x01\x02\x03\xff\xfe\x10\x20", 8) + std::string(100, '\0'));
  const auto check = [](const fs::path& p) { check_input_file(p, InputFormat::kHdf5, "btrack HDF5 file"); };
  expect_error<IoError>([&] { check(empty); }, {"empty.h5: empty file (0 bytes) (expected a btrack HDF5 file)"});
  expect_error<IoError>([&] { check(text); }, {"text.h5: not an HDF5 file: a text file (it starts \"ID,t,y,x\")"});
  expect_error<IoError>([&] { check(half); }, {"half.h5: truncated HDF5 file: 40212 bytes, its superblock records 80424"});
  expect_error<IoError>([&] { check(dir.path()); }, {": is a directory, not a file"});
  expect_error<IoError>([&] { check(dir.path() / "none.h5"); }, {"none.h5: file not found"});
  expect_error<IoError>([&] { check(bin); }, {"bin.h5: not an HDF5 file: binary data without the signature (it starts 00 01 02 03 ff fe 10 20)"});
  check(kRealH5);   // the whole file passes
  // The taupe containers' reader reports the same.
  expect_error<IoError>([&] { h5::open(half, h5::FormatTag{"taupe.tracks", 1}); },
                        {"truncated HDF5 file", "(expected a taupe.tracks file)"});
}

TEST(InputFile, TiffFailuresAreNamed) {
  TempDir dir;
  const fs::path full = dir.path() / "full.tif", half = dir.path() / "half.tif", empty = dir.path() / "empty.tif",
                 text = dir.path() / "text.tif";
  write_tiff(full, std::vector<std::uint16_t>(2 * 2 * 16 * 16, 7), tcyx(2, 2, 16, 16));
  // libtiff writes the first directory after the first page's pixels (512 bytes here).
  write_bytes(half, prefix_of(full, 300));
  write_bytes(empty, "");
  write_bytes(text, "hello\n");
  expect_error<IoError>([&] { read_tiff_info(half); }, {"half.tif: truncated TIFF file:", "first image directory"});
  expect_error<IoError>([&] { read_tiff_info(empty); }, {"empty.tif: empty file (0 bytes)"});
  expect_error<IoError>([&] { read_tiff_info(text); }, {"text.tif: not a TIFF file: a text file (it starts \"hello\")"});
  expect_error<IoError>([&] { read_tiff_info(dir.path()); }, {"is a directory, not a file"});
  EXPECT_NO_THROW(read_tiff_info(full));
}

}  // namespace
}  // namespace taupe
