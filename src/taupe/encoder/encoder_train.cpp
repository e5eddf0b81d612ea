// β-VAE training loop: Adam + capacity annealing, threaded data pipeline, atomic per-epoch
// checkpoints (weights + optimiser + step + RNG state), resume, loss CSV, montages.
#include "taupe/encoder/encoder_train.h"

#include <torch/nn.h>
#include <torch/optim.h>
#include <torch/serialize.h>
#include <torch/version.h>
#include <ATen/CPUGeneratorImpl.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/numeric_guard.h"
#include "taupe/core/rng.h"
#include "taupe/core/signals.h"
#include "taupe/dist/cluster.h"
#include "taupe/dist/gradient_reducer.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/config_json.h"
#include "taupe/encoder/normalize.h"
#include "taupe/encoder/patch_pipeline.h"
#include "taupe/encoder/torch_runtime.h"
#include "taupe/encoder/vae.h"
#include "taupe/encoder/vae_loss.h"
#include "taupe/projector/model_dir.h"

namespace taupe {


namespace {

constexpr const char* kCsvHeader = "step,epoch,loss,reconstruction,kl,capacity_loss,capacity\n";

torch::Tensor scalar_i64(std::int64_t v) { return torch::tensor({v}, torch::kInt64); }
std::int64_t read_i64(torch::serialize::InputArchive& ar, const std::string& key, const std::string& file) {
  torch::Tensor t;
  if (!ar.try_read(key, t)) throw ModelError(file + ": checkpoint entry '" + key + "' missing");
  return t.item<std::int64_t>();
}

/// Rows of an earlier loss CSV with step < `below` (lines kept verbatim).
std::vector<std::string> read_csv_rows(const std::filesystem::path& csv, std::int64_t below) {
  std::vector<std::string> rows;
  std::ifstream in(csv);
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (header) { header = false; continue; }
    if (line.empty()) continue;
    const std::int64_t step = std::stoll(line.substr(0, line.find(',')));
    if (step < below) rows.push_back(line);
  }
  return rows;
}

void write_csv(const std::filesystem::path& csv, const std::vector<std::string>& rows) {
  std::string s = kCsvHeader;
  for (const auto& r : rows) { s += r; s += '\n'; }
  write_text_atomic(csv, s);
}

/// Montage: `n` pairs [input | reconstruction], 4 pairs per row, 2 px gaps; RGB = [ch1, ch0, ch1],
/// values clipped to [-3, 3] and mapped to [0, 255].
void write_montage(const std::filesystem::path& path, const torch::Tensor& x, const torch::Tensor& xh) {
  const int n = static_cast<int>(x.size(0)), s = 64, gap = 2, pairs_per_row = 4;
  const int rows = (n + pairs_per_row - 1) / pairs_per_row, cols = 2 * std::min(n, pairs_per_row);
  cv::Mat img(rows * (s + gap) + gap, cols * (s + gap) + gap, CV_8UC3, cv::Scalar(255, 255, 255));
  const torch::Tensor a = x.contiguous().to(torch::kFloat32), b = xh.contiguous().to(torch::kFloat32);
  auto tile = [&](const float* src, int r0, int c0) {
    for (int i = 0; i < s; ++i)
      for (int j = 0; j < s; ++j) {
        auto to8 = [](float v) {
          const float c = std::min(3.0f, std::max(-3.0f, v));
          return static_cast<unsigned char>(std::lround((c + 3.0f) / 6.0f * 255.0f));
        };
        const unsigned char g = to8(src[i * s + j]), m = to8(src[s * s + i * s + j]);
        img.at<cv::Vec3b>(r0 + i, c0 + j) = cv::Vec3b(m, g, m);   // OpenCV BGR: B = ch1, G = ch0, R = ch1
      }
  };
  for (int k = 0; k < n; ++k) {
    const int r = k / pairs_per_row, c = 2 * (k % pairs_per_row);
    tile(a.data_ptr<float>() + static_cast<std::int64_t>(k) * 2 * s * s, gap + r * (s + gap), gap + c * (s + gap));
    tile(b.data_ptr<float>() + static_cast<std::int64_t>(k) * 2 * s * s, gap + r * (s + gap), gap + (c + 1) * (s + gap));
  }
  std::vector<unsigned char> buf;
  cv::imencode(".png", img, buf);
  write_text_atomic(path, std::string(buf.begin(), buf.end()));
}

std::string fmt(double v) {
  std::ostringstream o;
  o << std::setprecision(7) << v;
  return o.str();
}

/// A data-parallel copy of the VAE (see EncoderConfig::replicas).
struct Replica {
  Encoder enc;
  Decoder dec;
  at::Generator gen;
};

/// Loss components of one step, summed over shards weighted by shard size.
struct ShardLoss {
  double total = 0, reconstruction = 0, kl = 0, capacity_loss = 0;
};

std::vector<torch::Tensor> state_tensors(torch::nn::Module& enc, torch::nn::Module& dec, bool buffers) {
  std::vector<torch::Tensor> out = buffers ? enc.buffers() : enc.parameters();
  for (const auto& t : buffers ? dec.buffers() : dec.parameters()) out.push_back(t);
  return out;
}

/// Which shards of every global batch this process trains: the batch is split into `total`
/// contiguous shards (encoder.replicas × ranks); this process has `first` .. first + replicas - 1.
struct ShardRange {
  int first = 0, total = 1;
};

/// Copies the trained model's weights and buffers (params, buffers: state_tensors of enc/dec) into
/// every replica, gradients cleared, and appends each replica's own lists to rparams / rbuffers.
void copy_to_replicas(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& buffers,
                      std::vector<Replica>& replicas, std::vector<std::vector<torch::Tensor>>& rparams,
                      std::vector<std::vector<torch::Tensor>>& rbuffers) {
  torch::NoGradGuard ng;
  for (auto& rp : replicas) {
    rparams.push_back(state_tensors(*rp.enc, *rp.dec, false));
    rbuffers.push_back(state_tensors(*rp.enc, *rp.dec, true));
    for (std::size_t i = 0; i < params.size(); ++i) {
      rparams.back()[i].copy_(params[i]);
      rparams.back()[i].mutable_grad() = torch::Tensor();
    }
    for (std::size_t i = 0; i < buffers.size(); ++i) rbuffers.back()[i].copy_(buffers[i]);
  }
}

/// One training step's forward and backward over this process's shards of the global batch x
/// (B, 2, 64, 64): local shard r (global first + r) on replica r (0 = enc/dec), each in its own
/// thread. Leaves the summed gradient in enc/dec's parameters (their grads must be zero on
/// entry) and, with batch-statistics BN, the replicas' mean moving statistics in enc/dec's
/// buffers. Each shard's loss is weighted by its share of the global batch.
ShardLoss parallel_step(Encoder& enc, Decoder& dec, at::Generator& gen, std::vector<Replica>& replicas,
                        const torch::Tensor& x, double capacity, double gamma, const torch::Tensor& pixel_weight,
                        int intra_threads, ShardRange shards) {
  const int R = 1 + static_cast<int>(replicas.size());
  const std::int64_t B = x.size(0);
  const std::vector<torch::Tensor> params = state_tensors(*enc, *dec, false);
  const std::vector<torch::Tensor> buffers = state_tensors(*enc, *dec, true);
  std::vector<std::vector<torch::Tensor>> rparams, rbuffers;
  copy_to_replicas(params, buffers, replicas, rparams, rbuffers);
  std::vector<ShardLoss> parts(static_cast<std::size_t>(R));
  auto run = [&](int r) {
    if (R > 1) at::set_num_threads(intra_threads);  // this thread's OpenMP team size
    Encoder& e = r == 0 ? enc : replicas[static_cast<std::size_t>(r - 1)].enc;
    Decoder& d = r == 0 ? dec : replicas[static_cast<std::size_t>(r - 1)].dec;
    at::Generator& g = r == 0 ? gen : replicas[static_cast<std::size_t>(r - 1)].gen;
    const std::int64_t gs = shards.first + r, b0 = B * gs / shards.total, b1 = B * (gs + 1) / shards.total;
    const torch::Tensor xs = x.slice(0, b0, b1);  // (b1 - b0, 2, 64, 64)
    EncoderOutput out;
    torch::Tensor xh;  // (b, 2, 64, 64) reconstruction
    {
      const AutocastScope amp;  // run.precision: the forward pass only
      out = e->forward_sampled(xs, g);
      xh = d(out.z);
    }
    const VaeLoss l = vae_loss(xs, xh.to(torch::kFloat32), out.z_mean.to(torch::kFloat32),
                               out.z_log_var.to(torch::kFloat32), capacity, gamma, pixel_weight);
    const double w = static_cast<double>(b1 - b0) / static_cast<double>(B);
    (l.total * w).backward();
    auto& p = parts[static_cast<std::size_t>(r)];
    p.total = w * l.total.item<double>();
    p.reconstruction = w * l.reconstruction.item<double>();
    p.kl = w * l.kl.item<double>();
    p.capacity_loss = w * l.capacity_loss.item<double>();
  };
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(R));
  std::vector<std::thread> workers;
  for (int r = 1; r < R; ++r)
    workers.emplace_back([&, r] {
      try {
        run(r);
      } catch (...) {
        errors[static_cast<std::size_t>(r)] = std::current_exception();
      }
    });
  try {
    run(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& w : workers) w.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  ShardLoss sum;
  for (const auto& p : parts) {
    sum.total += p.total;
    sum.reconstruction += p.reconstruction;
    sum.kl += p.kl;
    sum.capacity_loss += p.capacity_loss;
  }
  torch::NoGradGuard ng;
  for (std::size_t k = 0; k < rparams.size(); ++k) {
    for (std::size_t i = 0; i < params.size(); ++i) {
      const torch::Tensor& g = rparams[k][i].grad();
      if (!g.defined()) continue;
      if (params[i].grad().defined()) params[i].mutable_grad().add_(g);
      else params[i].mutable_grad() = g.clone();
    }
    for (std::size_t i = 0; i < buffers.size(); ++i)
      if (buffers[i].is_floating_point()) buffers[i].add_(rbuffers[k][i]);
  }
  if (!rparams.empty())
    for (auto& b : buffers)
      if (b.is_floating_point()) b.div_(static_cast<double>(R));
  return sum;
}

/// Re-estimates every BatchNorm's moving statistics as the plain average over `batches` training
/// batches (cumulative moving average, no gradients), then restores each layer's momentum. With
/// batch-statistics training the exponential averages (momentum 0.01) lag far behind the weights in
/// a short run; inference (encoding, montages) reads these statistics.
template <class NextBatch>
void recalibrate_batchnorm(Encoder& enc, Decoder& dec, int batches, at::Generator& gen, NextBatch next_batch) {
  std::vector<std::pair<torch::nn::BatchNorm2dImpl*, c10::optional<double>>> bns;
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(enc.get()), static_cast<torch::nn::Module*>(dec.get())})
    for (const auto& sub : m->modules(/*include_self=*/false))
      if (auto* bn = sub->as<torch::nn::BatchNorm2dImpl>()) {
        bns.emplace_back(bn, bn->options.momentum());
        bn->reset_running_stats();
        bn->options.momentum(c10::nullopt);
      }
  torch::NoGradGuard ng;
  enc->train();
  dec->train();
  for (int i = 0; i < batches; ++i) {
    const torch::Tensor x = next_batch();  // (B, 2, 64, 64)
    (void)dec(enc->forward_sampled(x, gen).z);
  }
  for (auto& [bn, momentum] : bns) bn->options.momentum(momentum);
}

}  // namespace

