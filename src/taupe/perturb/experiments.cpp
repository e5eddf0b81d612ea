// The experiments: image-space switching / shrinking (re-encoded), PC shift / ablate / window
// (stored encodings in PC space), verdicts and run_all.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/parallel.h"
#include "taupe/core/progress.h"
#include "taupe/core/rng.h"
#include "taupe/core/runtime.h"
#include "taupe/core/stats.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/encodings.h"
#include "taupe/encoder/encode.h"
#include "taupe/perturb/artifacts.h"
#include "taupe/perturb/image_ops.h"
#include "taupe/perturb/perturb.h"
#include "taupe/perturb/perturb_internal.h"
#include "taupe/temporal/sequence.h"

namespace taupe {

using namespace perturb;
using perturb::detail::fractions_of;
using perturb::detail::make_strata;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<int> argmax_rows(const std::vector<float>& probs) {
  std::vector<int> out(probs.size() / 3);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = stats::argmax(probs.data() + i * 3, 3);
  return out;
}

/// Unperturbed predictions of the context's real items (cached per context address is not worth it).
std::vector<int> base_predictions(PerturbContext& ctx, std::int64_t budget) {
  const auto p = predict_variants(ctx.models(), ctx.items(), ctx.base_pc(), ctx.base_real(), 1,
                                  [](int, float*, const std::uint8_t*) {}, budget, nullptr, ctx.share());
  return std::vector<int>(p.begin(), p.end());
}

std::vector<int> synthetic_predictions(PerturbContext& ctx, const PerturbConfig& cfg) {
  const auto& syn = ctx.synthetic_items(cfg.synthetic_per_model, static_cast<std::uint64_t>(cfg.seed));
  if (syn.empty()) return {};
  std::vector<std::uint8_t> real(syn.size() * static_cast<std::size_t>(ctx.models().max_len()), 1);
  const auto p = predict_variants(ctx.models(), syn, ctx.synthetic_pc(), real, 1,
                                  [](int, float*, const std::uint8_t*) {}, cfg.memory_budget_mb, nullptr, ctx.share());
  return std::vector<int>(p.begin(), p.end());
}

// ---- image-space experiments --------------------------------------------------------------
struct Condition {
  enum Kind { kNormalised, kNeighbours, kCentre, kShrink } kind = kNormalised;
  double factor = 1.0;
};

struct ImageRun {
  std::vector<int> subset;                ///< indices into ctx.items()
  std::vector<std::vector<int>> pred;     ///< condition -> (subset) predicted class (typicality gate applied)
  std::vector<std::vector<int>> pred_raw; ///< condition -> (subset) the TCN's own class (no gate)
  std::vector<std::vector<double>> p_apoptosis;      ///< condition -> (subset) P(apoptosis), gate applied
  std::vector<std::vector<double>> p_apoptosis_raw;  ///< condition -> (subset) P(apoptosis) of the TCN alone
  std::vector<double> pc_change;          ///< condition -> mean change of `pc` coordinate (shrink)
  std::vector<double> area_ratio;         ///< condition -> mean central area after / before (shrink)
  std::int64_t frames = 0;
  double encode_seconds = 0;
  std::vector<std::string> examples;
};

std::vector<int> choose_subset(const PerturbContext& ctx, const PerturbConfig& cfg) {
  const auto& items = ctx.items();
  const int M = ctx.models().num_models();
  std::vector<int> out;
  for (int m = 0; m < M; ++m) {
    std::vector<int> mine;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].model == m) mine.push_back(static_cast<int>(i));
    if (cfg.max_image_trajectories > 0 && static_cast<std::int64_t>(mine.size()) > cfg.max_image_trajectories) {
      Rng rng(derive_seed(static_cast<std::uint64_t>(cfg.seed), 2000 + m));
      for (std::size_t k = mine.size(); k > 1; --k)
        std::swap(mine[k - 1], mine[static_cast<std::size_t>(rng.integer(0, static_cast<std::int64_t>(k) - 1))]);
      mine.resize(static_cast<std::size_t>(cfg.max_image_trajectories));
      std::sort(mine.begin(), mine.end());
    }
    out.insert(out.end(), mine.begin(), mine.end());
  }
  return out;
}

report::Image render_std(const float* img) { return render_glimpse(img, kGlimpseSize, 0.f, 0.f); }

/// Positions in `subset` of the example trajectories: apoptosis and mitosis alternately, the first
/// of each class not yet taken, up to cfg.example_count.
std::vector<int> choose_examples(const std::vector<PerturbItem>& items, const std::vector<int>& subset,
                                 const PerturbConfig& cfg, const RankShare& share) {
  std::vector<int> example_pos;
  for (int want : {1, 0, 1, 0, 1, 0}) {
    for (std::size_t k = 0; k < subset.size(); ++k) {
      const PerturbItem& it = items[static_cast<std::size_t>(subset[k])];
      if (it.truth != want || !share.owns_model(it.model)) continue;
      if (std::find(example_pos.begin(), example_pos.end(), static_cast<int>(k)) != example_pos.end()) continue;
      example_pos.push_back(static_cast<int>(k));
      break;
    }
    if (static_cast<int>(example_pos.size()) >= cfg.example_count) break;
  }
  return example_pos;
}

/// The frames of one trajectory that the image-space experiments perturb: its glimpses and the
/// window of up to L frames that ends at the cutoff.
struct TrajectoryWindow {
  GlimpseTrajectory g;
  int start = 0, nf = 0;
  std::vector<float> base_raw;  ///< (nf, D) stored encodings of the window's frames
};

constexpr std::size_t kGlimpsePixels = static_cast<std::size_t>(kGlimpseSize) * kGlimpseSize;
constexpr std::size_t kGlimpseFloats = kGlimpsePixels * kGlimpseChannels;

/// Where the image-space experiments write an example panel: a directory, the experiment's name
/// (file prefix) and the condition shown (-1: none).
struct ExampleSpec {
  const std::filesystem::path& dir;
  const std::string& name;
  int cond = -1;
};

/// The image-space conditions over the chosen trajectories: per trajectory its glimpses are
/// perturbed per condition and re-encoded; a model predicts its trajectories' sequences once all
/// of them are collected (items are grouped by model).
class ImageRunner {
 public:
  ImageRunner(PerturbContext& ctx, const PerturbConfig& cfg, const std::vector<Condition>& conds, int pc,
              const ExampleSpec& example)
      : ctx_(ctx), cfg_(cfg), conds_(conds), pc_(pc), example_(example), vae_(ctx.vae()), ms_(ctx.models()),
        L_(ms_.max_len()), D_(ms_.dims()), np_(norm_params(cfg)), reader_(ctx.glimpses()), share_(ctx.share()),
        threads_(std::max(1, runtime_info().threads)) {
    for (std::size_t k = 0; k < reader_.infos().size(); ++k) by_id_[reader_.infos()[k].id] = k;
  }

