#pragma once
// Helpers shared by the io tests: temp dirs, hand-made .npy bytes, synthetic glimpses.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>

#include <unistd.h>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "taupe/core/errors.h"
#include "taupe/dataset/glimpses.h"

namespace taupe::io::testing {

/// A fresh directory under the system temp dir, removed at destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() /
            ("taupe_io_" + tag + "_" + std::to_string(::getpid()) + "_" +
             std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::error_code ec; std::filesystem::remove_all(path_, ec); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }
 private:
  static int& counter() { static int c = 0; return c; }
  std::filesystem::path path_;
};

/// .npy bytes with a hand-written header dict (padding to 64 bytes) and raw payload.
inline std::string npy_bytes(const std::string& dict, const std::string& payload, int major = 1) {
  std::string h = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::size_t total = prefix + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  out += static_cast<char>(h.size() & 0xFF);
  out += static_cast<char>((h.size() >> 8) & 0xFF);
  if (major != 1) { out += '\0'; out += '\0'; }
  return out + h + payload;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

/// A glimpse trajectory with blob-like cells (central cell at the centre) and valid masks.
inline GlimpseTrajectory synthetic_glimpse(std::int64_t id, Fate fate, int T, std::uint32_t seed) {
  GlimpseTrajectory tr;
  tr.id = id;
  tr.fate = fate;
  tr.central_type = (id % 2) ? CellType::kScrib : CellType::kWildType;
  tr.cutoff = T / 2;
  tr.movie = "fov" + std::to_string(id % 3);
  tr.track_id = 100 + id;
  std::mt19937 rng(seed);
  for (int t = 0; t < T; ++t) tr.frames.push_back(10 + t);
  tr.images.resize(static_cast<std::size_t>(T) * 2 * 64 * 64);
  tr.masks.resize(static_cast<std::size_t>(T) * 64 * 64);
  for (int t = 0; t < T; ++t)
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x) {
        const double d = std::hypot(x - 31.5, y - 31.5);
        const bool in = d < 10;
        const std::size_t p = static_cast<std::size_t>(y * 64 + x);
        const int ch = tr.central_type == CellType::kWildType ? 0 : 1;
        for (int c = 0; c < 2; ++c)
          tr.images[static_cast<std::size_t>((t * 2 + c) * 4096) + p] =
              static_cast<std::uint16_t>(100 + rng() % 50 + (in && c == ch ? 2000 : 0));
        tr.masks[static_cast<std::size_t>(t * 4096) + p] = in ? mask_code(tr.central_type, true) : 0;
      }
  tr.features["nuclear_area_um2"] = std::vector<float>(static_cast<std::size_t>(T), 1.5f * static_cast<float>(id));
  return tr;
}

/// Expects `f` to throw E whose what() equals `message` exactly.
template <class E>
void expect_error(const std::function<void()>& f, const std::string& message) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const E& e) {
    EXPECT_EQ(std::string(e.what()), message);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what() << "; expected: " << message;
  }
}

}  // namespace taupe::io::testing
