// PerturbContext (models, encodings, evaluation items, PC inputs, nuclear-size PC) and the
// batched PC-space prediction engine.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/rng.h"
#include "taupe/core/stats.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/encodings.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/encoder/encode.h"
#include "taupe/perturb/perturb.h"
#include "taupe/perturb/perturb_internal.h"
#include "taupe/projector/model_dir.h"
#include "taupe/temporal/sequence.h"

namespace taupe {

std::string to_string(Switch s) { return s == Switch::kNeighbours ? "switch-neighbours" : "switch-centre"; }

struct PerturbContext::Impl {
  ModelSet models;
  EncodingSet enc;
  std::filesystem::path glimpses, model_dir;
  std::string world;
  mutable std::unique_ptr<VaeModel> vae;
  std::vector<PerturbItem> items;
  std::vector<float> base_pc;
  std::vector<std::uint8_t> base_real;
  std::vector<PerturbItem> syn_items;
  std::vector<float> syn_pc;
  std::int64_t syn_per_model = -2;
  std::uint64_t syn_seed = 0;
  std::unique_ptr<NuclearPc> nuclear;
  RankShare share;

  explicit Impl(ModelSet m) : models(std::move(m)) {}
};

PerturbContext::PerturbContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PerturbContext::PerturbContext(PerturbContext&&) noexcept = default;
PerturbContext& PerturbContext::operator=(PerturbContext&&) noexcept = default;
PerturbContext::~PerturbContext() = default;

void PerturbContext::share_with(Cluster* cluster) { impl_->share.cluster = cluster; }
const RankShare& PerturbContext::share() const { return impl_->share; }

PerturbContext PerturbContext::load(const std::filesystem::path& model_dir, const std::filesystem::path& glimpses,
                                    const std::filesystem::path& encodings, const ModelSetOptions& opts) {
  ModelSet ms = ModelSet::load(model_dir, opts);
  EncodingSet enc = read_encodings(encodings);
  return from_parts(std::move(ms), std::move(enc), glimpses, model_dir);
}

PerturbContext PerturbContext::from_parts(ModelSet models, EncodingSet encodings,
                                          const std::filesystem::path& glimpses,
                                          const std::filesystem::path& model_dir) {
  auto impl = std::make_unique<Impl>(std::move(models));
  impl->enc = std::move(encodings);
  impl->glimpses = glimpses;
  impl->model_dir = model_dir;
  const ModelSet& ms = impl->models;
  if (impl->enc.latent_dims != ms.dims())
    throw DataError("encodings '" + impl->enc.glimpse_file + "': latent_dims " + std::to_string(impl->enc.latent_dims) +
                    " but the model set expects " + std::to_string(ms.dims()));
  // Lineage cluster of every glimpse trajectory: (movie, root track) numbered in order of appearance.
  std::unordered_map<std::int64_t, std::int64_t> cluster_of;
  if (!glimpses.empty()) {
    GlimpseReader reader(glimpses);
    impl->world = reader.file_info().world;
    std::map<std::pair<std::string, std::int64_t>, std::int64_t> key;
    for (const auto& gi : reader.infos()) {
      const auto k = key.try_emplace({gi.movie, gi.lineage}, static_cast<std::int64_t>(key.size())).first->second;
      cluster_of[gi.id] = k;
    }
  }
  // Evaluation items: rotation 0, labelled, held out by some model.
  std::vector<int> idx;
  for (std::size_t i = 0; i < impl->enc.trajectories.size(); ++i) {
    const auto& t = impl->enc.trajectories[i];
    if (t.rotation != 0) continue;
    const int c = fate_class(t.fate);
    if (c < 0) continue;
    const int m = ms.fold_of(t.id);
    if (m < 0 || m >= ms.num_models()) continue;
    idx.push_back(static_cast<int>(i));
  }
  std::sort(idx.begin(), idx.end(), [&](int a, int b) {
    const auto& ta = impl->enc.trajectories[static_cast<std::size_t>(a)];
    const auto& tb = impl->enc.trajectories[static_cast<std::size_t>(b)];
    const int ma = ms.fold_of(ta.id), mb = ms.fold_of(tb.id);
    return ma != mb ? ma < mb : ta.id < tb.id;
  });
  if (idx.empty())
    throw DataError("encodings '" + impl->enc.glimpse_file +
                    "': no labelled rotation-0 trajectory is held out by any model of the set (folds.csv ids do not "
                    "match the encodings)");
  const SequenceBatch b = build_inputs(impl->enc, idx, ms.max_len());
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const auto& t = impl->enc.trajectories[static_cast<std::size_t>(idx[k])];
    PerturbItem it;
    it.enc_index = idx[k];
    it.id = t.id;
    it.model = ms.fold_of(t.id);
    it.truth = b.labels[k];
    const auto cl = cluster_of.find(t.id);
    it.cluster = cl != cluster_of.end() ? cl->second : -1 - static_cast<std::int64_t>(k);
    impl->items.push_back(it);
  }
  impl->base_pc = ms.to_pc(b.x);
  impl->base_real = b.real;
  return PerturbContext(std::move(impl));
}

