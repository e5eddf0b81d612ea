#pragma once
// Small builders shared by the dataset tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/types.h"

namespace taupe::testing_data {

/// A fresh directory removed at destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "taupe_dataset_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    if (info) name += std::string("_") + info->name();
    // Parameterised tests are named "Case/0": keep the directory flat, or the destructor would
    // remove only the "0" level and leave its parent behind.
    std::replace(name.begin(), name.end(), '/', '_');
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }
  /// Names of the files in the directory.
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_)) out.push_back(e.path().filename().string());
    return out;
  }

 private:
  std::filesystem::path path_;
};

/// Deterministic pseudo-random bits (splitmix64), so tests need no global RNG.
inline std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline GlimpseTrajectory make_glimpse(std::int64_t id, int T, bool with_features = true) {
  GlimpseTrajectory tr;
  tr.id = id;
  tr.fate = (id % 2) ? Fate::kMitosis : Fate::kApoptosis;
  tr.central_type = (id % 3) ? CellType::kScrib : CellType::kWildType;
  tr.cutoff = std::max(0, T - 1 - static_cast<int>(id % 2));
  tr.movie = "fov_" + std::to_string(id % 4) + "_é";  // UTF-8 survives
  tr.track_id = 1000 + id;
  for (int t = 0; t < T; ++t) tr.frames.push_back(10 + t * 2);
  tr.images.resize(std::size_t(T) * 2 * 64 * 64);
  for (std::size_t i = 0; i < tr.images.size(); ++i)
    tr.images[i] = static_cast<std::uint16_t>(mix(std::uint64_t(id) * 1000003u + i) & 0xFFFF);
  tr.masks.resize(std::size_t(T) * 64 * 64);
  for (std::size_t i = 0; i < tr.masks.size(); ++i) {
    const auto r = mix(std::uint64_t(id) * 7919u + i);
    tr.masks[i] = mask_code(static_cast<CellType>(r % 3), (r >> 8) % 2 == 0 && r % 3 != 0);
  }
  if (with_features) {
    for (const char* name : {"compression", "nuclear_area_um2"}) {
      auto& col = tr.features[name];
      for (int t = 0; t < T; ++t) col.push_back(static_cast<float>(id) + 0.25f * t + (name[0] == 'c' ? 0.f : 100.f));
    }
  }
  return tr;
}

/// Expects `fn` to throw E whose message contains every one of `parts`.
template <class E>
void expect_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "message: " << msg << "\nmissing: " << p;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a different exception type: " << e.what();
    return;
  }
  ADD_FAILURE() << "did not throw";
}

}  // namespace taupe::testing_data