std::string EncoderTrainResult::brief() const {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1);
  o << (completed ? "encoder trained: " : "encoder training stopped: ") << steps << "/" << total_steps << " steps on "
    << patches << " patches" << (streamed ? " (streamed in windows)" : "");
  if (resumed_from_step > 0) o << " (resumed at step " << resumed_from_step << ")";
  o << ", " << seconds << " s, " << std::setprecision(0) << images_per_second << " img/s; final loss "
    << std::setprecision(1) << final_loss << " (recon " << final_reconstruction << ", KL " << std::setprecision(2)
    << final_kl << ")";
  return o.str();
}

namespace {

/// The trained modules, their optimiser and random streams: what a checkpoint holds.
struct TrainingState {
  Encoder enc;
  Decoder dec;
  std::unique_ptr<torch::optim::Adam> opt;
  at::Generator gen;               ///< z-noise of replica 0 (enc/dec itself)
  std::vector<Replica> replicas;   ///< data-parallel replicas 1..R-1
  std::int64_t step = 0;
  ShardRange shards;               ///< which shards of each global batch this process trains
  Cluster* cluster = nullptr;      ///< the other ranks (nullptr: one process)
  /// Several ranks, one shard each: the gradients are summed while the backward pass runs.
  std::unique_ptr<GradientReducer> reducer;
  bool leader() const { return !cluster || cluster->leader(); }
};

/// The z-noise seed of global shard g: shard 0 keeps the single-model stream.
std::uint64_t shard_seed(std::int64_t seed, int g) {
  return derive_seed(static_cast<std::uint64_t>(seed), g == 0 ? 2 : 100 + static_cast<std::uint64_t>(g));
}

/// The checkpoint key of global shard g's generator.
std::string generator_key(int g) { return g == 0 ? "rng/generator" : "rng/generator_" + std::to_string(g); }

/// Fresh modules (seeded by encoder.seed, the same on every rank), optimiser and generators.
TrainingState make_training_state(const EncoderConfig& cfg, Cluster* cluster) {
  torch::manual_seed(static_cast<std::uint64_t>(cfg.seed));
  const int rank = cluster ? cluster->rank() : 0, world = cluster ? cluster->world_size() : 1;
  const ShardRange shards{rank * cfg.replicas, world * cfg.replicas};
  TrainingState st{Encoder(cfg), Decoder(cfg), nullptr,
                   at::make_generator<at::CPUGeneratorImpl>(shard_seed(cfg.seed, shards.first)),
                   {}, 0, shards, cluster, nullptr};
  const c10::Device device = compute_device();
  st.enc->to(device);
  st.dec->to(device);
  std::vector<torch::Tensor> params = st.enc->parameters();
  for (const auto& p : st.dec->parameters()) params.push_back(p);
  st.opt = std::make_unique<torch::optim::Adam>(
      params, torch::optim::AdamOptions(cfg.learning_rate).betas({cfg.adam_beta1, cfg.adam_beta2}).eps(cfg.adam_eps));
  // Replicas 1..R-1: own modules, weights copied from replica 0 before every step, own z-noise.
  for (int r = 1; r < cfg.replicas; ++r)
    st.replicas.push_back(
        Replica{Encoder(cfg), Decoder(cfg), at::make_generator<at::CPUGeneratorImpl>(shard_seed(cfg.seed, shards.first + r))});
  if (cluster && cfg.replicas == 1 && cfg.grad_bucket_mb > 0)
    st.reducer = std::make_unique<GradientReducer>(*cluster, params,
                                                   static_cast<std::int64_t>(cfg.grad_bucket_mb * 1024 * 1024));
  for (auto& rp : st.replicas) {
    rp.enc->to(st.enc->parameters().front().device());
    rp.dec->to(st.enc->parameters().front().device());
  }
  return st;
}

/// What a checkpoint must match to be resumed.
struct CheckpointMeta {
  std::int64_t total_steps, batches_per_epoch, patches, seed, replicas;
};

void load_module_state(torch::nn::Module& m, torch::serialize::InputArchive& a, const std::string& what,
                       const std::string& file) {
  torch::NoGradGuard ng;
  for (auto& kv : named_state(m)) {
    torch::Tensor t;
    if (!a.try_read(kv.first, t) || t.sizes() != kv.second.sizes())
      throw ModelError(file + ": " + what + " tensor '" + kv.first + "' missing or of another shape");
    kv.second.copy_(t);
  }
}

/// Restores `st` from the checkpoint `ckpt` (written by save_checkpoint for the same `meta`).
void load_checkpoint(TrainingState& st, const std::filesystem::path& ckpt, const CheckpointMeta& meta,
                     const std::filesystem::path& work) {
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(ckpt.string(), compute_device());  // a checkpoint resumes on any device
  } catch (const c10::Error& e) {
    throw ModelError(ckpt.string() + ": unreadable checkpoint (" + e.what_without_backtrace() + ")",
                     "delete it to start over");
  }
  const std::string f = ckpt.string();
  if (read_i64(ar, "meta/total_steps", f) != meta.total_steps ||
      read_i64(ar, "meta/batches_per_epoch", f) != meta.batches_per_epoch ||
      read_i64(ar, "meta/patches", f) != meta.patches || read_i64(ar, "meta/seed", f) != meta.seed)
    throw ModelError(f + ": checkpoint belongs to another configuration (patches, batch size, epochs or seed differ)",
                     "delete " + work.string() + " or train without resuming");
  torch::Tensor rt;
  const std::int64_t ckpt_replicas = ar.try_read("meta/replicas", rt) ? rt.item<std::int64_t>() : 1;
  if (ckpt_replicas != meta.replicas)
    throw ModelError(f + ": checkpoint was trained with " + std::to_string(ckpt_replicas) +
                         " shards per batch (encoder.replicas x ranks), this run has " + std::to_string(meta.replicas),
                     "use the same encoder.replicas and number of ranks, or delete " + work.string());
  st.step = read_i64(ar, "meta/step", f);
  torch::serialize::InputArchive ea, da, oa;
  ar.read("encoder", ea);
  ar.read("decoder", da);
  ar.read("optimizer", oa);
  load_module_state(*st.enc, ea, "encoder", f);
  load_module_state(*st.dec, da, "decoder", f);
  st.opt->load(oa);
  torch::Tensor gs;
  ar.read(generator_key(st.shards.first), gs);
  st.gen.set_state(gs);
  for (std::size_t r = 0; r < st.replicas.size(); ++r) {
    ar.read(generator_key(st.shards.first + static_cast<int>(r) + 1), gs);
    st.replicas[r].gen.set_state(gs);
  }
}

