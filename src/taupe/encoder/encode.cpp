// Encoding images / glimpses / patches with a trained β-VAE; decoding latents.
#include "taupe/encoder/encode.h"

#include <torch/nn.h>

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>

#include "taupe/core/errors.h"
#include "taupe/core/parallel.h"
#include "taupe/dataset/encodings.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/patches.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/config_json.h"
#include "taupe/encoder/normalize.h"
#include "taupe/encoder/torch_runtime.h"
#include "taupe/encoder/vae.h"
#include "taupe/projector/model_dir.h"

namespace taupe {
namespace {
constexpr std::int64_t kPix = static_cast<std::int64_t>(kGlimpseChannels) * kGlimpseSize * kGlimpseSize;

/// The encoder as inference runs it: each block's BatchNorm (moving statistics) folded into its
/// convolution — weights scaled per output channel, a bias added — and the two dense branches
/// (fc_mean, fc_log_var) in one matrix product. The same function as forward_mean in eval mode,
/// one pass over each activation fewer per block.
class FoldedEncoder {
 public:
  /// Folds `e`'s weights and places them on `device`.
  FoldedEncoder(EncoderImpl& e, c10::Device device) : inter_(e.fc_mean->weight.size(0)), device_(device) {
    c10::InferenceMode guard;
    for (auto& blk : e.blocks) {
      const auto& bn = blk->bn;
      const torch::Tensor scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());  // (Cout)
      w_.push_back((blk->conv->weight * scale.view({-1, 1, 1, 1})).contiguous(at::MemoryFormat::ChannelsLast));
      b_.push_back(bn->bias - bn->running_mean * scale);
    }
    fc_w_ = torch::cat({e.fc_mean->weight, e.fc_log_var->weight}).t().contiguous();  // (flat, 2I)
    fc_b_ = torch::cat({e.fc_mean->bias, e.fc_log_var->bias});                      // (2I)
    zm_w_ = e.z_mean->weight.t().contiguous(), zm_b_ = e.z_mean->bias.clone();
    zv_w_ = e.z_log_var->weight.t().contiguous(), zv_b_ = e.z_log_var->bias.clone();
    for (auto* t : {&fc_w_, &fc_b_, &zm_w_, &zm_b_, &zv_w_, &zv_b_}) *t = t->to(device);
    for (auto& t : w_) t = t.to(device);
    for (auto& t : b_) t = t.to(device);
  }

  c10::Device device() const { return device_; }

  /// x: (B, 2, 64, 64) normalised, channels-last, on device() -> z_mean, z_log_var (B, D).
  EncoderOutput forward(const torch::Tensor& x) const {
    torch::Tensor h = x;
    for (std::size_t i = 0; i < w_.size(); ++i) {
      h = at::conv2d(h, w_[i], b_[i], 1, 1);
      at::silu_(h);  // in place: no second activation buffer
      if (i + 1 < w_.size()) h = at::max_pool2d(h, 2, 2);
    }
    const torch::Tensor flat = h.permute({0, 2, 3, 1}).reshape({h.size(0), -1});  // (B, HWC), Keras order
    torch::Tensor y = at::addmm(fc_b_, flat, fc_w_);  // (B, 2I)
    at::silu_(y);
    EncoderOutput out;
    out.z_mean = at::addmm(zm_b_, y.narrow(1, 0, inter_), zm_w_);                            // (B, D)
    out.z_log_var = at::softplus(at::addmm(zv_b_, y.narrow(1, inter_, inter_), zv_w_));      // (B, D)
    return out;
  }

