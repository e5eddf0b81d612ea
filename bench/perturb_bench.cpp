// Perturbation engine speed: neighbour switching (normalise + eq. 7) frames/s, and the batched
// pruned PC sweep, extrapolated to the paper-scale sweep (10 models × 300 trajectories × 32 PCs ×
// 25 shifts = 2.4 M trajectory predictions).
//
// The model set is the reference TCN architecture (max_len 128, 64 filters, dilations 1..64,
// D = 32) trained for a single step per fold on synthetic encodings (weights effectively random:
// speed does not depend on them), built once in a temporary directory.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "taupe/core/rng.h"
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

// One model's 300 held-out trajectories × state.range(0) PCs × 25 shifts.
void BM_PcSweepOneModel(benchmark::State& state) {
  const auto& pm = paper_models();
  PerturbContext ctx = PerturbContext::from_parts(ModelSet::load(pm.dir), pm.set);
  std::vector<PerturbItem> items;
  std::vector<float> pcs;
  std::vector<std::uint8_t> real;
  const int L = ctx.models().max_len(), D = ctx.models().dims();
  for (std::size_t i = 0; i < ctx.items().size(); ++i) {
    if (ctx.items()[i].model != 0) continue;
    items.push_back(ctx.items()[i]);
    pcs.insert(pcs.end(), ctx.base_pc().begin() + static_cast<std::ptrdiff_t>(i * L * D),
               ctx.base_pc().begin() + static_cast<std::ptrdiff_t>((i + 1) * L * D));
    real.insert(real.end(), ctx.base_real().begin() + static_cast<std::ptrdiff_t>(i * L),
                ctx.base_real().begin() + static_cast<std::ptrdiff_t>((i + 1) * L));
  }
  const int npcs = static_cast<int>(state.range(0)), S = 25;
  std::int64_t preds = 0;
  for (auto _ : state) {
    const auto p = predict_variants(
        ctx.models(), items, pcs, real, npcs * S,
        [&](int v, float* s, const std::uint8_t* r) { apply_pc_shift(s, r, L, D, v / S, -6.f + 0.5f * (v % S)); }, 256);
    preds += static_cast<std::int64_t>(p.size());
    benchmark::DoNotOptimize(p.data());
  }
  state.counters["predictions/s"] = benchmark::Counter(static_cast<double>(preds), benchmark::Counter::kIsRate);
  // Paper scale: 10 × 300 × 32 × 25 predictions at the measured rate (seconds).
  state.counters["paper_sweep_s"] = benchmark::Counter(
      static_cast<double>(preds) / 2.4e6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PcSweepOneModel)->Arg(1)->Arg(4)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
