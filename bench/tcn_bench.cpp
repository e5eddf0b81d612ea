// TCN speed (reference geometry: (B, 128, 32) -> 7 blocks of 64 filters -> 3 logits):
//  - BM_TcnTrainStep/B/pruned: one RMSprop step (forward + backward), sequences/s = items/s,
//    with the full-sequence forward (pruned 0) or the pruned last-step forward (1, what training uses);
//  - BM_TcnForwardFull vs BM_TcnForwardLast: inference, full sequence vs pruned last-step
//    forward (the pruned one evaluates 381 of 1,792 conv output positions); the ratio of their
//    items/s is the speed-up;
//  - BM_TcnBatchSampler: building one training batch (trim/jitter/crop/synthetic walks).
// Run with --benchmark_counters_tabular=true; set threads with TAUPE_THREADS (default: all cores).
#include <benchmark/benchmark.h>

#include <cstdlib>

#include <torch/nn.h>
#include <torch/optim.h>

#include "taupe/core/runtime.h"
#include "taupe/temporal/sequence.h"
#include "taupe/temporal/tcn.h"

namespace {

using namespace taupe;

Tcn make_tcn() {
  torch::manual_seed(1);
  Tcn tcn(TcnOptions{});
  tcn->eval();
  tcn->data_init(torch::randn({64, 128, 32}));
  return tcn;
}

// range(1) = 1: the pruned last-step forward (what cross-validation trains with after the
// weight-norm init step); 0: the full-sequence forward.
void BM_TcnTrainStep(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0));
  const bool pruned = state.range(1) != 0;
  Tcn tcn = make_tcn();
  tcn->train();
  torch::optim::RMSprop opt(tcn->parameters(), torch::optim::RMSpropOptions(1e-3).alpha(0.9).eps(1e-7));
  auto x = torch::randn({B, 128, 32});
  auto y = torch::randint(0, 3, {B}, torch::kLong);
  for (auto _ : state) {
    auto logits = pruned ? tcn->forward_last(x) : tcn->forward(x);
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    opt.zero_grad();
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item<float>());
  }
  state.SetItemsProcessed(state.iterations() * B);
}
BENCHMARK(BM_TcnTrainStep)->Args({64, 0})->Args({64, 1})->Args({128, 0})->Args({128, 1})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TcnForwardFull(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0));
  Tcn tcn = make_tcn();
  auto x = torch::randn({B, 128, 32});
  c10::InferenceMode guard;
  for (auto _ : state) benchmark::DoNotOptimize(tcn->forward(x).data_ptr<float>());
  state.SetItemsProcessed(state.iterations() * B);
}
BENCHMARK(BM_TcnForwardFull)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TcnForwardLast(benchmark::State& state) {
  const int B = static_cast<int>(state.range(0));
  Tcn tcn = make_tcn();
  auto x = torch::randn({B, 128, 32});
  c10::InferenceMode guard;
  for (auto _ : state) benchmark::DoNotOptimize(tcn->forward_last(x).data_ptr<float>());
  state.SetItemsProcessed(state.iterations() * B);
  state.counters["conv_positions"] = static_cast<double>(tcn->pruned_conv_positions(128));
}
BENCHMARK(BM_TcnForwardLast)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_TcnBatchSampler(benchmark::State& state) {
  EncodingSet set;
  set.latent_dims = 32;
  Rng rng(3);
  for (int i = 0; i < 1000; ++i) {
    EncodedTrajectory t;
    t.id = i;
    t.fate = i % 2 ? Fate::kMitosis : Fate::kApoptosis;
    const int T = 65;
    t.cutoff = T - 1;
    t.z_mean.resize(T * 32);
    for (auto& v : t.z_mean) v = static_cast<float>(rng.normal());
    t.z_log_var.assign(T * 32, 0.5f);
    set.trajectories.push_back(std::move(t));
  }
  std::vector<int> all(1000);
  for (int i = 0; i < 1000; ++i) all[i] = i;
  TemporalConfig cfg;
  BatchSampler sampler(set, all, cfg, 1);
  std::int64_t step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(sampler.batch(step++).x.data());
  state.SetItemsProcessed(state.iterations() * cfg.batch_size);
}
BENCHMARK(BM_TcnBatchSampler)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  taupe::RuntimeOptions ro;
  if (const char* t = std::getenv("TAUPE_THREADS")) ro.threads = std::atoi(t);
  const auto info = taupe::runtime_init(ro);
  torch::set_num_threads(info.threads > 0 ? info.threads : 2);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