/// Every global shard's generator state, in shard order (gathered from the ranks).
std::vector<torch::Tensor> all_generator_states(const TrainingState& st) {
  std::vector<torch::Tensor> mine{st.gen.get_state()};
  for (const auto& rp : st.replicas) mine.push_back(rp.gen.get_state());
  if (!st.cluster) return mine;
  const torch::Tensor stacked = torch::stack(mine);  // (replicas, state bytes)
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& part : st.cluster->all_gather(stacked))
    for (std::int64_t r = 0; r < part.size(0); ++r) out.push_back(part[r].clone());
  return out;
}

/// Every rank calls it (the generators are gathered); rank 0 writes.
void save_checkpoint(const TrainingState& st, const std::filesystem::path& ckpt, const CheckpointMeta& meta) {
  const std::vector<torch::Tensor> generators = all_generator_states(st);
  if (!st.leader()) return;
  torch::serialize::OutputArchive ar, ea, da, oa;
  for (const auto& kv : named_state(*st.enc)) ea.write(kv.first, kv.second);
  for (const auto& kv : named_state(*st.dec)) da.write(kv.first, kv.second);
  st.opt->save(oa);
  ar.write("encoder", ea);
  ar.write("decoder", da);
  ar.write("optimizer", oa);
  for (std::size_t g = 0; g < generators.size(); ++g) ar.write(generator_key(static_cast<int>(g)), generators[g]);
  ar.write("meta/replicas", scalar_i64(meta.replicas));
  ar.write("meta/step", scalar_i64(st.step));
  ar.write("meta/total_steps", scalar_i64(meta.total_steps));
  ar.write("meta/batches_per_epoch", scalar_i64(meta.batches_per_epoch));
  ar.write("meta/patches", scalar_i64(meta.patches));
  ar.write("meta/seed", scalar_i64(meta.seed));
  write_atomic(ckpt, [&](const std::filesystem::path& tmp) { ar.save_to(tmp.string()); });
}

