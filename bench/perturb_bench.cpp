// Perturbation engine speed: neighbour switching (normalise + eq. 7) frames/s, and the batched
// pruned PC sweep (straightforward path vs the fast single-PC engine), extrapolated to the
// paper-scale sweep (10 models × 300 trajectories × 32 PCs × 25 shifts = 2.4 M trajectory
// predictions) and the quick-scale one (≈ 1.28 M). Run with --benchmark_counters_tabular=true.
//
// The model set is the reference TCN architecture (max_len 128, 64 filters, dilations 1..64,
// D = 32) trained for a single step per fold on synthetic encodings (weights effectively random:
// speed does not depend on them), built once in a temporary directory.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include <ATen/Parallel.h>

#include "taupe/core/rng.h"
#include "taupe/core/runtime.h"
#include "taupe/dataset/types.h"
#include "taupe/perturb/image_ops.h"
#include "taupe/perturb/perturb.h"
#include "taupe/projector/model_dir.h"
#include "taupe/projector/pca.h"
#include "taupe/temporal/cross_validation.h"

namespace {

using namespace taupe;

void BM_SwitchNeighboursFrame(benchmark::State& state) {
  const int S = kGlimpseSize;
  const std::size_t px = static_cast<std::size_t>(S) * S;
  std::vector<std::uint16_t> img(2 * px);
  std::vector<std::uint8_t> mask(px);
  Rng rng(1);
  for (std::size_t i = 0; i < px; ++i) {
    img[i] = static_cast<std::uint16_t>(100 + rng.integer(0, 800));
    img[px + i] = static_cast<std::uint16_t>(100 + rng.integer(0, 400));
    const int y = static_cast<int>(i) / S, x = static_cast<int>(i) % S;
    const int d2 = (y - 32) * (y - 32) + (x - 32) * (x - 32);
    mask[i] = d2 < 100 ? mask_code(CellType::kScrib, true) : ((x / 16 + y / 16) % 2 ? mask_code(CellType::kWildType, false) : 0);
  }
  const perturb::NormParams np;
  for (auto _ : state) {
    auto n = perturb::normalize_image(img.data(), 2, S, np);
    perturb::switch_channels(n.data(), mask.data(), S, perturb::SwitchTarget::kNeighbours);
    benchmark::DoNotOptimize(n.data());
  }
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SwitchNeighboursFrame)->Unit(benchmark::kMicrosecond);

struct PaperModels {
  std::filesystem::path dir;
  EncodingSet set;
  ~PaperModels() { std::filesystem::remove_all(dir); }
};

const PaperModels& paper_models() {
  static std::unique_ptr<PaperModels> pm;
  if (pm) return *pm;
  pm = std::make_unique<PaperModels>();
  pm->dir = std::filesystem::temp_directory_path() / ("taupe-perturb-bench-" + std::to_string(::getpid()));
  const int D = 32, folds = 10, per_fold = 300;
  pm->set.latent_dims = D;
  Rng rng(2);
  std::vector<float> all;
  for (int i = 0; i < folds * per_fold; ++i) {
    EncodedTrajectory e;
    e.id = i;
    e.fate = i % 2 ? Fate::kApoptosis : Fate::kMitosis;
    const int T = 40 + static_cast<int>(rng.integer(0, 120));
    e.cutoff = T - 1;
    for (int k = 0; k < T * D; ++k) {
      const float v = static_cast<float>(rng.normal());
      e.z_mean.push_back(v);
      e.z_log_var.push_back(0.f);
      if (all.size() < 200000) all.push_back(v);
    }
    pm->set.trajectories.push_back(std::move(e));
  }
  const Pca pca = pca_fit(all, D);
  std::filesystem::create_directories(pm->dir);
  write_pca(model_files::pca(pm->dir), pca);
  update_model_manifest(pm->dir, "projector", {{"dims", pca.dims}});
  TemporalConfig cfg;  // reference architecture
  cfg.batch_size = 8;
  cfg.steps_per_epoch = 1;
  cfg.epochs = 1;
  CvConfig cv;
  cv.folds = folds;
  run_cross_validation(pm->set, pca, cfg, cv, pm->dir);
  return *pm;
}

// Inputs of one model's 300 held-out trajectories. lengths 0: paper-like (40..159 frames before
// the cutoff, so 40..128 real frames of max_len 128); 1: quick-like (8..48 real frames, the
// quick preset's extract.max_frames_before_cutoff = 48: most of every input is padding).
struct SweepInputs {
  PerturbContext ctx;
  std::vector<PerturbItem> items;
  std::vector<float> pcs;
  std::vector<std::uint8_t> real;
};

std::unique_ptr<SweepInputs> sweep_inputs(int lengths) {
  const auto& pm = paper_models();
  auto in = std::make_unique<SweepInputs>(SweepInputs{PerturbContext::from_parts(ModelSet::load(pm.dir), pm.set), {}, {}, {}});
  const auto& ctx = in->ctx;
  const int L = ctx.models().max_len(), D = ctx.models().dims();
  const std::size_t seq = static_cast<std::size_t>(L) * D;
  std::vector<float> pad;
  for (std::size_t i = 0; i < ctx.items().size() && pad.empty(); ++i)
    if (!ctx.base_real()[i * L]) pad.assign(ctx.base_pc().begin() + static_cast<std::ptrdiff_t>(i * seq),
                                            ctx.base_pc().begin() + static_cast<std::ptrdiff_t>(i * seq + D));
  for (std::size_t i = 0; i < ctx.items().size(); ++i) {
    if (ctx.items()[i].model != 0) continue;
    in->items.push_back(ctx.items()[i]);
    in->pcs.insert(in->pcs.end(), ctx.base_pc().begin() + static_cast<std::ptrdiff_t>(i * seq),
                   ctx.base_pc().begin() + static_cast<std::ptrdiff_t>((i + 1) * seq));
    in->real.insert(in->real.end(), ctx.base_real().begin() + static_cast<std::ptrdiff_t>(i * L),
                    ctx.base_real().begin() + static_cast<std::ptrdiff_t>((i + 1) * L));
    if (lengths == 1) {  // re-pad to 8..48 real frames
      const int len = 8 + static_cast<int>((in->items.size() * 37) % 41);
      float* x = in->pcs.data() + (in->items.size() - 1) * seq;
      std::uint8_t* r = in->real.data() + (in->items.size() - 1) * L;
      for (int t = 0; t < L - len; ++t) {
        std::copy(pad.begin(), pad.end(), x + static_cast<std::size_t>(t) * D);
        r[t] = 0;
      }
    }
  }
  return in;
}

// Paper scale: 10 models × 300 trajectories × 32 PCs × 25 shifts = 2.4 M predictions; quick
// scale: ≈ 1,600 trajectories (docs/simulator.md) × 32 × 25 = 1.28 M predictions.
void set_sweep_counters(benchmark::State& state, std::int64_t preds) {
  state.counters["predictions/s"] = benchmark::Counter(static_cast<double>(preds), benchmark::Counter::kIsRate);
  state.counters["paper_sweep_s"] = benchmark::Counter(
      static_cast<double>(preds) / 2.4e6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["quick_sweep_s"] = benchmark::Counter(
      static_cast<double>(preds) / 1.28e6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// One model's 300 held-out trajectories × range(1) PCs × 25 shifts. range(0): 0 = the
// straightforward path (predict_variants: copy + edit each (L, D) input, ModelSet::predict_pc's
// pruned forward), 1 = the fast single-PC engine (predict_pc_deltas). range(2): input lengths
// (see sweep_inputs). range(3): batch rows of the fast engine (0 = default). One thread (per-core
// rates); rates are per CPU second.
void BM_PcSweepOneModel(benchmark::State& state) {
  runtime_init(RuntimeOptions{1, true});
  const bool fast = state.range(0) != 0;
  const int npcs = static_cast<int>(state.range(1)), S = 25;
  const auto in = sweep_inputs(static_cast<int>(state.range(2)));
  const int L = in->ctx.models().max_len(), D = in->ctx.models().dims();
  std::int64_t preds = 0;
  for (auto _ : state) {
    std::vector<std::uint8_t> p;
    if (fast) {
      p = predict_pc_deltas(
          in->ctx.models(), in->items, in->pcs, in->real, npcs * S,
          [&](int v, const float*, const std::uint8_t* r, float* d) {
            for (int t = 0; t < L; ++t) d[t] = r[t] ? -6.f + 0.5f * static_cast<float>(v % S) : 0.f;
            return v / S;
          },
          256, nullptr, state.range(3));
    } else {
      p = predict_variants(
          in->ctx.models(), in->items, in->pcs, in->real, npcs * S,
          [&](int v, float* s, const std::uint8_t* r) { apply_pc_shift(s, r, L, D, v / S, -6.f + 0.5f * (v % S)); }, 256);
    }
    preds += static_cast<std::int64_t>(p.size());
    benchmark::DoNotOptimize(p.data());
  }
  set_sweep_counters(state, preds);
}
BENCHMARK(BM_PcSweepOneModel)
    ->ArgNames({"fast", "pcs", "quick_lengths", "batch"})
    ->Args({0, 4, 0, 0})
    ->Args({1, 4, 0, 0})
    ->Args({0, 4, 1, 0})
    ->Args({1, 4, 1, 0})
    ->Args({1, 4, 0, 32})
    ->Args({1, 4, 0, 64})
    ->Args({1, 4, 0, 256})
    ->Args({1, 4, 0, 1024})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

// Two models' held-out trajectories (paper-like lengths) × 4 PCs × 25 shifts with range(0)
// LibTorch threads: the fast engine runs one model per worker. Rates per wall second.
void BM_PcSweepTwoModels(benchmark::State& state) {
  runtime_init(RuntimeOptions{1, true});
  const auto& pm = paper_models();
  PerturbContext ctx = PerturbContext::from_parts(ModelSet::load(pm.dir), pm.set);
  const int L = ctx.models().max_len(), D = ctx.models().dims();
  const std::size_t seq = static_cast<std::size_t>(L) * D;
  std::vector<PerturbItem> items;
  std::vector<float> pcs;
  std::vector<std::uint8_t> real;
  for (std::size_t i = 0; i < ctx.items().size(); ++i) {
    if (ctx.items()[i].model > 1) continue;
    items.push_back(ctx.items()[i]);
    pcs.insert(pcs.end(), ctx.base_pc().begin() + static_cast<std::ptrdiff_t>(i * seq),
               ctx.base_pc().begin() + static_cast<std::ptrdiff_t>((i + 1) * seq));
    real.insert(real.end(), ctx.base_real().begin() + static_cast<std::ptrdiff_t>(i * L),
                ctx.base_real().begin() + static_cast<std::ptrdiff_t>((i + 1) * L));
  }
  const int threads_before = at::get_num_threads();
  at::set_num_threads(static_cast<int>(state.range(0)));
  const int S = 25;
  std::int64_t preds = 0;
  for (auto _ : state) {
    const auto p = predict_pc_deltas(
        ctx.models(), items, pcs, real, 4 * S,
        [&](int v, const float*, const std::uint8_t* r, float* d) {
          for (int t = 0; t < L; ++t) d[t] = r[t] ? -6.f + 0.5f * static_cast<float>(v % S) : 0.f;
          return v / S;
        },
        256);
    preds += static_cast<std::int64_t>(p.size());
    benchmark::DoNotOptimize(p.data());
  }
  at::set_num_threads(threads_before);
  set_sweep_counters(state, preds);
}
BENCHMARK(BM_PcSweepTwoModels)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
