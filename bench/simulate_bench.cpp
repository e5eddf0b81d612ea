// Speed of the simulator: the quick preset end to end (simulate + glimpses + patches; target
// <= 60 s on 2 cores) and the parts, reported as frames/s and cells/s (simulated frames and
// cell-frames per wall second of the whole run) and the process CPU time (the machine may be
// shared: compare cpu_s / 2 with the wall time).
#include <benchmark/benchmark.h>

#include <ctime>
#include <filesystem>

#include "taupe/dataset/glimpses.h"

#include "taupe/simulate/render.h"
#include "taupe/simulate/simulate.h"

using namespace taupe;

namespace {
// configs/quick.toml: [simulate] fovs = 3; [extract] max_frames_before_cutoff = 48,
// patches_per_frame = 300.
SimConfig quick_sim() {
  SimConfig c;
  c.fovs = 3;
  c.threads = 2;
  c.pictures = false;
  return c;
}
ExtractConfig quick_extract() {
  ExtractConfig e;
  e.max_frames_before_cutoff = 48;
  e.patches_per_frame = 300;
  return e;
}
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
}  // namespace

static void BM_QuickSimulateAndExtract(benchmark::State& st) {
  const auto out = std::filesystem::temp_directory_path() / "taupe_simulate_bench";
  SimulateResult r;
  double cpu = 0;
  for (auto _ : st) {
    const double c0 = cpu_seconds();
    r = run_simulate(quick_sim(), quick_extract(), 1, out);
    cpu += cpu_seconds() - c0;
  }
  std::size_t glimpses = 0;
  {
    GlimpseReader g(out / "glimpses.h5");
    for (std::size_t i = 0; i < g.size(); ++i) glimpses += static_cast<std::size_t>(g.read(i).num_frames());
  }
  st.counters["trajectories"] = static_cast<double>(r.trajectories);
  st.counters["glimpse_frames"] = static_cast<double>(glimpses);
  st.counters["patches"] = static_cast<double>(r.patches);
  st.counters["frames/s"] = benchmark::Counter(static_cast<double>(r.frames), benchmark::Counter::kIsRate);
  st.counters["cells/s"] = benchmark::Counter(static_cast<double>(r.cell_frames), benchmark::Counter::kIsRate);
  st.counters["simulate_s"] = r.seconds_simulate;
  st.counters["glimpses_s"] = r.seconds_glimpses;
  st.counters["patches_s"] = r.seconds_patches;
  st.counters["cpu_s"] = cpu;
  std::filesystem::remove_all(out);
}
BENCHMARK(BM_QuickSimulateAndExtract)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();  // rates per wall second

static void BM_SimulateOneFov(benchmark::State& st) {
  SimConfig c = quick_sim();
  std::size_t cells = 0, frames = 0;
  for (auto _ : st) {
    const FovHistory h = simulate_fov(c, 1, 0);
    for (const auto& f : h.frames) cells += f.size();
    frames += h.frames.size();
  }
  st.counters["frames/s"] = benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
  st.counters["cells/s"] = benchmark::Counter(static_cast<double>(cells), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimulateOneFov)->Unit(benchmark::kMillisecond)->Iterations(1);

static void BM_RenderGlimpse(benchmark::State& st) {
  SimConfig c = quick_sim();
  c.frames = 40;
  const FovHistory h = simulate_fov(c, 1, 0);
  SceneRenderer r(h, c);
  std::size_t n = 0;
  for (auto _ : st) {
    const auto& cells = h.frames[20];
    const CellSnap& s = cells[n % cells.size()];
    benchmark::DoNotOptimize(crop_glimpse(r, 20, s.x, s.y, static_cast<std::uint32_t>(s.track_id)));
    ++n;
  }
  st.counters["glimpses/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RenderGlimpse);

BENCHMARK_MAIN();