  ImageRun run() {
    const auto& items = ctx_.items();
    run_.subset = choose_subset(ctx_, cfg_);
    const std::size_t C = conds_.size();
    run_.pred.assign(C, std::vector<int>(run_.subset.size(), 0));
    run_.pred_raw = run_.pred;
    run_.p_apoptosis.assign(C, std::vector<double>(run_.subset.size(), 0.0));
    run_.p_apoptosis_raw = run_.p_apoptosis;
    run_.pc_change.assign(C, 0.0);
    run_.area_ratio.assign(C, 0.0);
    pc_frames_.assign(C, 0);
    if (!example_.dir.empty() && example_.cond >= 0) example_pos_ = choose_examples(items, run_.subset, cfg_, share_);
    Progress prog("perturb " + example_.name, static_cast<std::int64_t>(run_.subset.size()), "trajectories");
    raw_.assign(C, {});
    for (std::size_t k = 0; k < run_.subset.size(); ++k) {
      const PerturbItem& it = items[static_cast<std::size_t>(run_.subset[k])];
      if (it.model != cur_model_) flush(cur_model_), cur_model_ = it.model;
      if (share_.owns_model(it.model)) run_trajectory(k, it);  // another rank's model: its slots stay 0
      prog.tick();
    }
    flush(cur_model_);
    prog.finish();
    merge_ranks();
    const double nsub = std::max<double>(1.0, static_cast<double>(run_.subset.size()));
    for (std::size_t c = 0; c < C; ++c) {
      run_.area_ratio[c] /= nsub;
      run_.pc_change[c] = pc_frames_[c] > 0 ? run_.pc_change[c] / static_cast<double>(pc_frames_[c]) : kNaN;
    }
    return std::move(run_);
  }

 private:
  /// Multi-process: every rank's trajectories (each slot was filled by one rank) and sums.
  void merge_ranks() {
    if (!share_.distributed()) return;
    for (auto* v : {&run_.pred, &run_.pred_raw})
      for (auto& c : *v) share_.merge(c);
    for (auto* v : {&run_.p_apoptosis, &run_.p_apoptosis_raw})
      for (auto& c : *v) share_.merge(c);
    share_.merge(run_.pc_change);
    share_.merge(run_.area_ratio);
    share_.merge(pc_frames_);
    std::vector<std::int64_t> frames{run_.frames};
    share_.merge(frames);
    run_.frames = frames[0];
  }

  /// Predicts the pending trajectories of `model` under every condition.
  void flush(int model) {
    if (pending_.empty()) return;
    for (std::size_t c = 0; c < conds_.size(); ++c) {
      std::vector<float> ungated;
      const auto probs = ms_.predict(model, raw_[c].data(), static_cast<std::int64_t>(pending_.size()), &ungated);
      const auto am = argmax_rows(probs), am_raw = argmax_rows(ungated);
      for (std::size_t k = 0; k < pending_.size(); ++k) {
        run_.pred[c][pending_[k]] = am[k];
        run_.pred_raw[c][pending_[k]] = am_raw[k];
        run_.p_apoptosis[c][pending_[k]] = probs[k * 3 + 1];
        run_.p_apoptosis_raw[c][pending_[k]] = ungated[k * 3 + 1];
      }
      raw_[c].clear();
    }
    pending_.clear();
  }

  TrajectoryWindow window_of(const PerturbItem& it) const {
    auto f = by_id_.find(it.id);
    if (f == by_id_.end())
      throw DataError(ctx_.glimpses().string() + ": trajectory id " + std::to_string(it.id) +
                      " of the encodings is not in the glimpse file");
    TrajectoryWindow w;
    w.g = reader_.read(f->second);
    const auto& et = ctx_.encodings().trajectories[static_cast<std::size_t>(it.enc_index)];
    const int T = std::min(w.g.num_frames(), et.num_frames(D_));
    const int cutoff = std::min(static_cast<int>(et.cutoff), T - 1);
    w.start = std::max(0, cutoff - L_ + 1);
    w.nf = cutoff - w.start + 1;
    w.base_raw.assign(et.z_mean.begin() + static_cast<std::ptrdiff_t>(w.start) * D_,
                      et.z_mean.begin() + static_cast<std::ptrdiff_t>(cutoff + 1) * D_);
    return w;
  }