const ModelSet& PerturbContext::models() const { return impl_->models; }
const EncodingSet& PerturbContext::encodings() const { return impl_->enc; }
const std::string& PerturbContext::world() const { return impl_->world; }
void PerturbContext::forget_world() { impl_->world.clear(); }
const std::filesystem::path& PerturbContext::glimpses() const { return impl_->glimpses; }
const std::vector<PerturbItem>& PerturbContext::items() const { return impl_->items; }
const std::vector<float>& PerturbContext::base_pc() const { return impl_->base_pc; }
const std::vector<std::uint8_t>& PerturbContext::base_real() const { return impl_->base_real; }
const std::vector<float>& PerturbContext::synthetic_pc() const { return impl_->syn_pc; }

bool PerturbContext::has_vae() const {
  if (impl_->vae) return true;
  if (impl_->model_dir.empty()) return false;
  std::error_code ec;
  return std::filesystem::exists(encoder_artifacts::encoder_weights(impl_->model_dir), ec) &&
         std::filesystem::exists(encoder_artifacts::decoder_weights(impl_->model_dir), ec);
}

const VaeModel& PerturbContext::vae() const {
  if (!impl_->vae) {
    if (impl_->model_dir.empty()) throw ModelError("perturbation context has no model directory: no VAE to re-encode with");
    impl_->vae = std::make_unique<VaeModel>(VaeModel::load(impl_->model_dir));
  }
  return *impl_->vae;
}

const std::vector<PerturbItem>& PerturbContext::synthetic_items(std::int64_t per_model, std::uint64_t seed) {
  Impl& I = *impl_;
  if (I.syn_per_model == per_model && I.syn_seed == seed) return I.syn_items;
  I.syn_items.clear();
  I.syn_pc.clear();
  const ModelSet& ms = I.models;
  for (int m = 0; m < ms.num_models(); ++m) {
    std::vector<int> idx;
    for (const auto& it : I.items)
      if (it.model == m) idx.push_back(it.enc_index);
    if (idx.empty()) continue;
    const std::int64_t n = per_model < 0 ? static_cast<std::int64_t>(idx.size()) : per_model;
    if (n == 0) continue;
    const SequenceBatch b = build_synthetic(I.enc, idx, static_cast<int>(n), ms.config(), derive_seed(seed, 1000 + m));
    const auto pcs = ms.to_pc(b.x);
    I.syn_pc.insert(I.syn_pc.end(), pcs.begin(), pcs.end());
    for (int k = 0; k < b.n; ++k) {
      PerturbItem it;
      it.model = m;
      it.truth = 2;
      it.cluster = -1 - static_cast<std::int64_t>(I.items.size() + I.syn_items.size());
      I.syn_items.push_back(it);
    }
  }
  I.syn_per_model = per_model;
  I.syn_seed = seed;
  return I.syn_items;
}

