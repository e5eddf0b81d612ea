// Trim / pad / jitter / crop, synthetic random walks and training batches (reference §5.7, §6).
#include "taupe/temporal/sequence.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "taupe/core/errors.h"

namespace taupe {

int fate_class(Fate f) {
  switch (f) {
    case Fate::kMitosis: return static_cast<int>(FateClass::kMitosis);
    case Fate::kApoptosis: return static_cast<int>(FateClass::kApoptosis);
    default: return -1;
  }
}

namespace {
Sequence padding_sequence(int max_len, int dims) {
  Sequence s;
  s.max_len = max_len;
  s.dims = dims;
  s.mean.assign(static_cast<std::size_t>(max_len) * dims, kPadMean);
  s.log_var.assign(static_cast<std::size_t>(max_len) * dims, kPadLogVar);
  s.real.assign(static_cast<std::size_t>(max_len), 0);
  return s;
}
}  // namespace

Sequence trim_sequence(const float* mean, const float* log_var, int num_frames, int dims, int cutoff,
                       int max_len) {
  if (num_frames <= 0) throw DataError("trim_sequence: trajectory has no frames");
  Sequence s = padding_sequence(max_len, dims);
  const int last = std::clamp(cutoff, 0, num_frames - 1);  // frames 0..last inclusive
  const int kept = std::min(last + 1, max_len);
  const int first = last + 1 - kept;                       // keep the last `kept` of them
  const int offset = max_len - kept;                       // pre-pad
  for (int i = 0; i < kept; ++i) {
    const std::size_t src = static_cast<std::size_t>(first + i) * dims;
    const std::size_t dst = static_cast<std::size_t>(offset + i) * dims;
    std::copy(mean + src, mean + src + dims, s.mean.begin() + dst);
    std::copy(log_var + src, log_var + src + dims, s.log_var.begin() + dst);
    s.real[offset + i] = 1;
  }
  return s;
}

Sequence trim_sequence(const EncodedTrajectory& t, int dims, int cutoff, int max_len) {
  if (t.z_mean.size() != t.z_log_var.size() || t.z_mean.size() % dims != 0)
    throw DataError("trajectory " + std::to_string(t.id) + ": z_mean/z_log_var sizes " +
                    std::to_string(t.z_mean.size()) + "/" + std::to_string(t.z_log_var.size()) +
                    " are not (T, " + std::to_string(dims) + ")");
  return trim_sequence(t.z_mean.data(), t.z_log_var.data(), t.num_frames(dims), dims, cutoff, max_len);
}

int jitter_cutoff(int cutoff, int jitter, Rng& rng) {
  if (jitter <= 0) return std::max(0, cutoff);
  return std::max(0, cutoff - static_cast<int>(rng.integer(0, jitter)));
}

void crop_sequence(Sequence& s, int r) {
  r = std::clamp(r, 0, s.max_len);
  std::fill(s.mean.begin(), s.mean.begin() + static_cast<std::ptrdiff_t>(r) * s.dims, kPadMean);
  std::fill(s.log_var.begin(), s.log_var.begin() + static_cast<std::ptrdiff_t>(r) * s.dims, kPadLogVar);
  std::fill(s.real.begin(), s.real.begin() + r, 0);
}

int random_crop(Sequence& s, double crop_prob, int crop_max, Rng& rng) {
  if (!rng.bernoulli(crop_prob)) return 0;
  const int r = static_cast<int>(rng.integer(1, std::max(1, crop_max)));
  crop_sequence(s, r);
  return r;
}

Walk random_walk(const float* init_mean, const float* init_log_var, int dims, int length, double noise,
                 Rng& rng) {
  Walk w;
  w.mean.assign(static_cast<std::size_t>(length) * dims, 0.0f);
  w.log_var.assign(static_cast<std::size_t>(length) * dims, kPadLogVar);
  if (length <= 0) return w;
  std::vector<double> cur(init_mean, init_mean + dims);
  for (int d = 0; d < dims; ++d) {
    w.mean[d] = init_mean[d];
    w.log_var[d] = init_log_var[d];
  }
  for (int t = 1; t < length; ++t)
    for (int d = 0; d < dims; ++d) {
      cur[d] += noise * rng.normal();
      w.mean[static_cast<std::size_t>(t) * dims + d] = static_cast<float>(cur[d]);
    }
  return w;
}

Sequence synthetic_sequence(const EncodingSet& set, const std::vector<std::vector<int>>& by_class,
                            const TemporalConfig& cfg, Rng& rng) {
  std::vector<int> classes;
  for (std::size_t c = 0; c < by_class.size(); ++c)
    if (!by_class[c].empty()) classes.push_back(static_cast<int>(c));
  if (classes.empty()) throw DataError("synthetic trajectories: no real trajectory to start from");
  const int dims = set.latent_dims;
  const auto& cls = by_class[classes[rng.integer(0, static_cast<std::int64_t>(classes.size()) - 1)]];
  const auto& t = set.trajectories[cls[rng.integer(0, static_cast<std::int64_t>(cls.size()) - 1)]];
  const int frames = t.num_frames(dims);
  if (frames <= 0) throw DataError("trajectory " + std::to_string(t.id) + " has no frames");
  auto step_sd = [&] {
    if (cfg.synthetic_noise_min <= 0 || cfg.synthetic_noise_min >= cfg.synthetic_noise) return cfg.synthetic_noise;
    return std::exp(std::log(cfg.synthetic_noise_min) +
                    rng.uniform() * (std::log(cfg.synthetic_noise) - std::log(cfg.synthetic_noise_min)));
  };
  if (cfg.synthetic_base == "trajectory") {
    // The real trajectory (exact cutoff) plus a random walk that starts at 0 on its first kept
    // frame: the frames keep their own frame-to-frame variation, the walk carries them away.
    const double noise = step_sd();
    Sequence s = trim_sequence(t, dims, t.cutoff, cfg.max_len);
    const int first = static_cast<int>(std::find(s.real.begin(), s.real.end(), 1) - s.real.begin());
    const std::vector<float> origin(static_cast<std::size_t>(dims), 0.0f);
    const Walk w = random_walk(origin.data(), origin.data(), dims, cfg.max_len - first, noise, rng);
    for (std::size_t i = 0; i < w.mean.size(); ++i) {
      s.mean[static_cast<std::size_t>(first) * dims + i] += w.mean[i];
      s.log_var[static_cast<std::size_t>(first) * dims + i] = kPadLogVar;
    }
    return s;
  }
  const int f = static_cast<int>(rng.integer(0, frames - 1));  // any frame, also after the cutoff
  const std::size_t at = static_cast<std::size_t>(f) * dims;
  const int length = cfg.max_len + cfg.synthetic_extra_frames;
  const double noise = step_sd();
  Walk w = random_walk(t.z_mean.data() + at, t.z_log_var.data() + at, dims, length, noise, rng);
  Sequence s = trim_sequence(w.mean.data(), w.log_var.data(), length, dims, cfg.max_len, cfg.max_len);
  if (cfg.synthetic_length == "real") {
    // As many walk frames as the source trajectory has real frames after trimming at its cutoff;
    // the walk keeps its most recent frames, the earlier ones become padding.
    const int real_frames = std::min(std::clamp(t.cutoff, 0, frames - 1) + 1, cfg.max_len);
    crop_sequence(s, cfg.max_len - real_frames);
  }
  return s;
}

namespace {
void append(SequenceBatch& b, const Sequence& s, int label, std::int64_t source, bool sample,
            double posterior_noise, Rng* rng) {
  const std::size_t base = b.x.size();
  b.x.resize(base + s.mean.size());
  if (sample && rng) {
    for (std::size_t i = 0; i < s.mean.size(); ++i)
      b.x[base + i] = static_cast<float>(s.mean[i] + std::exp(0.5 * s.log_var[i]) * rng->normal() * posterior_noise);
  } else {
    std::copy(s.mean.begin(), s.mean.end(), b.x.begin() + static_cast<std::ptrdiff_t>(base));
  }
  b.real.insert(b.real.end(), s.real.begin(), s.real.end());
  b.labels.push_back(label);
  b.source.push_back(source);
  b.n += 1;
}
SequenceBatch empty_batch(int max_len, int dims) {
  SequenceBatch b;
  b.max_len = max_len;
  b.dims = dims;
  return b;
}
std::vector<std::vector<int>> split_by_class(const EncodingSet& set, const std::vector<int>& indices) {
  std::vector<std::vector<int>> by(2);
  for (int i : indices) {
    if (i < 0 || i >= static_cast<int>(set.trajectories.size()))
      throw DataError("trajectory index " + std::to_string(i) + " out of range");
    const int c = fate_class(set.trajectories[i].fate);
    if (c >= 0) by[c].push_back(i);
  }
  return by;
}
}  // namespace

SequenceBatch build_inputs(const EncodingSet& set, const std::vector<int>& indices, int max_len) {
  SequenceBatch b = empty_batch(max_len, set.latent_dims);
  b.x.reserve(indices.size() * static_cast<std::size_t>(max_len) * set.latent_dims);
  for (int i : indices) {
    if (i < 0 || i >= static_cast<int>(set.trajectories.size()))
      throw DataError("trajectory index " + std::to_string(i) + " out of range");
    const auto& t = set.trajectories[i];
    append(b, trim_sequence(t, set.latent_dims, t.cutoff, max_len), fate_class(t.fate), i, false, 0, nullptr);
  }
  return b;
}

SequenceBatch build_synthetic(const EncodingSet& set, const std::vector<int>& indices, int n,
                              const TemporalConfig& cfg, std::uint64_t seed) {
  SequenceBatch b = empty_batch(cfg.max_len, set.latent_dims);
  const auto by = split_by_class(set, indices);
  TemporalConfig test_cfg = cfg;
  test_cfg.synthetic_noise_min = 0;  // held-out walks: the reference step sd only
  for (int i = 0; i < n; ++i) {
    Rng rng(derive_seed(seed, static_cast<std::uint64_t>(i)));
    append(b, synthetic_sequence(set, by, test_cfg, rng), static_cast<int>(FateClass::kSynthetic), -1, false, 0,
           nullptr);
  }
  return b;
}

BatchSampler::BatchSampler(const EncodingSet& set, std::vector<int> indices, const TemporalConfig& cfg,
                           std::uint64_t seed)
    : set_(&set), cfg_(cfg), seed_(seed), by_class_(split_by_class(set, indices)) {
  for (int c = 0; c < 2; ++c)
    if (by_class_[c].empty())
      throw DataError(std::string("training set has no ") + kClassNames[c] +
                      " trajectory: every class needs at least one");
}

SequenceBatch BatchSampler::batch(std::int64_t step) const {
  Rng rng(derive_seed(seed_, static_cast<std::uint64_t>(step)));
  SequenceBatch b = empty_batch(cfg_.max_len, set_->latent_dims);
  b.x.reserve(static_cast<std::size_t>(cfg_.batch_size) * cfg_.max_len * set_->latent_dims);
  for (int i = 0; i < cfg_.batch_size; ++i) {
    const int label = static_cast<int>(rng.integer(0, kNumClasses - 1));
    Sequence s;
    std::int64_t source = -1;
    if (label == static_cast<int>(FateClass::kSynthetic)) {
      s = synthetic_sequence(*set_, by_class_, cfg_, rng);
    } else {
      const auto& cls = by_class_[label];
      const int idx = cls[rng.integer(0, static_cast<std::int64_t>(cls.size()) - 1)];
      const auto& t = set_->trajectories[idx];
      s = trim_sequence(t, set_->latent_dims, jitter_cutoff(t.cutoff, cfg_.cutoff_jitter, rng), cfg_.max_len);
      source = idx;
    }
    random_crop(s, cfg_.crop_prob, cfg_.crop_max, rng);
    append(b, s, label, source, cfg_.use_probabilistic_encoder, cfg_.posterior_noise, &rng);
  }
  return b;
}

}  // namespace taupe