  /// The window's frames normalised, (nf, 2, S, S).
  std::vector<float> normalised_frames(const TrajectoryWindow& w) const {
    std::vector<float> normed(static_cast<std::size_t>(w.nf) * kGlimpseFloats);
    parallel_for(w.nf, threads_, [&](int fr) {
      const auto n = normalize_image(w.g.images.data() + static_cast<std::size_t>(w.start + fr) * kGlimpseFloats,
                                     kGlimpseChannels, kGlimpseSize, np_);
      std::copy(n.begin(), n.end(), normed.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(fr) * kGlimpseFloats));
    });
    return normed;
  }

  void run_trajectory(std::size_t k, const PerturbItem& it) {
    const TrajectoryWindow w = window_of(it);
    const int nf = w.nf;
    run_.frames += nf;
    // Base PC coordinates of these frames (stored encodings), for pc_change.
    std::vector<float> base_pcs;
    if (pc_ >= 0) base_pcs = ms_.to_pc(w.base_raw);
    std::vector<float> normed;  // shared by the switch conditions
    if (std::any_of(conds_.begin(), conds_.end(), [](const Condition& c) { return c.kind != Condition::kShrink; }))
      normed = normalised_frames(w);
    const bool is_example = std::find(example_pos_.begin(), example_pos_.end(), static_cast<int>(k)) != example_pos_.end();
    std::vector<float> example_perturbed;
    EncodedBatch example_enc;
    for (std::size_t c = 0; c < conds_.size(); ++c) {
      const bool shown = is_example && static_cast<int>(c) == example_.cond;
      const auto t0 = Clock::now();
      std::vector<float> imgs;
      const EncodedBatch enc = conds_[c].kind == Condition::kShrink ? encode_shrunk(w, c) : encode_switched(w, normed, c, imgs);
      if (shown && conds_[c].kind != Condition::kShrink) example_perturbed = std::move(imgs);
      run_.encode_seconds += since(t0);
      if (shown) example_enc = enc;
      const Sequence s = trim_sequence(enc.z_mean.data(), enc.z_log_var.data(), nf, D_, nf - 1, L_);
      raw_[c].insert(raw_[c].end(), s.mean.begin(), s.mean.end());
      if (pc_ >= 0) add_pc_change(c, enc, base_pcs, nf);
    }
    pending_.push_back(k);
    if (is_example && !example_perturbed.empty()) write_example(it, w, normed, example_perturbed, example_enc);
  }

  /// Condition c shrinks the central nucleus of every frame; accumulates the central area ratio.
  EncodedBatch encode_shrunk(const TrajectoryWindow& w, std::size_t c) {
    const int nf = w.nf;
    std::vector<std::uint16_t> imgs(static_cast<std::size_t>(nf) * kGlimpseFloats);
    double ratio = 0;
    for (int fr = 0; fr < nf; ++fr) {
      const std::size_t o = static_cast<std::size_t>(w.start + fr);
      const auto r = shrink_central(w.g.images.data() + o * kGlimpseFloats, w.g.masks.data() + o * kGlimpsePixels,
                                    kGlimpseChannels, kGlimpseSize, conds_[c].factor);
      std::copy(r.image.begin(), r.image.end(), imgs.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(fr) * kGlimpseFloats));
      ratio += r.area_before > 0 ? static_cast<double>(r.area_after) / static_cast<double>(r.area_before) : 1.0;
    }
    run_.area_ratio[c] += ratio / nf;
    return vae_.encode(imgs.data(), nf);
  }

  /// Condition c on the normalised frames: unchanged, or the neighbours' or the centre's channels
  /// switched; the perturbed frames are left in `imgs`.
  EncodedBatch encode_switched(const TrajectoryWindow& w, const std::vector<float>& normed, std::size_t c,
                               std::vector<float>& imgs) const {
    imgs = normed;
    if (conds_[c].kind != Condition::kNormalised) {
      const SwitchTarget target = conds_[c].kind == Condition::kNeighbours ? SwitchTarget::kNeighbours : SwitchTarget::kCentre;
      for (int fr = 0; fr < w.nf; ++fr)
        switch_channels(imgs.data() + static_cast<std::size_t>(fr) * kGlimpseFloats,
                        w.g.masks.data() + static_cast<std::size_t>(w.start + fr) * kGlimpsePixels, kGlimpseSize, target);
    }
    return vae_.encode(imgs.data(), w.nf, /*normalized=*/false);
  }

  /// Accumulates the change of PC pc_ under condition c over the window's frames.
  void add_pc_change(std::size_t c, const EncodedBatch& enc, const std::vector<float>& base_pcs, int nf) {
    const auto pcs = ms_.to_pc(enc.z_mean);
    double d = 0;
    for (int fr = 0; fr < nf; ++fr)
      d += pcs[static_cast<std::size_t>(fr) * D_ + static_cast<std::size_t>(pc_)] -
           base_pcs[static_cast<std::size_t>(fr) * D_ + static_cast<std::size_t>(pc_)];
    run_.pc_change[c] += d;
    pc_frames_[c] += nf;
  }

  /// The example panel of a trajectory's last frames: rows original, reconstruction, mask,
  /// perturbed, perturbed reconstruction.
  void write_example(const PerturbItem& it, const TrajectoryWindow& w, const std::vector<float>& normed,
                     const std::vector<float>& perturbed, const EncodedBatch& enc) {
    const int nf = w.nf;
    const int ef = std::min(cfg_.example_frames, nf);
    const int f0 = nf - ef;
    std::vector<report::Image> r_orig, r_rec, r_mask, r_pert, r_prec;
    const auto rec = vae_.decode(w.base_raw.data() + static_cast<std::size_t>(f0) * D_, ef);
    const auto prec = vae_.decode(enc.z_mean.data() + static_cast<std::size_t>(f0) * D_, ef);
    for (int fr = f0; fr < nf; ++fr) {
      const std::size_t o = static_cast<std::size_t>(fr) * kGlimpseFloats;
      r_orig.push_back(render_glimpse(normed.data() + o, kGlimpseSize));
      r_rec.push_back(render_std(rec.data() + static_cast<std::size_t>(fr - f0) * kGlimpseFloats));
      r_mask.push_back(render_mask(w.g.masks.data() + static_cast<std::size_t>(w.start + fr) * kGlimpsePixels, kGlimpseSize));
      r_pert.push_back(render_glimpse(perturbed.data() + o, kGlimpseSize));
      r_prec.push_back(render_std(prec.data() + static_cast<std::size_t>(fr - f0) * kGlimpseFloats));
    }
    const auto panel = tile_images({r_orig, r_rec, r_mask, r_pert, r_prec});
    const auto file = example_.dir / (example_.name + "_example_" + std::to_string(it.id) + ".png");
    perturb::detail::write_png(file, panel);
    run_.examples.push_back(file.filename().string());
  }

  PerturbContext& ctx_;
  const PerturbConfig& cfg_;
  const std::vector<Condition>& conds_;
  const int pc_;
  const ExampleSpec example_;
  const VaeModel& vae_;
  const ModelSet& ms_;
  const int L_, D_;
  const NormParams np_;
  GlimpseReader reader_;
  const RankShare& share_;
  const int threads_;  // for the per-frame normalisation (between the encoder's batches)
  std::map<std::int64_t, std::size_t> by_id_;
  ImageRun run_;
  std::vector<std::int64_t> pc_frames_;
  std::vector<int> example_pos_;
  std::vector<std::vector<float>> raw_;  // per condition: sequences of the pending trajectories
  std::vector<std::size_t> pending_;     // positions in run_.subset of the current model's trajectories
  int cur_model_ = -1;
};

ImageRun run_images(PerturbContext& ctx, const PerturbConfig& cfg, const std::vector<Condition>& conds, int pc,
                    const std::filesystem::path& example_dir, const std::string& example_name, int example_cond) {
  if (ctx.glimpses().empty())
    throw DataError("image-space perturbation needs the glimpse file (none was given to the perturbation context)");
  return ImageRunner(ctx, cfg, conds, pc, ExampleSpec{example_dir, example_name, example_cond}).run();
}

/// The join key and identity of a perturbed trajectory, the first columns of the per-trajectory
/// tables (movie, track_id) join them to the tracks and to `taupe predict`.
const std::vector<std::string> kTrajectoryKey = {"movie", "track_id", "trajectory_id", "rotation", "model", "fate"};

std::vector<std::string> trajectory_key(const PerturbContext& ctx, const PerturbItem& it) {
  const auto& t = ctx.encodings().trajectories[static_cast<std::size_t>(it.enc_index)];
  return {t.movie, cell(static_cast<long long>(t.track_id)), cell(static_cast<long long>(t.id)), cell(t.rotation),
          cell(it.model), to_string(t.fate)};
}

std::vector<std::string> with_key(std::vector<std::string> more) {
  std::vector<std::string> h = kTrajectoryKey;
  h.insert(h.end(), more.begin(), more.end());
  return h;
}

/// Per model, the fraction of its items predicted synthetic (class 2).
std::vector<double> synthetic_fraction_per_model(const std::vector<PerturbItem>& items, const std::vector<int>& pred,
                                                 int M) {
  std::vector<double> per_model;
  for (int m = 0; m < M; ++m) {
    double n = 0, s = 0;
    for (std::size_t k = 0; k < items.size(); ++k)
      if (items[k].model == m) n += 1, s += pred[k] == 2;
    per_model.push_back(n > 0 ? s / n : kNaN);
  }
  return per_model;
}

/// The neighbour switch's per-trajectory table: P(apoptosis) normalised and switched, gated and
/// from the TCN alone, and their changes.
report::CsvTable switch_trajectory_table(const PerturbContext& ctx, const std::vector<PerturbItem>& items,
                                         const ImageRun& run, int cond_norm, int cond_switch) {
  const auto n = static_cast<std::size_t>(cond_norm), w = static_cast<std::size_t>(cond_switch);
  report::CsvTable t(with_key({"p_apoptosis_normalised", "p_apoptosis_switched", "delta_p_apoptosis",
                               "p_apoptosis_normalised_raw", "p_apoptosis_switched_raw", "delta_p_apoptosis_raw"}));
  for (std::size_t k = 0; k < items.size(); ++k) {
    auto row = trajectory_key(ctx, items[k]);
    const double a = run.p_apoptosis[n][k], b = run.p_apoptosis[w][k];
    const double ar = run.p_apoptosis_raw[n][k], br = run.p_apoptosis_raw[w][k];
    for (double v : {a, b, b - a, ar, br, br - ar}) row.push_back(cell(v));
    t.add_row(std::move(row));
  }
  return t;
}