 private:
  std::int64_t inter_;
  c10::Device device_;
  std::vector<torch::Tensor> w_, b_;
  torch::Tensor fc_w_, fc_b_, zm_w_, zm_b_, zv_w_, zv_b_;
};

/// Encodes normalised images in batches (inference mode, z_mean / z_log_var only), through
/// `fold` when given (a VaeModel's fixed weights), else through the module itself.
EncodedBatch encode_normalized(EncoderImpl& enc, const FoldedEncoder* fold, const float* x, std::int64_t n,
                               int batch_size) {
  EncodedBatch out;
  out.n = n;
  out.dims = enc.latent_dims();
  out.z_mean.resize(static_cast<std::size_t>(n * out.dims));
  out.z_log_var.resize(static_cast<std::size_t>(n * out.dims));
  const c10::Device device = fold ? fold->device() : enc.parameters().front().device();
  const bool was_training = enc.is_training();
  if (was_training) enc.eval();  // never write module state when already in eval (parallel callers)
  {
    c10::InferenceMode guard;
    for (std::int64_t s = 0; s < n; s += batch_size) {
      const std::int64_t b = std::min<std::int64_t>(batch_size, n - s);
      const torch::Tensor t = torch::from_blob(const_cast<float*>(x) + s * kPix, {b, kGlimpseChannels, kGlimpseSize, kGlimpseSize},
                                               torch::kFloat32)
                                  .to(device)
                                  .contiguous(at::MemoryFormat::ChannelsLast);
      EncoderOutput o;
      {
        const AutocastScope amp;  // run.precision
        o = fold ? fold->forward(t) : enc.forward_mean(t);
      }
      const torch::Tensor m = o.z_mean.to(torch::kCPU, torch::kFloat32).contiguous(),
                          v = o.z_log_var.to(torch::kCPU, torch::kFloat32).contiguous();
      std::copy_n(m.data_ptr<float>(), b * out.dims, out.z_mean.data() + s * out.dims);
      std::copy_n(v.data_ptr<float>(), b * out.dims, out.z_log_var.data() + s * out.dims);
    }
  }
  if (was_training) enc.train();
  return out;
}

EncodedBatch encode_u16(EncoderImpl& enc, const FoldedEncoder* fold, const std::uint16_t* images, std::int64_t n,
                        double clip, int batch_size) {
  EncodedBatch out;
  out.dims = enc.latent_dims();
  std::vector<float> buf;
  // Normalise chunk by chunk to bound memory.
  const std::int64_t chunk = std::max<std::int64_t>(batch_size, 1) * 8;
  for (std::int64_t s = 0; s < n; s += chunk) {
    const std::int64_t b = std::min(chunk, n - s);
    buf.resize(static_cast<std::size_t>(b * kPix));
    normalize_images(images + s * kPix, buf.data(), b, kGlimpseChannels, kGlimpseSize * kGlimpseSize, clip);
    EncodedBatch part = encode_normalized(enc, fold, buf.data(), b, batch_size);
    out.z_mean.insert(out.z_mean.end(), part.z_mean.begin(), part.z_mean.end());
    out.z_log_var.insert(out.z_log_var.end(), part.z_log_var.begin(), part.z_log_var.end());
  }
  out.n = n;
  return out;
}

EncodedBatch encode_float(EncoderImpl& enc, const FoldedEncoder* fold, const float* images, std::int64_t n,
                          bool normalized, double clip, int batch_size) {
  if (normalized) return encode_normalized(enc, fold, images, n, batch_size);
  std::vector<float> buf(images, images + n * kPix);
  normalize_images(buf.data(), n, kGlimpseChannels, kGlimpseSize * kGlimpseSize, clip);
  return encode_normalized(enc, fold, buf.data(), n, batch_size);
}

}  // namespace

EncodedBatch encode_images(const Encoder& enc, const std::uint16_t* images, std::int64_t n, double clip, int batch_size) {
  return encode_u16(*enc.ptr(), nullptr, images, n, clip, batch_size);
}

EncodedBatch encode_images(const Encoder& enc, const float* images, std::int64_t n, bool normalized, double clip,
                           int batch_size) {
  return encode_float(*enc.ptr(), nullptr, images, n, normalized, clip, batch_size);
}

std::vector<float> decode_latents(const Decoder& dec, const float* z, std::int64_t n, int dims, int batch_size) {
  std::vector<float> out(static_cast<std::size_t>(n * kPix));
  DecoderImpl& d = *dec.ptr();
  const bool was_training = d.is_training();
  d.eval();
  {
    c10::InferenceMode guard;
    for (std::int64_t s = 0; s < n; s += batch_size) {
      const std::int64_t b = std::min<std::int64_t>(batch_size, n - s);
      const torch::Tensor t = torch::from_blob(const_cast<float*>(z) + s * dims, {b, dims}, torch::kFloat32);
      const torch::Tensor img = d.forward(t).contiguous();
      std::copy_n(img.data_ptr<float>(), b * kPix, out.data() + s * kPix);
    }
  }
  if (was_training) d.train();
  return out;
}

// ---- VaeModel ---------------------------------------------------------------------------------
struct VaeModel::Impl {
  EncoderConfig cfg;
  mutable Encoder enc{nullptr};
  mutable Decoder dec{nullptr};
  mutable std::mutex fold_mutex;
  mutable std::shared_ptr<const FoldedEncoder> fold;  ///< built at the first encode, dropped by encoder()

