// β-VAE speed: training step (encoder + decoder + loss + Adam, batch 256) and encoding
// (inference mode, batch 512), with and without channels-last. Reports images/s.
//   build-*/bench/encoder_bench --benchmark_min_time=3
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>

#include "taupe/core/runtime.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/normalize.h"
#include "taupe/encoder/patch_pipeline.h"
#include "taupe/encoder/torch_runtime.h"
#include "taupe/encoder/vae.h"
#include "taupe/encoder/vae_loss.h"

namespace {

double encoder_flops(const taupe::EncoderConfig& cfg);
double decoder_flops(const taupe::EncoderConfig& cfg);
double peak_gflops();

/// One training step: encoder + decoder forward, loss, backward (≈ 2 × forward) and Adam.
/// GFLOP/s counts 3 × the forward FLOPs of both networks per image.
void BM_EncoderTrainStep(benchmark::State& state) {
  const bool channels_last = state.range(0) != 0;
  const int batch = static_cast<int>(state.range(1));
  taupe::EncoderConfig cfg;
  torch::manual_seed(0);
  taupe::Encoder enc(cfg);
  taupe::Decoder dec(cfg);
  const c10::Device device = taupe::compute_device();
  enc->to(device);
  dec->to(device);
  std::vector<torch::Tensor> params = enc->parameters();
  for (const auto& p : dec->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(1e-3).eps(1e-7));
  torch::Tensor x = torch::randn({batch, 2, 64, 64}).clamp(-4, 4).to(device);
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
  const double flops = 3.0 * (encoder_flops(cfg) + decoder_flops(cfg)) * batch * static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak%"] = benchmark::Counter(flops / 1e9 / peak_gflops() * 100, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EncoderTrainStep)->Args({0, 256})->Args({1, 256})->Unit(benchmark::kMillisecond)->UseRealTime();

/// FLOPs of one encoder forward (convolutions + dense layers, multiply-add = 2).
double encoder_flops(const taupe::EncoderConfig& cfg) {
  double f = 0;
  int in = 2, size = 64;
  for (std::size_t i = 0; i < cfg.layers.size(); ++i) {
    f += 2.0 * size * size * cfg.layers[i] * in * 9;
    in = cfg.layers[i];
    if (i + 1 < cfg.layers.size()) size /= 2;
  }
  const double flat = static_cast<double>(size) * size * in;
  return f + 2 * 2.0 * flat * cfg.intermediate_dims + 2 * 2.0 * cfg.intermediate_dims * cfg.latent_dims;
}

/// FLOPs of one decoder forward (dense, convolutions at each upsampled size, 1x1 output).
double decoder_flops(const taupe::EncoderConfig& cfg) {
  const int n = static_cast<int>(cfg.layers.size());
  int size = 64 >> (n - 1), in = cfg.layers.back();
  double f = 2.0 * cfg.latent_dims * size * size * in;
  for (int i = n - 1; i >= 0; --i) {
    f += 2.0 * size * size * cfg.layers[static_cast<std::size_t>(i)] * in * 9;
    in = cfg.layers[static_cast<std::size_t>(i)];
    if (i > 0) size *= 2;
  }
  return f + 2.0 * size * size * 2 * in;
}

/// The cores' FP32 peak in GFLOP/s: TAUPE_PEAK_GFLOPS, default 156 (2 Zen3 cores, AVX2 + FMA:
/// 32 FLOP per cycle each at ~2.45 GHz, the development machine).
double peak_gflops() {
  const char* v = std::getenv("TAUPE_PEAK_GFLOPS");
  return v ? std::atof(v) : 156.0;
}

/// Encoding 2048 glimpse frames (uint16 -> normalised -> z_mean, z_log_var). Arg 0: through
/// VaeModel::encode (BatchNorm folded, one dense product); 1: through the module in eval mode.
void BM_Encode(benchmark::State& state) {
  const int n = 2048;
  taupe::EncoderConfig cfg;
  cfg.encode_batch_size = static_cast<int>(state.range(0));
  const taupe::VaeModel m(cfg);
  const bool module_path = state.range(1) != 0;
  std::vector<std::uint16_t> img(static_cast<std::size_t>(n) * 2 * 64 * 64);
  for (std::size_t i = 0; i < img.size(); ++i) img[i] = static_cast<std::uint16_t>((i * 2654435761u) % 4000);
  for (auto _ : state) {
    if (module_path)
      benchmark::DoNotOptimize(
          taupe::encode_images(m.encoder(), img.data(), n, cfg.normalization_clip, cfg.encode_batch_size).z_mean.data());
    else
      benchmark::DoNotOptimize(m.encode(img.data(), n).z_mean.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  const double flops = encoder_flops(cfg) * n * static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak%"] = benchmark::Counter(flops / 1e9 / peak_gflops() * 100, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Encode)->ArgNames({"batch", "module"})->Args({512, 0})->Args({512, 1})->Args({256, 0})->Args({256, 1})->Args({128, 0})->Args({64, 0})->Unit(benchmark::kMillisecond)->UseRealTime();

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
  // TAUPE_DEVICE (auto | cpu | cuda | cuda:N; default auto) for the training step and VaeModel::encode.
  const char* device = std::getenv("TAUPE_DEVICE");
  taupe::set_compute_device(device ? device : "auto", "TAUPE_DEVICE");
  // TAUPE_PRECISION (fp32 | bf16; default fp32): run.precision of the forward passes.
  const char* precision = std::getenv("TAUPE_PRECISION");
  taupe::set_compute_precision(precision ? precision : "fp32", "TAUPE_PRECISION");
  std::printf("device: %s, precision %s\n", taupe::compute_device_name().c_str(),
              taupe::compute_precision_name().c_str());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