/// Confusion matrices of the unperturbed, normalised and switched predictions, each with the
/// (unperturbed) synthetic rows appended.
void switch_confusions(SwitchResult& r, PerturbContext& ctx, const PerturbConfig& cfg,
                       const std::vector<PerturbItem>& items, const std::vector<int>& syn_pred,
                       const std::array<const std::vector<int>*, 3>& preds) {
  const auto& syn = ctx.synthetic_items(cfg.synthetic_per_model, static_cast<std::uint64_t>(cfg.seed));
  std::vector<int> model, truth;
  for (const auto& it : items) model.push_back(it.model), truth.push_back(it.truth);
  for (const auto& it : syn) model.push_back(it.model), truth.push_back(it.truth);
  for (std::size_t q = 0; q < 3; ++q) {
    std::vector<int> p = *preds[q];
    p.insert(p.end(), syn_pred.begin(), syn_pred.end());
    r.confusion[q] = confusion_stats(r.num_models, model, truth, p);
  }
}

SwitchResult switch_result_from(PerturbContext& ctx, const PerturbConfig& cfg, Switch kind, const ImageRun& run,
                                int cond_norm, int cond_switch, const std::vector<int>& base_all,
                                const std::vector<int>& syn_pred) {
  const int M = ctx.models().num_models();
  SwitchResult r;
  r.kind = kind;
  r.num_models = M;
  r.trajectories = static_cast<std::int64_t>(run.subset.size());
  r.frames = run.frames;
  r.encode_seconds = run.encode_seconds;
  r.example_files = run.examples;
  std::vector<PerturbItem> items;
  std::vector<int> base;
  for (int i : run.subset) {
    items.push_back(ctx.items()[static_cast<std::size_t>(i)]);
    base.push_back(base_all[static_cast<std::size_t>(i)]);
  }
  for (const auto& it : items) r.counts_by_class[static_cast<std::size_t>(it.truth)] += 1;
  const auto& pn = run.pred[static_cast<std::size_t>(cond_norm)];
  const auto& ps = run.pred[static_cast<std::size_t>(cond_switch)];
  switch_confusions(r, ctx, cfg, items, syn_pred, {&base, &pn, &ps});
  const Strata st = make_strata(items, M, cfg);
  const auto seed = derive_seed(static_cast<std::uint64_t>(cfg.seed), kind == Switch::kNeighbours ? 11 : 12);
  for (int c = 0; c < 2; ++c) {
    r.delta_recall[static_cast<std::size_t>(c)] = delta_recall(st, pn, ps, c, cfg.bootstrap_reps, seed + c, cfg.ci_level());
    r.delta_recall_vs_unperturbed[static_cast<std::size_t>(c)] =
        delta_recall(st, base, ps, c, cfg.bootstrap_reps, seed + 10 + c, cfg.ci_level());
    r.normalisation_effect[static_cast<std::size_t>(c)] =
        delta_recall(st, base, pn, c, cfg.bootstrap_reps, seed + 20 + c, cfg.ci_level());
  }
  // Real trajectories predicted synthetic after the switch: per model, then mean ± sd.
  const auto ms = mean_sd_ignore_nan(synthetic_fraction_per_model(items, ps, M));
  r.synthetic_fraction = ms.first;
  r.synthetic_fraction_sd = ms.second;
  // The same without the typicality gate, and how many switched inputs the gate rejected.
  const auto& ps_raw = run.pred_raw[static_cast<std::size_t>(cond_switch)];
  r.synthetic_fraction_raw = mean_sd_ignore_nan(synthetic_fraction_per_model(items, ps_raw, M)).first;
  for (std::size_t k = 0; k < items.size(); ++k) r.gate_rejected += ps[k] == 2 && ps_raw[k] != 2;
  r.delta_recall_raw[1] = delta_recall(st, run.pred_raw[static_cast<std::size_t>(cond_norm)], ps_raw, 1,
                                       cfg.bootstrap_reps, seed + 30, cfg.ci_level());
  r.delta_apoptosis_probability =
      delta_probability(st, run.p_apoptosis[static_cast<std::size_t>(cond_norm)],
                        run.p_apoptosis[static_cast<std::size_t>(cond_switch)], cfg.bootstrap_reps, seed + 40,
                        cfg.ci_level());
  r.delta_apoptosis_probability_raw =
      delta_probability(st, run.p_apoptosis_raw[static_cast<std::size_t>(cond_norm)],
                        run.p_apoptosis_raw[static_cast<std::size_t>(cond_switch)], cfg.bootstrap_reps, seed + 50,
                        cfg.ci_level());
  r.frames_per_second = run.encode_seconds > 0 ? static_cast<double>(run.frames) * 2.0 / run.encode_seconds : 0.0;
  if (kind == Switch::kNeighbours) {
    // The within-model spread, for the neighbour verdict's "would decide" (the only reader).
    Strata fixed = st;
    fixed.resampling = Resampling::kTrajectories;
    r.delta_apoptosis_probability_raw_se_models_fixed =
        delta_probability(fixed, run.p_apoptosis_raw[static_cast<std::size_t>(cond_norm)],
                          run.p_apoptosis_raw[static_cast<std::size_t>(cond_switch)], cfg.bootstrap_reps, seed + 55,
                          cfg.ci_level())
            .se;
    r.per_trajectory = switch_trajectory_table(ctx, items, run, cond_norm, cond_switch);
  }
  return r;
}

double shift_scale(const ModelSet& ms, const PerturbConfig& cfg, int p) {
  return cfg.shift_units == "sd" ? ms.pca().pc_sd(p) : 1.0;
}

int default_pc(PerturbContext& ctx) {
  const int p = ctx.nuclear_pc().pc;
  return p >= 0 ? p : 0;
}

}  // namespace

SwitchResult run_switch(PerturbContext& ctx, const PerturbConfig& cfg, Switch kind, const std::filesystem::path& out_dir) {
  const auto t0 = Clock::now();
  const auto base = base_predictions(ctx, cfg.memory_budget_mb);
  const auto syn = synthetic_predictions(ctx, cfg);
  std::vector<Condition> conds(2);
  conds[1].kind = kind == Switch::kNeighbours ? Condition::kNeighbours : Condition::kCentre;
  const std::string name = kind == Switch::kNeighbours ? "switch_neighbours" : "switch_centre";
  const auto run = run_images(ctx, cfg, conds, -1, out_dir, name, 1);
  auto r = switch_result_from(ctx, cfg, kind, run, 0, 1, base, syn);
  r.seconds = since(t0);
  return r;
}