/// The data pipeline of the training batches (augmentation, threads, its own seed).
PatchPipelineOptions pipeline_options(const EncoderConfig& cfg, std::int64_t window) {
  PatchPipelineOptions po;
  po.window = window;
  po.batch_size = cfg.batch_size;
  po.augment_flips = cfg.augment_flips;
  po.augment_rot90 = cfg.augment_rot90;
  po.clip = cfg.normalization_clip;
  po.threads = cfg.loader_threads;
  po.prefetch = cfg.prefetch_batches;
  po.seed = derive_seed(static_cast<std::uint64_t>(cfg.seed), 1);
  return po;
}

/// The training patches of a patch file: held whole, or streamed when they exceed
/// encoder.patch_memory_mb.
PatchPipeline make_file_pipeline(const std::filesystem::path& patches, const EncoderConfig& cfg) {
  std::shared_ptr<const PatchSource> src = open_patch_source(patches, cfg.max_patches);
  const std::int64_t window = cfg.patch_window(src->size());
  return PatchPipeline(std::move(src), pipeline_options(cfg, window));
}

/// Writes encoder.pt, decoder.pt and the model manifest's "encoder" section.
void save_encoder_model(TrainingState& st, const EncoderConfig& cfg, const EncoderTrainOptions& opts,
                        const EncoderTrainResult& res, const CheckpointMeta& meta, std::int64_t max_it) {
  st.enc->eval();
  st.dec->eval();
  st.enc->to(torch::kCPU);  // model files hold CPU tensors, whatever device trained them
  st.dec->to(torch::kCPU);
  const nlohmann::json training{{"patches_file", opts.patches.string()}, {"patches", meta.patches}, {"steps", st.step},
                                {"batches_per_epoch", meta.batches_per_epoch}, {"max_iterations", max_it},
                                {"final_loss", res.final_loss}, {"final_reconstruction", res.final_reconstruction},
                                {"final_kl", res.final_kl}, {"torch_version", TORCH_VERSION}};
  save_vae_model_files(*st.enc, *st.dec, cfg, opts.model_dir, training);
}

