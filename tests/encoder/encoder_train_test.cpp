// Encoder training: runs, logs every step, checkpoints every epoch, resumes (in-process stop and
// SIGKILL of a child process) to the same final step count and the same weights; model files
// load back; encode / decode API shapes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/core/signals.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/encoder_train.h"
#include "taupe/encoder/normalize.h"
#include "taupe/encoder/patch_pipeline.h"
#include "taupe/encoder/vae.h"
#include "taupe/projector/model_dir.h"

namespace taupe {
namespace {

#define EXPECT_THAT_STR(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "\"" << (text) << "\" lacks \"" << (part) << "\""

std::filesystem::path temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("taupe_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// Blobs of two sizes on a noisy background: something learnable, deterministic.
std::shared_ptr<PatchImages> blob_patches(std::int64_t n) {
  auto p = std::make_shared<PatchImages>();
  p->n = n;
  p->pixels.resize(static_cast<std::size_t>(n * PatchImages::kPixelsPerImage));
  for (std::int64_t k = 0; k < n; ++k) {
    const double r = 6.0 + 10.0 * ((k * 37) % 11) / 10.0;
    const int ch = static_cast<int>(k % 2);
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 64; ++i)
        for (int j = 0; j < 64; ++j) {
          const double d2 = (i - 32.0) * (i - 32.0) + (j - 30.0) * (j - 30.0);
          const double noise = static_cast<double>((k * 131 + i * 17 + j * 7 + c) % 23);
          const double v = 100.0 + noise + (c == ch && d2 < r * r ? 400.0 : 0.0);
          p->pixels[static_cast<std::size_t>(((k * 2 + c) * 64 + i) * 64 + j)] = static_cast<std::uint16_t>(v);
        }
  }
  return p;
}

EncoderConfig small_config(int epochs) {
  EncoderConfig cfg;
  cfg.layers = {4, 8};
  cfg.intermediate_dims = 16;
  cfg.latent_dims = 4;
  cfg.batch_size = 8;
  cfg.epochs = epochs;
  cfg.capacity = 5;
  cfg.gamma = 10;
  cfg.montage_images = 6;
  cfg.seed = 3;
  return cfg;
}

std::vector<std::string> csv_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

TEST(EncoderTrain, TrainsLogsEveryStepAndWritesALoadableModel) {
  const auto dir = temp_dir("enc_train");
  EncoderTrainOptions o;
  o.images = blob_patches(40);
  o.model_dir = dir / "model";
  const EncoderConfig cfg = small_config(3);
  const EncoderTrainResult r = train_encoder(cfg, o);
  EXPECT_TRUE(r.completed);
  EXPECT_EQ(r.steps, 15);
  EXPECT_EQ(r.total_steps, 15);
  const auto lines = csv_lines(r.loss_csv);
  ASSERT_EQ(lines.size(), 16u);
  EXPECT_EQ(lines[0], "step,epoch,loss,reconstruction,kl,capacity_loss,capacity");
  EXPECT_EQ(lines[1].substr(0, 4), "0,0,");
  EXPECT_EQ(lines[15].substr(0, 5), "14,2,");
  // capacity column: C(0) = 0 ... C rises over int(15 * 0.9) = 13 steps to 5.
  EXPECT_EQ(lines[1].substr(lines[1].rfind(',') + 1), "0");
  EXPECT_EQ(lines[15].substr(lines[15].rfind(',') + 1), "5");
  for (int e = 0; e < 3; ++e)
    EXPECT_TRUE(std::filesystem::exists(dir / "model" / "encoder_training" / ("montage_epoch_00" + std::to_string(e) + ".png")));
  EXPECT_TRUE(std::filesystem::exists(encoder_artifacts::encoder_weights(o.model_dir)));
  const VaeModel m = VaeModel::load(o.model_dir);
  EXPECT_EQ(m.latent_dims(), 4);
  EXPECT_EQ(m.config().layers, (std::vector<int>{4, 8}));
  const EncodedBatch e = m.encode(o.images->pixels.data(), 5);
  EXPECT_EQ(e.z_mean.size(), 20u);
  EXPECT_EQ(e.z_log_var.size(), 20u);
  for (float v : e.z_log_var) EXPECT_GT(v, 0.0f);
  const std::vector<float> img = m.decode(e.z_mean.data(), 5);
  EXPECT_EQ(img.size(), 5u * 2 * 64 * 64);
  // Encoding is deterministic and batch-size independent.
  const EncodedBatch e1 = m.encode(o.images->pixels.data() + 2 * PatchImages::kPixelsPerImage, 1);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(e1.z_mean[k], e.z_mean[2 * 4 + k], 1e-4);
  std::filesystem::remove_all(dir);
}

torch::Tensor flat_weights(const std::filesystem::path& model_dir) {
  const VaeModel m = VaeModel::load(model_dir);
  std::vector<torch::Tensor> ps;
  for (const auto& kv : named_state(*m.encoder())) ps.push_back(kv.second.flatten().to(torch::kFloat64));
  return torch::cat(ps);
}

TEST(EncoderTrain, StopAndResumeGivesTheSameStepsAndWeights) {
  const auto dir = temp_dir("enc_resume");
  const auto images = blob_patches(40);
  const EncoderConfig cfg = small_config(3);
  EncoderTrainOptions full;
  full.images = images;
  full.model_dir = dir / "full";
  train_encoder(cfg, full);

  EncoderTrainOptions part = full;
  part.model_dir = dir / "part";
  part.stop_after_step = 8;   // "killed" mid-epoch 1: checkpoint holds step 5
  const EncoderTrainResult r1 = train_encoder(cfg, part);
  EXPECT_FALSE(r1.completed);
  EXPECT_FALSE(std::filesystem::exists(encoder_artifacts::encoder_weights(part.model_dir)));
  part.stop_after_step = -1;
  const EncoderTrainResult r2 = train_encoder(cfg, part);
  EXPECT_TRUE(r2.completed);
  EXPECT_EQ(r2.resumed_from_step, 5);
  EXPECT_EQ(r2.steps, 15);
  EXPECT_EQ(csv_lines(r2.loss_csv).size(), 16u);
  EXPECT_TRUE(torch::allclose(flat_weights(full.model_dir), flat_weights(part.model_dir), 1e-5, 1e-6));
  // A checkpoint of another configuration is refused with a clear error.
  EncoderConfig other = cfg;
  other.epochs = 4;
  EXPECT_THROW(train_encoder(other, part), ModelError);
  std::filesystem::remove_all(dir);
}

TEST(EncoderTrain, StopRequestCheckpointsMidEpochAndResumesToTheSameWeights) {
  const auto dir = temp_dir("enc_stop");
  const auto images = blob_patches(40);
  const EncoderConfig cfg = small_config(3);  // 5 steps per epoch
  EncoderTrainOptions full;
  full.images = images;
  full.model_dir = dir / "full";
  train_encoder(cfg, full);

  EncoderTrainOptions part = full;
  part.model_dir = dir / "part";
  part.on_step = [](std::int64_t step, std::int64_t, double) {
    if (step == 7) request_stop(SIGTERM);  // as the SIGTERM handler does, mid-epoch 1
  };
  try {
    train_encoder(cfg, part);
    clear_stop_request();
    FAIL() << "training did not stop";
  } catch (const Interrupted& e) {
    clear_stop_request();
    EXPECT_EQ(e.exit_code(), 143);
    EXPECT_THAT_STR(e.what(), "encoder checkpoint saved at step 7 of 15");
  }
  EXPECT_FALSE(std::filesystem::exists(encoder_artifacts::encoder_weights(part.model_dir)));
  part.on_step = nullptr;
  const EncoderTrainResult r = train_encoder(cfg, part);
  EXPECT_TRUE(r.completed);
  EXPECT_EQ(r.resumed_from_step, 7);
  EXPECT_EQ(csv_lines(r.loss_csv).size(), 16u);
  EXPECT_TRUE(torch::equal(flat_weights(full.model_dir), flat_weights(part.model_dir)));
  std::filesystem::remove_all(dir);
}

TEST(EncoderTrain, DivergingLossStopsTrainingNamingTheStepAndCheckpoint) {
  const auto dir = temp_dir("enc_nan");
  // An absurd learning rate: the first optimiser step throws every weight to ~1e30, so the
  // second step's loss overflows to Inf / NaN. The guard stops before applying it.
  EncoderConfig cfg = small_config(3);
  cfg.learning_rate = 1e30;
  EncoderTrainOptions o;
  o.images = blob_patches(40);
  o.model_dir = dir / "model";
  try {
    train_encoder(cfg, o);
    FAIL() << "diverging training was not stopped";
  } catch (const ModelError& e) {
    EXPECT_THAT_STR(e.what(), "encoder training: loss is ");
    EXPECT_THAT_STR(e.what(), " at step 1;");
    EXPECT_THAT_STR(e.what(), "last good checkpoint: none yet");
    EXPECT_THAT_STR(e.hint(), "encoder.learning_rate");
  }
  EXPECT_FALSE(std::filesystem::exists(encoder_artifacts::encoder_weights(o.model_dir)));  // nothing non-finite saved
  std::filesystem::remove_all(dir);
}

TEST(EncoderTrain, DataParallelReplicasAreDeterministicAndCheckedOnResume) {
  const auto dir = temp_dir("enc_replicas");
  const auto images = blob_patches(40);
  EncoderConfig cfg = small_config(2);
  cfg.replicas = 3;  // uneven shards of the batch of 8: 2, 3, 3
  EncoderTrainOptions a;
  a.images = images;
  a.model_dir = dir / "a";
  EncoderTrainOptions b = a;
  b.model_dir = dir / "b";
  const EncoderTrainResult ra = train_encoder(cfg, a);
  train_encoder(cfg, b);
  EXPECT_TRUE(ra.completed);
  EXPECT_TRUE(std::isfinite(ra.final_loss));
  EXPECT_TRUE(torch::equal(flat_weights(a.model_dir), flat_weights(b.model_dir)));  // same seed, same bits
  // The trained model moved away from its initialisation (gradients reached replica 0).
  EncoderConfig c1 = cfg;
  c1.replicas = 1;
  EncoderTrainOptions one = a;
  one.model_dir = dir / "one";
  train_encoder(c1, one);
  EXPECT_FALSE(torch::allclose(flat_weights(a.model_dir), flat_weights(one.model_dir)));
  // A checkpoint written with 3 replicas is refused by a run with 1, naming the setting.
  EncoderTrainOptions part = a;
  part.model_dir = dir / "part";
  part.stop_after_step = 7;
  train_encoder(cfg, part);
  part.stop_after_step = -1;
  try {
    train_encoder(c1, part);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.replicas"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(EncoderTrain, BatchStatisticsModeRecalibratesMovingStatisticsAfterTraining) {
  const auto dir = temp_dir("enc_bnrecal");
  EncoderConfig cfg = small_config(2);
  cfg.batchnorm = "batch";
  cfg.bn_recalibration_batches = 5;
  EncoderTrainOptions o;
  o.images = blob_patches(40);
  o.model_dir = dir / "model";
  train_encoder(cfg, o);
  const VaeModel m = VaeModel::load(o.model_dir);
  // After 10 steps at momentum 0.01 the running variance would still be ~90 % its initial 1; the
  // recalibrated statistics are the plain average of 5 batches: the first block's statistics
  // equal those of its conv output on the training images (up to augmentation).
  ConvBlock cb = m.encoder()->blocks[0];
  const torch::Tensor rm = cb->bn->running_mean.clone();
  const torch::Tensor rv = cb->bn->running_var.clone();
  EXPECT_GT((rv - 1.0).abs().max().item<double>(), 0.2);  // no longer the initial variance 1
  torch::NoGradGuard ng;
  torch::Tensor x = torch::empty({40, 2, 64, 64});
  normalize_images(o.images->image(0), x.data_ptr<float>(), 40, 2, 64 * 64, cfg.normalization_clip);
  const torch::Tensor h = cb->conv->forward(x);  // (40, C, 64, 64)
  const torch::Tensor mean = h.mean({0, 2, 3});
  EXPECT_TRUE(torch::allclose(rm, mean, 0.1, 0.1)) << rm << mean;
  EXPECT_TRUE(torch::allclose(rv, h.var({0, 2, 3}), 0.2, 0.2)) << rv << h.var({0, 2, 3});
  std::filesystem::remove_all(dir);
}

// Child half of the SIGKILL test: runs only when the parent sets TAUPE_ENC_CHILD_DIR.
TEST(EncoderTrainChild, Run) {
  const char* dir = std::getenv("TAUPE_ENC_CHILD_DIR");
  if (!dir) GTEST_SKIP() << "child process of EncoderTrain.SigkillThenRerunResumes";
  EncoderTrainOptions o;
  o.images = blob_patches(80);
  o.model_dir = dir;
  train_encoder(small_config(8), o);
}

TEST(EncoderTrain, SigkillThenRerunResumesFromTheLastCheckpoint) {
  const auto dir = temp_dir("enc_kill");
  const auto model = dir / "model";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("TAUPE_ENC_CHILD_DIR", model.c_str(), 1);
    execl("/proc/self/exe", "child", "--gtest_filter=EncoderTrainChild.Run", static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto ckpt = encoder_artifacts::checkpoint(model / "encoder_training");
  const auto t0 = std::chrono::steady_clock::now();
  while (!std::filesystem::exists(ckpt) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(std::filesystem::exists(ckpt)) << "child wrote no checkpoint";
  std::this_thread::sleep_for(std::chrono::milliseconds(10));    // into epoch 1 (10 steps each)
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child finished before it was killed";
  EXPECT_FALSE(std::filesystem::exists(encoder_artifacts::encoder_weights(model)));

  EncoderTrainOptions o;
  o.images = blob_patches(80);
  o.model_dir = model;
  const EncoderTrainResult r = train_encoder(small_config(8), o);
  EXPECT_TRUE(r.completed);
  EXPECT_GT(r.resumed_from_step, 0);
  EXPECT_EQ(r.resumed_from_step % 10, 0);
  EXPECT_EQ(r.steps, 80);
  const auto lines = csv_lines(r.loss_csv);
  ASSERT_EQ(lines.size(), 81u);
  for (std::size_t i = 1; i < lines.size(); ++i)
    ASSERT_EQ(std::stoll(lines[i].substr(0, lines[i].find(','))), static_cast<long long>(i - 1));
  // No temporary leftovers, every final file readable.
  for (const auto& d : {model, model / "encoder_training"})
    for (const auto& f : std::filesystem::directory_iterator(d))
      EXPECT_EQ(f.path().filename().string().find(".tmp."), std::string::npos) << f.path();
  EXPECT_NO_THROW(VaeModel::load(model));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace taupe
