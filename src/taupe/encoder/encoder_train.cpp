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

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/rng.h"
#include "taupe/encoder/config_json.h"
#include "taupe/encoder/normalize.h"
#include "taupe/encoder/patch_pipeline.h"
#include "taupe/encoder/vae.h"
#include "taupe/encoder/vae_loss.h"
#include "taupe/projector/model_dir.h"

namespace taupe {

std::filesystem::path encoder_checkpoint_path(const std::filesystem::path& work_dir) { return work_dir / "checkpoint.pt"; }
std::filesystem::path encoder_loss_csv_path(const std::filesystem::path& work_dir) { return work_dir / "loss.csv"; }

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

}  // namespace

std::string EncoderTrainResult::brief() const {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1);
  o << (completed ? "encoder trained: " : "encoder training stopped: ") << steps << "/" << total_steps << " steps on "
    << patches << " patches";
  if (resumed_from_step > 0) o << " (resumed at step " << resumed_from_step << ")";
  o << ", " << seconds << " s, " << std::setprecision(0) << images_per_second << " img/s; final loss "
    << std::setprecision(1) << final_loss << " (recon " << final_reconstruction << ", KL " << std::setprecision(2)
    << final_kl << ")";
  return o.str();
}

EncoderTrainResult train_encoder(const EncoderConfig& cfg, const EncoderTrainOptions& opts) {
  cfg.validate();
  const auto t0 = std::chrono::steady_clock::now();
  if (opts.model_dir.empty()) throw ConfigError("train encoder: no model directory given");
  const std::filesystem::path work = opts.work_dir.empty() ? opts.model_dir / "encoder_training" : opts.work_dir;
  std::filesystem::create_directories(work);
  std::filesystem::create_directories(opts.model_dir);
  remove_stale_temporaries(work);
  remove_stale_temporaries(opts.model_dir);

  std::shared_ptr<const PatchImages> images = opts.images;
  if (!images) images = std::make_shared<PatchImages>(load_patch_images(opts.patches, cfg.max_patches));

  PatchPipelineOptions po;
  po.batch_size = cfg.batch_size;
  po.augment_flips = cfg.augment_flips;
  po.augment_rot90 = cfg.augment_rot90;
  po.clip = cfg.normalization_clip;
  po.threads = cfg.loader_threads;
  po.prefetch = cfg.prefetch_batches;
  po.seed = derive_seed(static_cast<std::uint64_t>(cfg.seed), 1);
  PatchPipeline pipe(images, po);
  const std::int64_t per_epoch = pipe.batches_per_epoch();
  const std::int64_t total = per_epoch * cfg.epochs;
  const std::int64_t max_it = capacity_max_iterations(total, cfg.max_iterations_fraction);

  torch::manual_seed(static_cast<std::uint64_t>(cfg.seed));
  Encoder enc(cfg);
  Decoder dec(cfg);
  std::vector<torch::Tensor> params = enc->parameters();
  for (const auto& p : dec->parameters()) params.push_back(p);
  torch::optim::Adam opt(params, torch::optim::AdamOptions(cfg.learning_rate)
                                     .betas({cfg.adam_beta1, cfg.adam_beta2})
                                     .eps(cfg.adam_eps));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(derive_seed(static_cast<std::uint64_t>(cfg.seed), 2));

  EncoderTrainResult res;
  res.total_steps = total;
  res.patches = images->n;
  res.loss_csv = encoder_loss_csv_path(work);
  std::int64_t step = 0;
  std::vector<std::string> rows;
  const auto ckpt = encoder_checkpoint_path(work);
  if (opts.resume && std::filesystem::exists(ckpt)) {
    torch::serialize::InputArchive ar;
    try {
      ar.load_from(ckpt.string());
    } catch (const c10::Error& e) {
      throw ModelError(ckpt.string() + ": unreadable checkpoint (" + e.what_without_backtrace() + ")",
                       "delete it to start over");
    }
    const std::string f = ckpt.string();
    if (read_i64(ar, "meta/total_steps", f) != total || read_i64(ar, "meta/batches_per_epoch", f) != per_epoch ||
        read_i64(ar, "meta/patches", f) != images->n || read_i64(ar, "meta/seed", f) != cfg.seed)
      throw ModelError(f + ": checkpoint belongs to another configuration (patches, batch size, epochs or seed differ)",
                       "delete " + work.string() + " or train without resuming");
    step = read_i64(ar, "meta/step", f);
    torch::serialize::InputArchive ea, da, oa;
    ar.read("encoder", ea);
    ar.read("decoder", da);
    ar.read("optimizer", oa);
    torch::NoGradGuard ng;
    for (auto& kv : named_state(*enc)) {
      torch::Tensor t;
      if (!ea.try_read(kv.first, t) || t.sizes() != kv.second.sizes())
        throw ModelError(f + ": encoder tensor '" + kv.first + "' missing or of another shape");
      kv.second.copy_(t);
    }
    for (auto& kv : named_state(*dec)) {
      torch::Tensor t;
      if (!da.try_read(kv.first, t) || t.sizes() != kv.second.sizes())
        throw ModelError(f + ": decoder tensor '" + kv.first + "' missing or of another shape");
      kv.second.copy_(t);
    }
    opt.load(oa);
    torch::Tensor gs;
    ar.read("rng/generator", gs);
    gen.set_state(gs);
    rows = read_csv_rows(res.loss_csv, step);
    res.resumed_from_step = step;
  }

  // Fixed montage inputs: the first patches, normalised, not augmented.
  const int nm = static_cast<int>(std::min<std::int64_t>(cfg.montage_images, images->n));
  torch::Tensor montage_x = torch::empty({nm, 2, 64, 64});
  normalize_images(images->image(0), montage_x.data_ptr<float>(), nm, 2, 64 * 64, cfg.normalization_clip);

  auto save_checkpoint = [&]() {
    write_csv(res.loss_csv, rows);
    torch::serialize::OutputArchive ar, ea, da, oa;
    for (const auto& kv : named_state(*enc)) ea.write(kv.first, kv.second);
    for (const auto& kv : named_state(*dec)) da.write(kv.first, kv.second);
    opt.save(oa);
    ar.write("encoder", ea);
    ar.write("decoder", da);
    ar.write("optimizer", oa);
    ar.write("rng/generator", gen.get_state());
    ar.write("meta/step", scalar_i64(step));
    ar.write("meta/total_steps", scalar_i64(total));
    ar.write("meta/batches_per_epoch", scalar_i64(per_epoch));
    ar.write("meta/patches", scalar_i64(images->n));
    ar.write("meta/seed", scalar_i64(cfg.seed));
    write_atomic(ckpt, [&](const std::filesystem::path& tmp) { ar.save_to(tmp.string()); });
  };
  auto montage = [&](std::int64_t epoch) {
    torch::NoGradGuard ng;
    enc->eval();
    dec->eval();
    const torch::Tensor xh = dec(enc->forward_mean(montage_x).z_mean);
    char name[48];
    std::snprintf(name, sizeof name, "montage_epoch_%03lld.png", static_cast<long long>(epoch));
    res.last_montage = work / name;
    write_montage(res.last_montage, montage_x, xh);
    enc->train();
    dec->train();
  };

  enc->train();
  dec->train();
  pipe.start(step / per_epoch, step % per_epoch);
  const std::int64_t first_step = step;
  const auto tl = std::chrono::steady_clock::now();
  while (step < total) {
    if (opts.stop_after_step >= 0 && step >= opts.stop_after_step) break;
    ImageBatch b = pipe.next();
    torch::Tensor x = torch::from_blob(b.images.data(), {b.size, 2, 64, 64}, torch::kFloat32);
    x = cfg.channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x.clone();
    const double c = capacity_at(cfg.capacity, max_it, step);
    const EncoderOutput out = enc->forward_sampled(x, gen);
    const torch::Tensor xh = dec(out.z);
    const VaeLoss l = vae_loss(x, xh, out.z_mean, out.z_log_var, c, cfg.gamma);
    opt.zero_grad();
    l.total.backward();
    opt.step();
    const double lt = l.total.item<double>();
    if (!std::isfinite(lt))
      throw ModelError("encoder training diverged at step " + std::to_string(step) + " (loss " + fmt(lt) + ")",
                       "lower encoder.learning_rate");
    res.final_loss = lt;
    res.final_reconstruction = l.reconstruction.item<double>();
    res.final_kl = l.kl.item<double>();
    rows.push_back(std::to_string(step) + "," + std::to_string(step / per_epoch) + "," + fmt(lt) + "," +
                   fmt(res.final_reconstruction) + "," + fmt(res.final_kl) + "," + fmt(l.capacity_loss.item<double>()) +
                   "," + fmt(c));
    ++step;
    if (opts.on_step) opts.on_step(step, total, lt);
    if (step % per_epoch == 0) {
      montage(step / per_epoch - 1);
      save_checkpoint();
    }
  }
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - tl).count();
  res.steps = step;
  res.images_per_second = train_s > 0 ? static_cast<double>((step - first_step) * cfg.batch_size) / train_s : 0.0;
  res.completed = step >= total;
  if (res.completed) {
    enc->eval();
    dec->eval();
    save_module_weights(*enc, model_files::encoder(opts.model_dir).string());
    save_module_weights(*dec, model_files::decoder(opts.model_dir).string());
    nlohmann::json sec;
    sec["config"] = detail::encoder_config_to_json(cfg);
    sec["files"] = {{"encoder", "encoder.pt"}, {"decoder", "decoder.pt"}};
    sec["input_shape"] = {2, 64, 64};
    sec["latent_dims"] = cfg.latent_dims;
    const ParamCount pe = count_parameters(*enc), pd = count_parameters(*dec);
    sec["parameters"] = {{"encoder", pe.total}, {"encoder_trainable", pe.trainable}, {"decoder", pd.total}};
    sec["training"] = {{"patches_file", opts.patches.string()}, {"patches", images->n}, {"steps", step},
                       {"batches_per_epoch", per_epoch}, {"max_iterations", max_it},
                       {"final_loss", res.final_loss}, {"final_reconstruction", res.final_reconstruction},
                       {"final_kl", res.final_kl}, {"torch_version", TORCH_VERSION}};
    update_model_manifest(opts.model_dir, "encoder", sec);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace taupe