/// Sets LibTorch's intra-op threads for the training loop and restores them when destroyed.
struct IntraOpThreads {
  int before = at::get_num_threads();
  explicit IntraOpThreads(int n) { at::set_num_threads(n); }
  ~IntraOpThreads() { at::set_num_threads(before); }
};

/// What a diverged encoder training should change.
const char* const kDivergedHint =
    "lower encoder.learning_rate (or check the patches for NaN / Inf pixels); rerunning with the same "
    "settings resumes from the last good checkpoint and diverges again";

/// Throws ModelError when the encoder or decoder holds a non-finite tensor.
void require_finite_model(const TrainingState& st, const LastCheckpoint& last_good) {
  std::vector<std::string> bad;
  for (const auto& kv : named_state(*st.enc))
    if (!torch::isfinite(kv.second).all().item<bool>()) bad.push_back("encoder." + kv.first);
  for (const auto& kv : named_state(*st.dec))
    if (!torch::isfinite(kv.second).all().item<bool>()) bad.push_back("decoder." + kv.first);
  require_finite_weights(bad, "encoder training", last_good, kDivergedHint);
}

/// Multi-process: sums the ranks' gradients (or finishes the reducer's buckets) and loss parts
/// and averages their BatchNorm moving statistics, so that every rank takes the same optimiser
/// step. Returns whether any rank was asked to stop (SIGINT / SIGTERM), so that all of them stop
/// at the same step.
bool synchronise_ranks(TrainingState& st, ShardLoss& l) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> all;
  if (st.reducer)
    st.reducer->finish();  // the gradients: summed in buckets, most of them during the backward pass
  else
    for (auto& p : state_tensors(*st.enc, *st.dec, false))
      if (p.grad().defined()) all.push_back(p.mutable_grad());
  const std::size_t n_grads = all.size();
  for (auto& b : state_tensors(*st.enc, *st.dec, true))
    if (b.is_floating_point()) all.push_back(b);
  all.push_back(torch::tensor({l.total, l.reconstruction, l.kl, l.capacity_loss, stop_requested() ? 1.0 : 0.0},
                              torch::kFloat64));
  st.cluster->all_reduce_sum(all);  // one flat buffer per dtype
  const double world = static_cast<double>(st.cluster->world_size());
  for (std::size_t i = n_grads; i + 1 < all.size(); ++i) all[i].div_(world);
  const torch::Tensor parts = all.back();
  l = ShardLoss{parts[0].item<double>(), parts[1].item<double>(), parts[2].item<double>(), parts[3].item<double>()};
  return parts[4].item<double>() > 0;
}

