// β-VAE speed: training step (encoder + decoder + loss + Adam, batch 256) and encoding
// (inference mode, batch 512), with and without channels-last. Reports images/s.
//   build-*/bench/encoder_bench --benchmark_min_time=3
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "taupe/core/runtime.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/normalize.h"
#include "taupe/encoder/patch_pipeline.h"
#include "taupe/encoder/vae.h"
#include "taupe/encoder/vae_loss.h"

namespace {

void BM_EncoderTrainStep(benchmark::State& state) {
  const bool channels_last = state.range(0) != 0;
  const int batch = static_cast<int>(state.range(1));
  taupe::EncoderConfig cfg;
  torch::manual_seed(0);
  taupe::Encoder enc(cfg);
  taupe::Decoder dec(cfg);
  std::vector<torch::Tensor> params = enc->parameters();
  for (const auto& p : dec->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3).eps(1e-7));
  torch::Tensor x = torch::randn({batch, 2, 64, 64}).clamp(-4, 4);
  if (channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
  for (auto _ : state) {
    const taupe::EncoderOutput o = enc(x);
    const taupe::VaeLoss l = taupe::vae_loss(x, dec(o.z), o.z_mean, o.z_log_var, 10.0, 1000.0);
    opt.zero_grad();
    l.total.backward();
    opt.step();
    benchmark::DoNotOptimize(l.total.item<float>());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_EncoderTrainStep)->Args({0, 256})->Args({1, 256})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Encode(benchmark::State& state) {
  const int n = 2048;
  taupe::EncoderConfig cfg;
  cfg.encode_batch_size = static_cast<int>(state.range(0));
  const taupe::VaeModel m(cfg);
  std::vector<std::uint16_t> img(static_cast<std::size_t>(n) * 2 * 64 * 64);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = static_cast<std::uint16_t>((i * 2654435761u) % 4000);
  for (auto _ : state) benchmark::DoNotOptimize(m.encode(img.data(), n).z_mean.data());
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Encode)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PipelineBatch(benchmark::State& state) {
  auto imgs = std::make_shared<taupe::PatchImages>();
  imgs->n = 1024;
  imgs->pixels.resize(static_cast<std::size_t>(imgs->n * taupe::PatchImages::kPixelsPerImage));
  for (std::size_t i = 0; i < imgs->pixels.size(); ++i) imgs->pixels[i] = static_cast<std::uint16_t>(i % 3001);
  taupe::PatchPipelineOptions o;
  o.batch_size = 256;
  taupe::PatchPipeline p(imgs, o);
  std::int64_t k = 0;
  for (auto _ : state) benchmark::DoNotOptimize(p.make_batch(0, (k++) % 4).images.data());
  state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_PipelineBatch)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  taupe::runtime_init(taupe::RuntimeOptions{});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