  std::shared_ptr<const FoldedEncoder> folded() const {
    std::lock_guard<std::mutex> lock(fold_mutex);
    if (!fold) fold = std::make_shared<const FoldedEncoder>(*enc, compute_device());
    return fold;
  }
};

VaeModel::VaeModel(const EncoderConfig& cfg) : impl_(std::make_unique<Impl>()) {
  cfg.validate();
  impl_->cfg = cfg;
  torch::manual_seed(static_cast<std::uint64_t>(cfg.seed));
  impl_->enc = Encoder(cfg);
  impl_->dec = Decoder(cfg);
  impl_->enc->eval();
  impl_->dec->eval();
}
VaeModel::~VaeModel() = default;
VaeModel::VaeModel(VaeModel&&) noexcept = default;
VaeModel& VaeModel::operator=(VaeModel&&) noexcept = default;

VaeModel VaeModel::load(const std::filesystem::path& model_dir) {
  const nlohmann::json sec = model_manifest_section(model_dir, "encoder");
  EncoderConfig cfg;
  try {
    cfg = detail::encoder_config_from_json(sec.at("config"));
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(model_files::manifest(model_dir).string() + ": encoder.config unreadable (" + e.what() + ")");
  }
  try {
    cfg.validate();
  } catch (const ConfigError& e) {
    throw ModelError(model_files::manifest(model_dir).string() + ": encoder.config invalid: " + e.what());
  }
  VaeModel m(cfg);
  load_module_weights(*m.impl_->enc, encoder_artifacts::encoder_weights(model_dir).string());
  load_module_weights(*m.impl_->dec, encoder_artifacts::decoder_weights(model_dir).string());
  m.impl_->enc->eval();
  m.impl_->dec->eval();
  return m;
}

const EncoderConfig& VaeModel::config() const { return impl_->cfg; }
int VaeModel::latent_dims() const { return impl_->cfg.latent_dims; }
EncodedBatch VaeModel::encode(const std::uint16_t* images, std::int64_t n, int batch_size) const {
  return encode_u16(*impl_->enc, impl_->folded().get(), images, n, impl_->cfg.normalization_clip,
                    batch_size > 0 ? batch_size : impl_->cfg.encode_batch_size);
}
EncodedBatch VaeModel::encode(const float* images, std::int64_t n, bool normalized, int batch_size) const {
  return encode_float(*impl_->enc, impl_->folded().get(), images, n, normalized, impl_->cfg.normalization_clip,
                      batch_size > 0 ? batch_size : impl_->cfg.encode_batch_size);
}
std::vector<float> VaeModel::decode(const float* z, std::int64_t n) const {
  return decode_latents(impl_->dec, z, n, impl_->cfg.latent_dims, impl_->cfg.encode_batch_size);
}
Encoder& VaeModel::encoder() const {
  std::lock_guard<std::mutex> lock(impl_->fold_mutex);
  impl_->fold.reset();  // the caller may change the weights: fold them again at the next encode
  return impl_->enc;
}
Decoder& VaeModel::decoder() const { return impl_->dec; }