/// The loop's view of the training: where it writes and what it has written.
struct TrainLoop {
  TrainingState& st;
  const EncoderConfig& cfg;
  const CheckpointMeta& meta;
  const torch::Tensor& montage_x;  // (M, 2, 64, 64) fixed montage inputs
  const std::filesystem::path& work;
  std::vector<std::string>& rows;
  EncoderTrainResult& res;
  LastCheckpoint last_good;

  std::filesystem::path checkpoint() const { return encoder_artifacts::checkpoint(work); }

  /// Rank 0: the reconstruction montage of epoch `epoch`.
  void montage(std::int64_t epoch) {
    torch::NoGradGuard ng;
    st.enc->eval();
    st.dec->eval();
    const torch::Tensor x = montage_x.to(compute_device());
    const torch::Tensor xh = st.dec(st.enc->forward_mean(x).z_mean).to(torch::kCPU).contiguous();
    res.last_montage = encoder_artifacts::montage(work, static_cast<long long>(epoch));
    write_montage(res.last_montage, montage_x, xh);
    st.enc->train();
    st.dec->train();
  }

  /// Every rank: loss.csv (rank 0) and the checkpoint at this step.
  void save() {
    if (st.leader()) write_csv(res.loss_csv, rows);
    save_checkpoint(st, checkpoint(), meta);
    last_good = {checkpoint().string(), st.step};
  }

