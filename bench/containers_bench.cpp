// Container throughput: glimpse write / read in frames per second (one frame = 2x64x64 uint16
// images + 64x64 uint8 mask + 2 feature values), and patch range reads.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/patches.h"

namespace {
namespace fs = std::filesystem;

fs::path bench_dir() {
  const fs::path d = fs::temp_directory_path() / ("taupe_bench_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

/// Microscopy-like content: smooth background + Poisson-ish noise (compresses like real data,
/// unlike constant or white-noise images).
taupe::GlimpseTrajectory trajectory(std::int64_t id, int T) {
  taupe::GlimpseTrajectory tr;
  tr.id = id;
  tr.fate = id % 2 ? taupe::Fate::kMitosis : taupe::Fate::kApoptosis;
  tr.cutoff = T - 1;
  tr.movie = "bench";
  tr.track_id = id;
  std::uint64_t s = 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(id + 1);
  auto rnd = [&] {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  };
  for (int t = 0; t < T; ++t) {
    tr.frames.push_back(t);
    for (int c = 0; c < 2; ++c)
      for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x) {
          const int d2 = (x - 32) * (x - 32) + (y - 32) * (y - 32);
          const int base = 400 + (d2 < 200 ? 1500 : 0) + 300 * c;
          tr.images.push_back(static_cast<std::uint16_t>(base + static_cast<int>(rnd() % 64)));
        }
    for (int i = 0; i < 64 * 64; ++i) {
      const int x = i % 64 - 32, y = i / 64 - 32;
      tr.masks.push_back(x * x + y * y < 200 ? taupe::mask_code(taupe::CellType::kScrib, true)
                                             : taupe::mask_code(taupe::CellType::kWildType, false));
    }
    tr.features["compression"].push_back(0.1f * t);
    tr.features["local_density"].push_back(1.0f + t);
  }
  return tr;
}

constexpr int kTrajectories = 32;
constexpr int kFrames = 100;

void BM_GlimpseWrite(benchmark::State& state) {
  const fs::path dir = bench_dir();
  std::vector<taupe::GlimpseTrajectory> trs;
  for (int k = 0; k < kTrajectories; ++k) trs.push_back(trajectory(k + 1, kFrames));
  for (auto _ : state) {
    taupe::GlimpseWriter w(dir / "w.h5", {});
    for (const auto& tr : trs) w.append(tr);
    w.close();
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kTrajectories * kFrames, benchmark::Counter::kIsRate);
  state.counters["MiB"] = static_cast<double>(fs::file_size(dir / "w.h5")) / (1 << 20);
  fs::remove_all(dir);
}
BENCHMARK(BM_GlimpseWrite)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_GlimpseRead(benchmark::State& state) {
  const fs::path dir = bench_dir();
  {
    taupe::GlimpseWriter w(dir / "r.h5", {});
    for (int k = 0; k < kTrajectories; ++k) w.append(trajectory(k + 1, kFrames));
    w.close();
  }
  taupe::GlimpseReader r(dir / "r.h5");
  std::size_t frames = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      const auto tr = r.read(i);
      frames += tr.frames.size();
      benchmark::DoNotOptimize(tr.images.data());
    }
  }
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  fs::remove_all(dir);
}
BENCHMARK(BM_GlimpseRead)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PatchRangeRead(benchmark::State& state) {
  const fs::path dir = bench_dir();
  const std::size_t n = 4096, batch = static_cast<std::size_t>(state.range(0));
  {
    taupe::PatchWriter w(dir / "p.h5");
    const auto tr = trajectory(1, 256);
    for (std::size_t k = 0; k < n / 256; ++k) {
      taupe::PatchBatch b;
      b.images = tr.images;
      b.types.assign(256, taupe::CellType::kScrib);
      w.append(b);
    }
    w.close();
  }
  taupe::PatchReader r(dir / "p.h5");
  std::size_t done = 0, at = 0;
  for (auto _ : state) {
    const auto b = r.read(at, batch);
    benchmark::DoNotOptimize(b.images.data());
    done += batch;
    at = (at + 7 * batch) % (n - batch);
  }
  state.counters["patches/s"] = benchmark::Counter(static_cast<double>(done), benchmark::Counter::kIsRate);
  fs::remove_all(dir);
}
BENCHMARK(BM_PatchRangeRead)->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