// ---- files ------------------------------------------------------------------------------------
EncodingSet encode_glimpse_file(const VaeModel& model, const std::filesystem::path& glimpses,
                                const std::filesystem::path& out, const EncodeGlimpsesOptions& opts) {
  GlimpseReader reader(glimpses);
  EncodingSet set;
  set.latent_dims = model.latent_dims();
  set.glimpse_file = glimpses.string();
  const int d = set.latent_dims;
  // One trajectory -> its encodings (one per rotation). Runs on worker threads.
  auto encode_one = [&](const GlimpseTrajectory& tr) {
    std::vector<EncodedTrajectory> encoded;
    std::vector<float> norm, rotated;
    const std::int64_t frames = tr.num_frames();
    if (static_cast<std::int64_t>(tr.images.size()) != frames * kPix)
      throw DataError(glimpses.string() + ": trajectory " + std::to_string(tr.id) + ": images hold " +
                      std::to_string(tr.images.size()) + " values, expected " + std::to_string(frames * kPix));
    norm.resize(tr.images.size());
    normalize_images(tr.images.data(), norm.data(), frames, kGlimpseChannels, kGlimpseSize * kGlimpseSize,
                     model.config().normalization_clip);
    for (int r : opts.rotations) {
      const float* src = norm.data();
      if (((r % 4) + 4) % 4 != 0) {
        rotated.resize(norm.size());
        for (std::int64_t f = 0; f < frames; ++f)
          rot90(norm.data() + f * kPix, rotated.data() + f * kPix, kGlimpseChannels, kGlimpseSize, r);
        src = rotated.data();
      }
      EncodedBatch e = model.encode(src, frames, /*normalized=*/true, opts.batch_size);
      EncodedTrajectory et;
      et.id = tr.id;
      et.fate = tr.fate;
      et.cutoff = tr.cutoff;
      et.rotation = ((r % 4) + 4) % 4;
      et.movie = tr.movie;
      et.track_id = tr.track_id;
      et.z_mean = std::move(e.z_mean);
      et.z_log_var = std::move(e.z_log_var);
      if (static_cast<std::int64_t>(et.z_mean.size()) != frames * d) throw ModelError("encoding size mismatch");
      encoded.push_back(std::move(et));
    }
    return encoded;
  };
  // Chunks of trajectories are read in order, encoded by `workers` threads, appended in order.
  const int threads = at::get_num_threads();
  const int workers = std::max(1, opts.workers > 0 ? opts.workers : threads);
  const int intra = std::max(1, threads / workers);
  const std::size_t chunk = static_cast<std::size_t>(workers) * 8;
  struct RestoreThreads {
    int n;
    ~RestoreThreads() { at::set_num_threads(n); }
  } restore{threads};
  auto read_chunk = [&](std::size_t first) {
    const std::size_t n = std::min(chunk, reader.size() - first);
    std::vector<GlimpseTrajectory> trs;
    trs.reserve(n);
    for (std::size_t i = 0; i < n; ++i) trs.push_back(reader.read(first + i));
    return trs;
  };
  // The next chunk is read and decompressed on its own thread while this one is encoded. The
  // encoder threads make no HDF5 call, so the file is used by one thread at a time.
  std::future<std::vector<GlimpseTrajectory>> next;
  if (reader.size() > 0) next = std::async(std::launch::async, read_chunk, std::size_t{0});
  for (std::size_t first = 0; first < reader.size(); first += chunk) {
    std::vector<GlimpseTrajectory> trs = next.get();
    if (first + chunk < reader.size()) next = std::async(std::launch::async, read_chunk, first + chunk);
    const std::size_t n = trs.size();
    std::vector<std::vector<EncodedTrajectory>> done(n);
    parallel_for(
        static_cast<int>(n), workers, [&](int i) { done[static_cast<std::size_t>(i)] = encode_one(trs[static_cast<std::size_t>(i)]); },
        [&] { at::set_num_threads(intra); });  // each thread's OpenMP team size
    for (auto& v : done)
      for (auto& et : v) set.trajectories.push_back(std::move(et));
  }
  if (!out.empty()) write_encodings(out, set);
  return set;
}

PatchEncodings encode_patch_file(const VaeModel& model, const std::filesystem::path& patches, std::int64_t max_patches,
                                 int batch_size) {
  PatchReader reader(patches);
  std::int64_t n = static_cast<std::int64_t>(reader.size());
  if (max_patches > 0) n = std::min(n, max_patches);
  PatchEncodings out;
  out.enc.dims = model.latent_dims();
  constexpr std::int64_t kChunk = 4096;
  for (std::int64_t s = 0; s < n; s += kChunk) {
    const std::int64_t b = std::min(kChunk, n - s);
    PatchBatch pb = reader.read(static_cast<std::size_t>(s), static_cast<std::size_t>(b));
    if (static_cast<std::int64_t>(pb.images.size()) != b * kPix)
      throw DataError(patches.string() + ": patches [" + std::to_string(s) + ", " + std::to_string(s + b) +
                      "): unexpected image size");
    EncodedBatch e = model.encode(pb.images.data(), b, batch_size);
    out.enc.z_mean.insert(out.enc.z_mean.end(), e.z_mean.begin(), e.z_mean.end());
    out.enc.z_log_var.insert(out.enc.z_log_var.end(), e.z_log_var.begin(), e.z_log_var.end());
    out.types.insert(out.types.end(), pb.types.begin(), pb.types.end());
    for (auto& kv : pb.features) {
      auto& dst = out.features[kv.first];
      dst.insert(dst.end(), kv.second.begin(), kv.second.end());
    }
  }
  out.enc.n = n;
  return out;
}

}  // namespace taupe