  /// A stop was requested (here, or on another rank): checkpoint at this step boundary and stop.
  [[noreturn]] void stop() {
    save();
    const std::string what = "encoder checkpoint saved at step " + std::to_string(st.step) + " of " +
                             std::to_string(meta.total_steps);
    throw_if_stop_requested(what);
    throw Interrupted("stopped: another rank was asked to stop; " + what, 15, "run the same command again to resume");
  }

  /// End of an epoch: after the last step the BN statistics are re-estimated first (rank 0, which
  /// writes the model), so the final montage, the checkpoint and the saved weights all hold the
  /// statistics that inference will use.
  template <class NextBatch>
  void end_of_epoch(NextBatch&& next_batch) {
    const std::int64_t per_epoch = meta.batches_per_epoch;
    if (st.leader()) {
      if (st.step == meta.total_steps && cfg.batchnorm == "batch" && cfg.bn_recalibration_batches > 0)
        recalibrate_batchnorm(st.enc, st.dec, cfg.bn_recalibration_batches, st.gen, next_batch);
      montage(st.step / per_epoch - 1);
    }
    save();
  }
};

/// Trains from st.step to the last step (or opts.stop_after_step): one loss row per step; after
/// every epoch a reconstruction montage of `montage_x` and a checkpoint (with loss.csv).
void train_steps(TrainingState& st, PatchPipeline& pipe, const EncoderConfig& cfg, const EncoderTrainOptions& opts,
                 const CheckpointMeta& meta, const torch::Tensor& montage_x, const std::filesystem::path& work,
                 std::vector<std::string>& rows, EncoderTrainResult& res) {
  const std::int64_t total = meta.total_steps, per_epoch = meta.batches_per_epoch;
  const std::int64_t max_it = capacity_max_iterations(total, cfg.max_iterations_fraction);
  TrainLoop loop{st, cfg, meta, montage_x, work, rows, res, {}};
  if (st.step > 0) loop.last_good = {loop.checkpoint().string(), st.step};
  st.enc->train();
  st.dec->train();
  for (auto& rp : st.replicas) {
    rp.enc->train();
    rp.dec->train();
  }
  // Each replica's thread gets an equal share of the intra-op threads (restored below).
  const int intra_threads = std::max(1, at::get_num_threads() / cfg.replicas);
  const IntraOpThreads threads_guard(intra_threads);
  pipe.start(st.step / per_epoch, st.step % per_epoch);
  const c10::Device device = compute_device();
  auto next_batch = [&]() {
    ImageBatch b = pipe.next();
    const torch::Tensor x = torch::from_blob(b.images.data(), {b.size, 2, 64, 64}, torch::kFloat32);
    const auto format = cfg.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    if (device.is_cpu()) return cfg.channels_last ? x.contiguous(format) : x.clone();  // (B, 2, 64, 64)
    // Pinned host memory, copied while the device still works on the previous step.
    return x.pin_memory().to(device, /*non_blocking=*/true).contiguous(format);
  };
  // (64, 64) reconstruction weights; undefined = the reference's unweighted error.
  const torch::Tensor pixel_weight =
      cfg.centre_weight > 0 ? centre_weight_map(64, cfg.centre_weight, cfg.centre_sigma_px).to(device) : torch::Tensor();
  bool ranks_stop = false;  // multi-process: a stop every rank agreed on at the last step
  while (st.step < total) {
    if (opts.stop_after_step >= 0 && st.step >= opts.stop_after_step) break;
    if (st.cluster ? ranks_stop : stop_requested()) loop.stop();  // SIGINT / SIGTERM
    const torch::Tensor x = next_batch();
    const double c = capacity_at(cfg.capacity, max_it, st.step);
    st.opt->zero_grad();
    if (st.reducer) st.reducer->arm();
    ShardLoss l = parallel_step(st.enc, st.dec, st.gen, st.replicas, x, c, cfg.gamma, pixel_weight, intra_threads,
                                st.shards);
    if (st.cluster) ranks_stop = synchronise_ranks(st, l);
    const double lt = l.total;
    require_finite_loss(lt, "encoder training", st.step, loop.last_good, kDivergedHint);
    st.opt->step();
    res.final_loss = lt;
    res.final_reconstruction = l.reconstruction;
    res.final_kl = l.kl;
    rows.push_back(std::to_string(st.step) + "," + std::to_string(st.step / per_epoch) + "," + fmt(lt) + "," +
                   fmt(res.final_reconstruction) + "," + fmt(res.final_kl) + "," + fmt(l.capacity_loss) + "," + fmt(c));
    ++st.step;
    if (opts.on_step) opts.on_step(st.step, total, lt);
    if (st.step % per_epoch == 0) loop.end_of_epoch(next_batch);
  }
  if (st.step >= total && st.leader()) require_finite_model(st, loop.last_good);  // about to be saved as the result
  if (st.reducer && st.leader())
    log_debug("encoder: gradient all-reduce in " + std::to_string(st.reducer->buckets()) + " buckets, " +
              std::to_string(st.reducer->started_early()) + " started during the last backward pass");
}

}  // namespace