namespace {
/// Both switches in one pass over the glimpses (the normalised condition is shared).
std::pair<SwitchResult, SwitchResult> run_both_switches(PerturbContext& ctx, const PerturbConfig& cfg,
                                                        const std::filesystem::path& out_dir) {
  const auto t0 = Clock::now();
  const auto base = base_predictions(ctx, cfg.memory_budget_mb);
  const auto syn = synthetic_predictions(ctx, cfg);
  std::vector<Condition> conds(3);
  conds[1].kind = Condition::kNeighbours;
  conds[2].kind = Condition::kCentre;
  const auto run = run_images(ctx, cfg, conds, -1, out_dir, "switch_neighbours", 1);
  auto a = switch_result_from(ctx, cfg, Switch::kNeighbours, run, 0, 1, base, syn);
  auto b = switch_result_from(ctx, cfg, Switch::kCentre, run, 0, 2, base, syn);
  b.example_files.clear();
  a.seconds = b.seconds = since(t0);
  a.frames_per_second = b.frames_per_second =
      run.encode_seconds > 0 ? static_cast<double>(run.frames) * 3.0 / run.encode_seconds : 0.0;
  return {std::move(a), std::move(b)};
}
}  // namespace

namespace {
/// Each trajectory's apoptosis response to the nuclear-size PC: OLS slope of its predicted
/// apoptosis indicator over the shifts of the PC's realistic range, per sd of nuclear shrinkage
/// (the shift in sd, times −sign ρ). Per model and class, the mean of these slopes is that class
/// fraction's slope (OLS is linear in y): the table decomposes the nuclear-size verdict's statistic.
report::CsvTable nuclear_response_table(const PerturbContext& ctx, const PcShiftResult& r, const Sweep& sw) {
  const int p = r.nuclear.pc;
  if (p < 0 || static_cast<std::size_t>(p) >= r.slopes.size()) return {};
  const auto range = r.slopes[static_cast<std::size_t>(p)].range;
  const double rho = r.nuclear.rho[static_cast<std::size_t>(p)];
  if (range.first < 0 || range.second <= range.first || !std::isfinite(rho) || rho == 0) return {};
  // Shift of each grid point in PC sds of nuclear shrinkage.
  const double to_sd = r.pc_scale[static_cast<std::size_t>(p)] / r.pc_sd[static_cast<std::size_t>(p)];
  std::vector<double> x;
  for (int s = range.first; s <= range.second; ++s)
    x.push_back(r.shifts[static_cast<std::size_t>(s)] * to_sd * (rho > 0 ? -1.0 : 1.0));
  const double xm = stats::mean(x);
  double sxx = 0;
  for (double v : x) sxx += (v - xm) * (v - xm);
  report::CsvTable t(with_key({"pc", "shifts_in_range", "slope_apoptosis_per_sd_shrinkage"}));
  const auto& items = ctx.items();
  for (std::int64_t i = 0; i < sw.n; ++i) {
    double sxy = 0;
    for (int s = range.first; s <= range.second; ++s)
      sxy += (x[static_cast<std::size_t>(s - range.first)] - xm) * (sw.at(p, s, i) == 1 ? 1.0 : 0.0);
    auto row = trajectory_key(ctx, items[static_cast<std::size_t>(i)]);
    row.push_back(cell(p));
    row.push_back(cell(static_cast<int>(x.size())));
    row.push_back(cell(sxy / sxx));
    t.add_row(std::move(row));
  }
  return t;
}
}  // namespace