const NuclearPc& PerturbContext::nuclear_pc() {
  Impl& I = *impl_;
  if (I.nuclear) return *I.nuclear;
  auto np = std::make_unique<NuclearPc>();
  const int D = I.models.dims();
  np->rho.assign(static_cast<std::size_t>(D), std::numeric_limits<double>::quiet_NaN());
  if (!I.glimpses.empty()) {
    GlimpseReader reader(I.glimpses);
    std::map<std::int64_t, std::size_t> by_id;
    for (std::size_t k = 0; k < reader.infos().size(); ++k) by_id[reader.infos()[k].id] = k;
    std::vector<float> raw;
    std::vector<double> area;
    for (const auto& it : I.items) {
      auto f = by_id.find(it.id);
      if (f == by_id.end()) continue;
      const GlimpseTrajectory g = reader.read(f->second);
      auto feat = g.features.find(np->feature);
      if (feat == g.features.end()) continue;
      const auto& t = I.enc.trajectories[static_cast<std::size_t>(it.enc_index)];
      const int T = std::min(t.num_frames(D), g.num_frames());
      const int last = std::min(T - 1, static_cast<int>(t.cutoff));
      for (int fr = 0; fr <= last; ++fr) {
        const float a = feat->second[static_cast<std::size_t>(fr)];
        if (!std::isfinite(a)) continue;
        raw.insert(raw.end(), t.z_mean.begin() + static_cast<std::ptrdiff_t>(fr) * D,
                   t.z_mean.begin() + static_cast<std::ptrdiff_t>(fr + 1) * D);
        area.push_back(a);
      }
    }
    if (area.size() >= 3) {
      const auto pcs = I.models.to_pc(raw);
      np->frames = static_cast<std::int64_t>(area.size());
      double best = -1;
      for (int p = 0; p < D; ++p) {
        std::vector<double> col(area.size());
        for (std::size_t k = 0; k < area.size(); ++k) col[k] = pcs[k * static_cast<std::size_t>(D) + static_cast<std::size_t>(p)];
        const double r = stats::spearman(col, area);
        np->rho[static_cast<std::size_t>(p)] = r;
        if (std::isfinite(r) && std::fabs(r) > best) best = std::fabs(r), np->pc = p;
      }
    }
  }
  I.nuclear = std::move(np);
  return *I.nuclear;
}

namespace perturb::detail {
std::vector<std::uint8_t> variant_prediction_buffer(const char* who, const ModelSet& models,
                                                    const std::vector<PerturbItem>& items, const std::vector<float>& pcs,
                                                    const std::vector<std::uint8_t>& real, int num_variants,
                                                    std::vector<float>* probs) {
  const std::size_t n = items.size();
  const int L = models.max_len(), D = models.dims();
  if (pcs.size() != n * static_cast<std::size_t>(L) * D || real.size() != n * static_cast<std::size_t>(L))
    throw DataError(std::string(who) + ": inputs do not match " + std::to_string(n) + " items of (" + std::to_string(L) +
                    ", " + std::to_string(D) + ")");
  std::vector<std::uint8_t> pred(static_cast<std::size_t>(num_variants) * n, 0);
  if (probs) probs->assign(pred.size() * 3, 0.f);
  return pred;
}
}  // namespace perturb::detail