EncoderTrainResult train_encoder(const EncoderConfig& cfg, const EncoderTrainOptions& opts) {
  cfg.validate();
  const auto t0 = std::chrono::steady_clock::now();
  if (opts.model_dir.empty()) throw ConfigError("train encoder: no model directory given");
  const std::filesystem::path work = opts.work_dir.empty() ? encoder_artifacts::work_dir(opts.model_dir) : opts.work_dir;
  std::filesystem::create_directories(work);
  std::filesystem::create_directories(opts.model_dir);
  if (!opts.cluster || opts.cluster->leader()) {  // another rank's temporary is not stale
    remove_stale_temporaries(work);
    remove_stale_temporaries(opts.model_dir);
  }

  PatchPipeline pipe = opts.images ? PatchPipeline(opts.images, pipeline_options(cfg, 0))
                                   : make_file_pipeline(opts.patches, cfg);
  const std::int64_t per_epoch = pipe.batches_per_epoch(), n = pipe.size();
  const int world = opts.cluster ? opts.cluster->world_size() : 1;
  const CheckpointMeta meta{per_epoch * cfg.epochs, per_epoch, n, cfg.seed,
                            static_cast<std::int64_t>(cfg.replicas) * world};
  const std::int64_t total = meta.total_steps;
  const std::int64_t max_it = capacity_max_iterations(total, cfg.max_iterations_fraction);

  TrainingState st = make_training_state(cfg, opts.cluster);
  EncoderTrainResult res;
  res.total_steps = total;
  res.patches = n;
  res.streamed = pipe.streaming();
  res.loss_csv = encoder_artifacts::loss_csv(work);
  std::vector<std::string> rows;
  const auto ckpt = encoder_artifacts::checkpoint(work);
  if (opts.resume && std::filesystem::exists(ckpt)) {
    load_checkpoint(st, ckpt, meta, work);
    rows = read_csv_rows(res.loss_csv, st.step);
    res.resumed_from_step = st.step;
  }

  // Fixed montage inputs: the first patches, normalised, not augmented.
  const int nm = static_cast<int>(std::min<std::int64_t>(cfg.montage_images, n));
  torch::Tensor montage_x = torch::empty({nm, 2, 64, 64});
  normalize_images(pipe.patches(0, nm).data(), montage_x.data_ptr<float>(), nm, 2, 64 * 64, cfg.normalization_clip);
  const auto tl = std::chrono::steady_clock::now();
  const std::int64_t first_step = st.step;
  train_steps(st, pipe, cfg, opts, meta, montage_x, work, rows, res);
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - tl).count();
  res.steps = st.step;
  res.images_per_second = train_s > 0 ? static_cast<double>((st.step - first_step) * cfg.batch_size) / train_s : 0.0;
  res.completed = st.step >= total;
  if (res.completed && st.leader()) save_encoder_model(st, cfg, opts, res, meta, max_it);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace taupe
