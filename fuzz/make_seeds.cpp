// Writes the small seed corpus in fuzz/corpus/ (run once from the repository root; the
// output is committed): valid .npy/.npz, track texts, TIFF stacks, and for the structure-aware
// btrack target a few byte strings its decoder turns into btrack layouts (any bytes decode).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "taupe/dataset/tiff_stack.h"
#include "taupe/io/npz.h"

namespace fs = std::filesystem;
using namespace taupe;
using namespace taupe::io;

namespace {
void put(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

/// Bytes for fuzz_btrack's decoder: all-zero decodes to one ordinary track; the rest are fixed
/// pseudo-random strings (xorshift) of a few lengths, i.e. lineages with damages.
std::string decoder_bytes(std::size_t n, std::uint32_t seed) {
  std::string out(n, '\0');
  for (char& c : out) {
    if (!seed) break;
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    c = static_cast<char>(seed & 0xFF);
  }
  return out;
}
}  // namespace

int main() {
  const fs::path c = "fuzz/corpus";
  put(c / "npy" / "f8_2x3.npy", serialize_npy(NpyArray::from<double>({0, 1, 2, 3, 4, 5}, {2, 3})));
  put(c / "npy" / "i8_scalar.npy", serialize_npy(NpyArray::from<std::int64_t>({7}, {})));
  put(c / "npy" / "u2.npy", serialize_npy(NpyArray::from<std::uint16_t>({1, 65535}, {2})));
  put(c / "npy" / "bool.npy", serialize_npy(NpyArray::from<bool>({true, false}, {2})));
  put(c / "npy" / "unicode.npy", serialize_npy(NpyArray::from_strings({"mitosis", "apoptosis"}, {2})));
  NpzArrays m;
  m["cutoff"] = NpyArray::from<std::int64_t>({12}, {});
  m["label"] = NpyArray::from_strings({"mitosis"}, {});
  put(c / "npz" / "cellx_deflate.npz", serialize_npz(m, true));
  put(c / "npz" / "cellx_stored.npz", serialize_npz(m, false));
  put(c / "tracks_text" / "ctc.txt", std::string("\x00", 1) + "1 0 3 0\n2 4 6 1\n3 4 8 1\n4 7 9 2\n");
  put(c / "tracks_text" / "napari.csv", std::string("\x01") + "ID,t,y,x,parent\n1,0,5.5,6,0\n1,1,5,7,0\n2,2,3,4,1\n");
  put(c / "tracks_text" / "btrack_space.csv", std::string("\x01") +
      "ID t x y z parent root state generation dummy\n4 0 1 2 0 4 4 5 0 0\n4 1 1.5 2 0 4 4 5 0 1\n");
  put(c / "tracks_text" / "fates.csv", std::string("\x02") + "track_id,fate\n5,apoptosis\n2,mit\n");
  put(c / "tracks_text" / "graph.json", std::string("\x03") + "{\"2\": [1], \"3\": 1}");
  fs::create_directories(c / "tiff");
  write_tiff(c / "tiff" / "glimpse_u16.tif", std::vector<std::uint16_t>(2 * 64 * 64, 9), tcyx(1, 2, 64, 64));
  write_tiff(c / "tiff" / "movie_u8.tif", std::vector<std::uint8_t>(3 * 2 * 8 * 8, 3), tcyx(3, 2, 8, 8));
  write_tiff(c / "tiff" / "labels_f32.tif", std::vector<float>(2 * 8 * 8, 1.5f), tcyx(2, 1, 8, 8));
  TiffWriteOptions deflate;
  deflate.compression = TiffWriteOptions::Compression::kDeflate;
  write_tiff(c / "tiff" / "deflate.tif", std::vector<std::uint16_t>(2 * 8 * 8, 300), tcyx(2, 1, 8, 8), deflate);
  put(c / "btrack" / "zero.bin", decoder_bytes(64, 0));
  put(c / "btrack" / "r48.bin", decoder_bytes(48, 1));
  put(c / "btrack" / "r96.bin", decoder_bytes(96, 2));
  put(c / "btrack" / "r200.bin", decoder_bytes(200, 3));
  put(c / "btrack" / "r400.bin", decoder_bytes(400, 4));
  return 0;
}