std::vector<std::uint8_t> predict_variants(const ModelSet& models, const std::vector<PerturbItem>& items,
                                           const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                           int num_variants, const VariantFn& modify, std::int64_t memory_budget_mb,
                                           std::vector<float>* probs, const RankShare& share,
                                           std::vector<std::uint8_t>* raw_pred) {
  const std::int64_t n = static_cast<std::int64_t>(items.size());
  const int L = models.max_len(), D = models.dims();
  const std::size_t seq = static_cast<std::size_t>(L) * D;
  std::vector<std::uint8_t> pred =
      perturb::detail::variant_prediction_buffer("predict_variants", models, items, pcs, real, num_variants, probs);
  if (raw_pred) raw_pred->assign(pred.size(), 0);
  const std::int64_t rows_cap =
      std::max<std::int64_t>(1, memory_budget_mb * 1024 * 1024 / static_cast<std::int64_t>(seq * sizeof(float)));
  // Rows (variant, item) grouped by model.
  std::vector<std::vector<std::int64_t>> by_model(static_cast<std::size_t>(models.num_models()));
  for (std::int64_t i = 0; i < n; ++i) by_model[static_cast<std::size_t>(items[static_cast<std::size_t>(i)].model)].push_back(i);
  std::vector<float> buf;
  std::vector<std::uint8_t> mask;
  std::vector<std::pair<int, std::int64_t>> rows;
  for (int m = 0; m < models.num_models(); ++m) {
    const auto& mine = by_model[static_cast<std::size_t>(m)];
    if (mine.empty() || !share.owns_model(m)) continue;
    const std::int64_t total = static_cast<std::int64_t>(mine.size()) * num_variants;
    for (std::int64_t start = 0; start < total; start += rows_cap) {
      const std::int64_t cnt = std::min(rows_cap, total - start);
      buf.resize(static_cast<std::size_t>(cnt) * seq);
      mask.resize(static_cast<std::size_t>(cnt) * L);
      rows.clear();
      for (std::int64_t r = 0; r < cnt; ++r) {
        const std::int64_t g = start + r;
        const int v = static_cast<int>(g / static_cast<std::int64_t>(mine.size()));
        const std::int64_t i = mine[static_cast<std::size_t>(g % static_cast<std::int64_t>(mine.size()))];
        float* dst = buf.data() + static_cast<std::size_t>(r) * seq;
        std::copy(pcs.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * seq),
                  pcs.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i + 1) * seq), dst);
        modify(v, dst, real.data() + static_cast<std::size_t>(i) * L);
        std::copy(real.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i) * L),
                  real.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(i + 1) * L),
                  mask.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(r) * L));
        rows.emplace_back(v, i);
      }
      std::vector<float> ungated;
      const auto p = models.predict_pc(m, buf.data(), cnt, mask.data(), raw_pred ? &ungated : nullptr);
      for (std::int64_t r = 0; r < cnt; ++r) {
        const float* pr = p.data() + r * 3;
        const int best = stats::argmax(pr, 3);
        const std::size_t o = static_cast<std::size_t>(rows[static_cast<std::size_t>(r)].first) * n +
                              static_cast<std::size_t>(rows[static_cast<std::size_t>(r)].second);
        pred[o] = static_cast<std::uint8_t>(best);
        if (raw_pred) (*raw_pred)[o] = static_cast<std::uint8_t>(stats::argmax(ungated.data() + r * 3, 3));
        if (probs) std::copy(pr, pr + 3, probs->begin() + static_cast<std::ptrdiff_t>(o * 3));
      }
    }
  }
  share.merge(pred);  // the other ranks' models
  if (probs) share.merge(*probs);
  if (raw_pred) share.merge(*raw_pred);
  return pred;
}

std::vector<std::uint8_t> predict_pc_deltas_batched(const ModelSet& models, const std::vector<PerturbItem>& items,
                                                    const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                                    int num_variants, const PcDeltaFn& delta_fn,
                                                    std::int64_t memory_budget_mb, std::vector<float>* probs,
                                                    std::vector<std::uint8_t>* raw_pred, const RankShare& share) {
  const int L = models.max_len(), D = models.dims();
  std::vector<float> delta(static_cast<std::size_t>(L));
  const VariantFn apply = [&](int v, float* seq, const std::uint8_t* mask) {
    std::fill(delta.begin(), delta.end(), 0.f);
    const int p = delta_fn(v, seq, mask, delta.data());
    if (p < 0) return;
    if (p >= D) throw DataError("predict_pc_deltas: variant " + std::to_string(v) + " edits PC " + std::to_string(p) +
                                " of " + std::to_string(D));
    for (int t = 0; t < L; ++t) seq[static_cast<std::size_t>(t) * D + p] += delta[static_cast<std::size_t>(t)];
  };
  return predict_variants(models, items, pcs, real, num_variants, apply, memory_budget_mb, probs, share, raw_pred);
}

}  // namespace taupe