namespace {
/// Eq. 8 as a single-PC edit for the fast engine (same float add as apply_pc_shift): variant
/// p · S + s shifts PC p by shifts[s] × scale[p] on the real frames.
struct ShiftEdit {
  std::vector<double> shifts, scale;
  int L = 0;
  int operator()(int v, const std::uint8_t* real, float* delta) const {
    const int S = static_cast<int>(shifts.size());
    const int p = v / S, s = v % S;
    const float add = static_cast<float>(shifts[static_cast<std::size_t>(s)] * scale[static_cast<std::size_t>(p)]);
    for (int t = 0; t < L; ++t)
      if (real[t]) delta[t] = add;
    return p;
  }
};

/// Per PC, the realistic range of the TCN alone: the same rule as the gated one, on the ungated
/// predictions of the sweep.
std::vector<std::pair<int, int>> raw_realistic_ranges(const Sweep& sw_raw, const Strata& st,
                                                      const std::vector<double>& shifts, double threshold) {
  const int D = sw_raw.num_p, S = sw_raw.num_s, M = st.num_models;
  const auto fr = sweep_fractions(sw_raw, st);
  std::vector<std::pair<int, int>> ranges;
  for (int p = 0; p < D; ++p) {
    std::array<std::pair<int, int>, 2> by_class;
    for (int c = 0; c < 2; ++c) {
      std::vector<double> syn(static_cast<std::size_t>(S));
      for (int s = 0; s < S; ++s) {
        std::vector<double> v;
        for (int m = 0; m < M; ++m) v.push_back(fr[frac_index(p, s, m, c, 2, S, M)]);
        syn[static_cast<std::size_t>(s)] = mean_sd_ignore_nan(v).first;
      }
      by_class[static_cast<std::size_t>(c)] = realistic_range(shifts, syn, threshold);
    }
    ranges.push_back(intersect_ranges(by_class[0], by_class[1]));
  }
  return ranges;
}

/// Grid index of the low (e = 0) or high (e = 1) end of PC p's realistic range; without a range,
/// the shift closest to 0.
int range_end_index(const PcShiftResult& r, int p, int e) {
  const auto& rg = r.slopes[static_cast<std::size_t>(p)].range;
  if (rg.first < 0) {
    int z = 0;
    for (int s = 1; s < static_cast<int>(r.shifts.size()); ++s)
      if (std::fabs(r.shifts[static_cast<std::size_t>(s)]) < std::fabs(r.shifts[static_cast<std::size_t>(z)])) z = s;
    return z;
  }
  return e == 0 ? rg.first : rg.second;
}

/// Confusion at both ends of each PC's realistic range (synthetic inputs shifted alike).
std::vector<std::array<ConfusionStats, 2>> range_confusions(PerturbContext& ctx, const PerturbConfig& cfg,
                                                            const PcShiftResult& r, const Sweep& sw,
                                                            const ShiftEdit& edit) {
  const ModelSet& ms = ctx.models();
  const int D = ms.dims(), M = ms.num_models(), S = static_cast<int>(r.shifts.size());
  const auto& syn = ctx.synthetic_items(cfg.synthetic_per_model, static_cast<std::uint64_t>(cfg.seed));
  std::vector<std::uint8_t> syn_real(syn.size() * static_cast<std::size_t>(ms.max_len()), 1);
  std::vector<std::uint8_t> syn_pred;
  if (!syn.empty()) {
    auto delta_end = [&](int v, const float*, const std::uint8_t* real, float* d) {
      const int p = v / 2;
      return edit(p * S + range_end_index(r, p, v % 2), real, d);
    };
    syn_pred = predict_pc_deltas(ms, syn, ctx.synthetic_pc(), syn_real, D * 2, delta_end, cfg.memory_budget_mb,
                                 nullptr, 0, nullptr, ctx.share());
  }
  std::vector<int> model, truth;
  for (const auto& it : ctx.items()) model.push_back(it.model), truth.push_back(it.truth);
  for (const auto& it : syn) model.push_back(it.model), truth.push_back(it.truth);
  std::vector<std::array<ConfusionStats, 2>> out;
  for (int p = 0; p < D; ++p) {
    std::array<ConfusionStats, 2> cs;
    for (int e = 0; e < 2; ++e) {
      const int s = range_end_index(r, p, e);
      std::vector<int> pred;
      for (std::int64_t i = 0; i < sw.n; ++i) pred.push_back(sw.at(p, s, i));
      for (std::size_t i = 0; i < syn.size(); ++i) pred.push_back(syn_pred[static_cast<std::size_t>(p * 2 + e) * syn.size() + i]);
      cs[static_cast<std::size_t>(e)] = confusion_stats(M, model, truth, pred);
    }
    out.push_back(cs);
  }
  return out;
}

/// The PCs of the decoded rows (Fig 5a,b): the nuclear-size (or top) PC and, among PCs 0–7, the
/// one with the smallest |slope|.
std::pair<int, int> decoded_pcs(const PcShiftResult& r) {
  int first = r.nuclear.pc >= 0 ? r.nuclear.pc : std::max(0, r.top_pc);
  int other = -1;
  double least = std::numeric_limits<double>::infinity();
  for (const auto& s : r.slopes)
    if (s.p != first && std::isfinite(s.slope[2][1]) && std::fabs(s.slope[2][1]) < least && s.p < 8)
      least = std::fabs(s.slope[2][1]), other = s.p;
  if (other < 0) other = first == 0 ? 1 : 0;
  return {first, other};
}

/// One decoded panel: the `frames` of trajectory `base` (L, D) with PC p shifted by each of
/// cfg.decode_shifts (rows), decoded and shown on a common display range. Returns the file name
/// ("" when there is nothing to show).
std::string write_decoded_row(const ModelSet& ms, const VaeModel& vae, const PerturbConfig& cfg, int p, double scale,
                              const float* base, const std::vector<int>& frames, const std::filesystem::path& out_dir) {
  const int D = ms.dims();
  std::vector<float> pcs;
  for (double v : cfg.decode_shifts)
    for (int t : frames) {
      std::vector<float> row(base + static_cast<std::size_t>(t) * D, base + static_cast<std::size_t>(t + 1) * D);
      row[static_cast<std::size_t>(p)] += static_cast<float>(v * scale);
      pcs.insert(pcs.end(), row.begin(), row.end());
    }
  if (pcs.empty()) return "";
  const auto lat = ms.pca().inverse(pcs);
  const auto imgs = vae.decode(lat.data(), static_cast<std::int64_t>(lat.size() / D));
  const std::size_t isz = static_cast<std::size_t>(kGlimpseSize) * kGlimpseSize * kGlimpseChannels;
  // Common display range: percentiles of the decoded images at shift 0 (else all).
  std::vector<double> v0, v1;
  for (std::size_t k = 0; k < imgs.size() / isz; ++k)
    for (std::size_t q = 0; q < isz / 2; ++q) v0.push_back(imgs[k * isz + q]), v1.push_back(imgs[k * isz + isz / 2 + q]);
  const float lo = static_cast<float>(std::min(percentile(v0, 1), percentile(v1, 1)));
  const float hi = static_cast<float>(std::max(percentile(v0, 99.5), percentile(v1, 99.5)));
  std::vector<std::vector<report::Image>> rows;
  std::size_t k = 0;
  for (std::size_t si = 0; si < cfg.decode_shifts.size(); ++si) {
    std::vector<report::Image> row;
    for (std::size_t f = 0; f < frames.size(); ++f, ++k) row.push_back(render_glimpse(imgs.data() + k * isz, kGlimpseSize, lo, hi));
    rows.push_back(row);
  }
  const auto file = out_dir / ("pc_shift_decoded_pc" + std::to_string(p) + ".png");
  perturb::detail::write_png(file, tile_images(rows));
  return file.filename().string();
}

/// Decoded rows (Fig 5a,b) of the last real frames of the first apoptotic trajectory (else the
/// first one); a failure to decode is logged and skips them.
void write_decoded_rows(PerturbContext& ctx, const PerturbConfig& cfg, PcShiftResult& r,
                        const std::filesystem::path& out_dir) {
  try {
    const VaeModel& vae = ctx.vae();
    const ModelSet& ms = ctx.models();
    const int D = ms.dims(), L = ms.max_len();
    const auto [first, other] = decoded_pcs(r);
    const auto& items = ctx.items();
    std::size_t ti = 0;
    for (std::size_t i = 0; i < items.size(); ++i)
      if (items[i].truth == 1) { ti = i; break; }
    const std::size_t seq = static_cast<std::size_t>(L) * D;
    const float* base = ctx.base_pc().data() + ti * seq;
    const std::uint8_t* real = ctx.base_real().data() + ti * static_cast<std::size_t>(L);
    std::vector<int> frames;
    for (int t = L - 1; t >= 0 && static_cast<int>(frames.size()) < cfg.example_frames; --t)
      if (real[t]) frames.insert(frames.begin(), t);
    for (int p : {first, other}) {
      if (p < 0 || p >= D) continue;
      const auto file = write_decoded_row(ms, vae, cfg, p, r.pc_scale[static_cast<std::size_t>(p)], base, frames, out_dir);
      if (!file.empty()) r.decoded_files.push_back(file);
    }
  } catch (const Error& e) {
    log_warn(std::string("pc-shift: decoded rows skipped: ") + e.what());
  }
}
}  // namespace

PcShiftResult run_pc_shift(PerturbContext& ctx, const PerturbConfig& cfg, const std::filesystem::path& out_dir) {
  const auto t0 = Clock::now();
  const ModelSet& ms = ctx.models();
  const int D = ms.dims(), M = ms.num_models();
  PcShiftResult r;
  r.shifts = cfg.shifts();
  r.units = cfg.shift_units;
  r.num_models = M;
  r.num_pcs = D;
  const int S = static_cast<int>(r.shifts.size());
  for (int p = 0; p < D; ++p) {
    r.pc_scale.push_back(shift_scale(ms, cfg, p));
    r.pc_sd.push_back(ms.pca().pc_sd(p));
  }
  const auto& items = ctx.items();
  const ShiftEdit edit{r.shifts, r.pc_scale, ms.max_len()};
  auto delta = [&](int v, const float*, const std::uint8_t* real, float* d) { return edit(v, real, d); };
  Sweep sw;
  sw.num_p = D;
  sw.num_s = S;
  sw.n = static_cast<std::int64_t>(items.size());
  log_info("pc-shift: " + std::to_string(D) + " PCs x " + std::to_string(S) + " shifts x " +
           std::to_string(items.size()) + " trajectories");
  Sweep sw_raw = sw;
  sw.pred = predict_pc_deltas(ms, items, ctx.base_pc(), ctx.base_real(), D * S, delta, cfg.memory_budget_mb, nullptr, 0,
                              &sw_raw.pred, ctx.share());
  r.predictions = static_cast<std::int64_t>(sw.pred.size());
  for (std::size_t k = 0; k < sw.pred.size(); ++k) r.gate_rejected += sw.pred[k] == 2 && sw_raw.pred[k] != 2;
  const Strata st = make_strata(items, M, cfg);
  r.fractions = sweep_fractions(sw, st);
  r.range_raw = raw_realistic_ranges(sw_raw, st, r.shifts, cfg.realistic_threshold);
  r.slopes = sweep_slopes(sw, st, r.shifts, cfg.realistic_threshold, cfg.bootstrap_reps,
                          derive_seed(static_cast<std::uint64_t>(cfg.seed), 21), cfg.ci_level(), cfg.correction);
  r.top_pc = top_slope_pc(r.slopes, cfg.min_range_points);
  r.nuclear = ctx.nuclear_pc();
  r.nuclear_per_trajectory = nuclear_response_table(ctx, r, sw);
  r.range_confusion = range_confusions(ctx, cfg, r, sw, edit);
  if (!out_dir.empty() && ctx.has_vae()) write_decoded_rows(ctx, cfg, r, out_dir);
  r.seconds = since(t0);
  return r;
}

PcAblateResult run_pc_ablate(PerturbContext& ctx, const PerturbConfig& cfg) {
  const auto t0 = Clock::now();
  const ModelSet& ms = ctx.models();
  const int D = ms.dims(), M = ms.num_models(), L = ms.max_len();
  const auto& items = ctx.items();
  // PC v − 1 set to its mean (0 in PC space) on real frames: delta = −x; variant 0 unperturbed.
  auto delta = [&](int v, const float* seq, const std::uint8_t* real, float* d) {
    if (v == 0) return -1;
    const int p = v - 1;
    for (int t = 0; t < L; ++t)
      if (real[t]) d[t] = -seq[static_cast<std::size_t>(t) * D + p];
    return p;
  };
  const auto pred = predict_pc_deltas(ms, items, ctx.base_pc(), ctx.base_real(), D + 1, delta, cfg.memory_budget_mb,
                                      nullptr, 0, nullptr, ctx.share());
  const std::size_t n = items.size();
  auto variant = [&](int v) {
    return std::vector<int>(pred.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(v) * n),
                            pred.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(v + 1) * n));
  };
  std::vector<int> model, truth;
  for (const auto& it : items) model.push_back(it.model), truth.push_back(it.truth);
  PcAblateResult r;
  r.num_models = M;
  r.num_pcs = D;
  const auto base = variant(0);
  r.baseline = confusion_stats(M, model, truth, base);
  const Strata st = make_strata(items, M, cfg);
  for (int p = 0; p < D; ++p) {
    const auto ab = variant(p + 1);
    r.ablated.push_back(confusion_stats(M, model, truth, ab));
    std::array<Interval, 2> drop;
    for (int c = 0; c < 2; ++c)
      drop[static_cast<std::size_t>(c)] = delta_recall(st, ab, base, c, cfg.bootstrap_reps,
                                                       derive_seed(static_cast<std::uint64_t>(cfg.seed), 3000 + p * 2 + c),
                                                       cfg.ci_level());
    r.recall_drop.push_back(drop);
  }
  r.seconds = since(t0);
  return r;
}

PcWindowResult run_pc_window(PerturbContext& ctx, const PerturbConfig& cfg, int pc) {
  const auto t0 = Clock::now();
  const ModelSet& ms = ctx.models();
  const int D = ms.dims(), M = ms.num_models(), L = ms.max_len();
  PcWindowResult r;
  r.pc = pc >= 0 ? pc : default_pc(ctx);
  if (r.pc >= D) throw ConfigError("pc-window: PC " + std::to_string(r.pc) + " out of range (D = " + std::to_string(D) + ")");
  r.lengths = cfg.window_lengths;
  r.shifts = cfg.window_shifts;
  r.num_models = M;
  const int NL = static_cast<int>(r.lengths.size()), NW = static_cast<int>(r.shifts.size());
  const double scale = shift_scale(ms, cfg, r.pc);
  const auto& items = ctx.items();
  // The shift on the last `window` real frames only (apply_window_shift as a single-PC edit).
  auto delta = [&](int v, const float*, const std::uint8_t* real, float* d) {
    const int w = v / NL, l = v % NL;
    const float add = static_cast<float>(r.shifts[static_cast<std::size_t>(w)] * scale);
    int left = r.lengths[static_cast<std::size_t>(l)];
    for (int t = L - 1; t >= 0 && left > 0; --t)
      if (real[t]) d[t] = add, --left;
    return r.pc;
  };
  Sweep sw;  // p = shift, s = window length
  sw.num_p = NW;
  sw.num_s = NL;
  sw.n = static_cast<std::int64_t>(items.size());
  sw.pred = predict_pc_deltas(ms, items, ctx.base_pc(), ctx.base_real(), NW * NL, delta, cfg.memory_budget_mb, nullptr,
                              0, nullptr, ctx.share());
  const Strata st = make_strata(items, M, cfg);
  const auto f = sweep_fractions(sw, st);
  // Reorder to (L, shift, M, 3, 3).
  r.fractions.assign(f.size(), kNaN);
  for (int w = 0; w < NW; ++w)
    for (int l = 0; l < NL; ++l)
      for (int m = 0; m < M; ++m)
        for (int c = 0; c < 3; ++c)
          for (int j = 0; j < 3; ++j) r.fractions[frac_index(l, w, m, c, j, NW, M)] = f[frac_index(w, l, m, c, j, NL, M)];
  std::vector<double> logl;
  for (int l : r.lengths) logl.push_back(std::log2(static_cast<double>(l)));
  if (NL >= 2) {
    const auto sl = sweep_slopes(sw, st, logl, 1.01, cfg.bootstrap_reps, derive_seed(static_cast<std::uint64_t>(cfg.seed), 41),
                                 cfg.ci_level(), cfg.correction);
    for (const auto& s : sl) r.slope_vs_log_length.push_back(s.slope_apoptosis);
  } else {
    r.slope_vs_log_length.assign(static_cast<std::size_t>(NW), Interval{kNaN, kNaN, kNaN, kNaN, 1});
  }
  r.seconds = since(t0);
  return r;
}

ShrinkNucleusResult run_shrink_nucleus(PerturbContext& ctx, const PerturbConfig& cfg, int pc) {
  const auto t0 = Clock::now();
  ShrinkNucleusResult r;
  r.factors = cfg.shrink_factors;
  r.num_models = ctx.models().num_models();
  r.pc = pc >= 0 ? pc : ctx.nuclear_pc().pc;
  std::vector<Condition> conds;
  for (double f : r.factors) {
    Condition c;
    c.kind = Condition::kShrink;
    c.factor = f;
    conds.push_back(c);
  }
  const auto run = run_images(ctx, cfg, conds, r.pc, {}, "shrink_nucleus", -1);
  r.trajectories = static_cast<std::int64_t>(run.subset.size());
  r.frames = run.frames;
  r.pc_change = run.pc_change;
  r.central_area_ratio = run.area_ratio;
  std::vector<PerturbItem> items;
  for (int i : run.subset) items.push_back(ctx.items()[static_cast<std::size_t>(i)]);
  const int M = r.num_models;
  for (std::size_t c = 0; c < conds.size(); ++c) {
    const auto f = fractions_of(items, run.pred[c], M);
    r.fractions.insert(r.fractions.end(), f.begin(), f.end());
  }
  // Class-balanced apoptosis fraction vs factor (OLS over the grid).
  std::vector<double> y;
  for (std::size_t k = 0; k < r.factors.size(); ++k)
    y.push_back(0.5 * (r.mean_fraction(static_cast<int>(k), 0, 1) + r.mean_fraction(static_cast<int>(k), 1, 1)));
  if (r.factors.size() >= 2) {
    const auto a = ols_slope_weights(r.factors, {0, static_cast<int>(r.factors.size()) - 1});
    double s = 0;
    for (std::size_t k = 0; k < y.size(); ++k) s += a[k] * y[k];
    r.apoptosis_vs_factor_slope = s;
  } else {
    r.apoptosis_vs_factor_slope = kNaN;
  }
  r.pc_shift_apoptosis_slope = kNaN;
  r.direction = "undetermined";
  r.seconds = since(t0);
  return r;
}

namespace {
/// Compares shrink-nucleus with the pc-shift slope of the same PC: shrinking moves the PC by
/// Δpc per unit factor (regression of pc_change on factor); the PC shift predicts an apoptosis
/// change slope_pc · Δpc; consistent when its sign matches the observed slope vs factor.
void compare_shrink(ShrinkNucleusResult& s, const PcShiftResult& p) {
  if (s.pc < 0 || s.pc >= static_cast<int>(p.slopes.size())) return;
  const double sp = p.slopes[static_cast<std::size_t>(s.pc)].slope[2][1] / p.pc_scale[static_cast<std::size_t>(s.pc)];
  s.pc_shift_apoptosis_slope = sp;
  if (s.factors.size() < 2 || !std::isfinite(sp) || !std::isfinite(s.apoptosis_vs_factor_slope)) return;
  const auto a = ols_slope_weights(s.factors, {0, static_cast<int>(s.factors.size()) - 1});
  double dpc = 0;
  for (std::size_t k = 0; k < s.factors.size(); ++k) dpc += a[k] * s.pc_change[k];
  const double predicted = sp * dpc;
  if (predicted == 0 || s.apoptosis_vs_factor_slope == 0) return;
  s.direction = (predicted > 0) == (s.apoptosis_vs_factor_slope > 0) ? "consistent" : "opposite";
}
}  // namespace

SkillResult model_skill(PerturbContext& ctx, const PerturbConfig& cfg) {
  SkillResult r;
  r.num_models = ctx.models().num_models();
  r.skill = perturb::predictive_skill(make_strata(ctx.items(), r.num_models, cfg), base_predictions(ctx, cfg.memory_budget_mb),
                                      cfg.bootstrap_reps, derive_seed(static_cast<std::uint64_t>(cfg.seed), 61),
                                      cfg.ci_level(), cfg.verdict.min_informedness);
  return r;
}

std::vector<perturb::Verdict> perturb_verdicts(const PerturbAllResult& r, const PerturbConfig& cfg) {
  perturb::VerdictInputs in;
  in.truth = perturb::world_truth(r.world);
  if (r.skill) {
    in.have_skill = true;
    in.skill = r.skill->skill;
  }
  if (r.switch_neighbours) {
    in.have_switch = true;
    const auto& sn = *r.switch_neighbours;
    in.delta_apoptosis = sn.delta_apoptosis_probability_raw;
    in.delta_apoptosis_se_models_fixed = sn.delta_apoptosis_probability_raw_se_models_fixed;
    in.delta_apoptosis_gated = sn.delta_apoptosis_probability;
    in.switch_synthetic_share = sn.max_synthetic_share();
    in.switch_trajectories = sn.trajectories;
    in.realistic_threshold = cfg.realistic_threshold;
  }
  if (r.pc_shift) {
    const auto& ps = *r.pc_shift;
    in.have_pc = true;
    in.min_range_points = cfg.min_range_points;
    in.nuclear_pc = ps.nuclear.pc;
    if (in.nuclear_pc >= 0) in.nuclear_rho = ps.nuclear.rho[static_cast<std::size_t>(in.nuclear_pc)];
    for (const auto& s : ps.slopes) {
      const auto p = static_cast<std::size_t>(s.p);
      // Slopes are per grid unit; the verdicts read them per PC unit (× pc_sd → per sd).
      in.slope_apoptosis.push_back(s.slope_apoptosis.scaled(1.0 / ps.pc_scale[p]));
      in.pc_sd.push_back(ps.pc_sd[p]);
      in.range_points.push_back(s.range.first < 0 ? 0 : s.range.second - s.range.first + 1);
      in.p_adjusted.push_back(s.p_adjusted);
    }
    if (r.skill) in.pc_trajectories = r.skill->skill.trajectories;
  }
  return perturb::make_verdicts(in, cfg.verdict);
}

PerturbAllResult run_all(PerturbContext& ctx, const PerturbConfig& cfg, const std::filesystem::path& out_dir) {
  cfg.validate();
  PerturbAllResult r;
  r.world = ctx.world();
  const auto dir = out_dir.empty() ? out_dir : perturb_artifacts::dir(out_dir);
  if (!dir.empty()) std::filesystem::create_directories(dir);
  const bool image_ok = !ctx.glimpses().empty() && ctx.has_vae();
  r.skill = model_skill(ctx, cfg);
  log_info(r.skill->brief());
  if (cfg.runs("switch-neighbours") || cfg.runs("switch-centre")) {
    if (!image_ok) {
      log_warn("perturb: switch experiments skipped (need the glimpse file and the VAE)");
    } else if (cfg.runs("switch-neighbours") && cfg.runs("switch-centre")) {
      auto both = run_both_switches(ctx, cfg, dir);
      r.switch_neighbours = std::move(both.first);
      r.switch_centre = std::move(both.second);
    } else if (cfg.runs("switch-neighbours")) {
      r.switch_neighbours = run_switch(ctx, cfg, Switch::kNeighbours, dir);
    } else {
      r.switch_centre = run_switch(ctx, cfg, Switch::kCentre, dir);
    }
    if (r.switch_neighbours) log_info(r.switch_neighbours->brief());
    if (r.switch_centre) log_info(r.switch_centre->brief());
  }
  if (cfg.runs("pc-shift")) {
    r.pc_shift = run_pc_shift(ctx, cfg, dir);
    perturb::apply_skill_gate(r.pc_shift->slopes, r.skill->skill, cfg.ci_level());
    log_info(r.pc_shift->brief());
  }
  if (cfg.runs("pc-ablate")) {
    r.pc_ablate = run_pc_ablate(ctx, cfg);
    log_info(r.pc_ablate->brief());
  }
  if (cfg.runs("pc-window")) {
    int pc = ctx.nuclear_pc().pc;
    if (pc < 0 && r.pc_shift) pc = r.pc_shift->top_pc;
    r.pc_window = run_pc_window(ctx, cfg, pc);
    log_info(r.pc_window->brief());
  }
  if (cfg.runs("shrink-nucleus")) {
    if (!image_ok) {
      log_warn("perturb: shrink-nucleus skipped (needs the glimpse file and the VAE)");
    } else {
      r.shrink_nucleus = run_shrink_nucleus(ctx, cfg);
      if (r.pc_shift) compare_shrink(*r.shrink_nucleus, *r.pc_shift);
      log_info(r.shrink_nucleus->brief());
    }
  }
  r.verdicts = perturb_verdicts(r, cfg);
  if (!dir.empty()) write_results(r, out_dir);
  return r;
}

}  // namespace taupe
