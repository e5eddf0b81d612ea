#pragma once
// Virtual perturbation experiments (paper §3, eqs. 5-8), torch-free interface.
//
//   PerturbContext ctx = PerturbContext::load(model_dir, glimpses, encodings);
//   PerturbAllResult all = run_all(ctx, cfg, out_dir);   // writes out_dir/perturb/*
//   std::cout << all.brief();
//   all.fill_summary(run_summary);                       // summary.json sections
//
// Every experiment predicts each trajectory with the model that held it out
// (ModelSet::fold_of), reports per-model results, mean ± sd over models, and bootstrap CIs over
// trajectories (stratified by model and true class, paired across conditions). PC experiments
// work on stored encodings in PC space (never re-encode), batched over (perturbation, trajectory)
// within cfg.memory_budget_mb, with the pruned last-step TCN forward (ModelSet::predict_pc).
// Image experiments (switch-neighbours, switch-centre, shrink-nucleus) re-encode with the VAE.
// Exact rules: docs/perturbation.md.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "taupe/dataset/encodings.h"
#include "taupe/perturb/analysis.h"
#include "taupe/perturb/verdict.h"
#include "taupe/perturb/perturb_config.h"
#include "taupe/perturb/rank_share.h"
#include "taupe/report/csv.h"
#include "taupe/temporal/model_set.h"

namespace taupe {

class VaeModel;
namespace report {
struct RunSummary;
}

/// One trajectory input of the experiments.
struct PerturbItem {
  int enc_index = -1;          ///< index into encodings().trajectories (-1 for synthetic inputs)
  std::int64_t id = -1;        ///< trajectory id (-1 for synthetic inputs)
  int model = 0;               ///< model that held it out
  int truth = 0;               ///< 0 mitosis, 1 apoptosis, 2 synthetic
  /// Bootstrap cluster: trajectories of one lineage (movie, root track) share it; without lineage
  /// information (no glimpse file) and for synthetic inputs, unique per item.
  std::int64_t cluster = -1;
};

/// Ground-truth correlation of every PC with nuclear area (Spearman ρ over glimpse frames ≤ cutoff).
struct NuclearPc {
  std::vector<double> rho;     ///< (D); NaN without ground truth
  int pc = -1;                 ///< argmax |ρ|; -1 without ground truth
  std::int64_t frames = 0;
  std::string feature = "nuclear_area_um2";
};

class PerturbContext {
 public:
  /// Loads the model set (<model_dir>/temporal), the encodings and the glimpse file's metadata.
  /// `glimpses` may be empty (PC experiments only; no ground truth, no image experiments). The VAE
  /// (<model_dir>/encoder.pt, decoder.pt) is loaded on first use.
  static PerturbContext load(const std::filesystem::path& model_dir, const std::filesystem::path& glimpses,
                             const std::filesystem::path& encodings, const ModelSetOptions& opts = {});
  /// From parts already in memory (tests, benchmarks). `model_dir` may be empty (no VAE).
  static PerturbContext from_parts(ModelSet models, EncodingSet encodings, const std::filesystem::path& glimpses = {},
                                   const std::filesystem::path& model_dir = {});
  PerturbContext(PerturbContext&&) noexcept;
  PerturbContext& operator=(PerturbContext&&) noexcept;
  ~PerturbContext();

  const ModelSet& models() const;
  const EncodingSet& encodings() const;
  /// Planted mechanism of simulated data ("" for real data or without a glimpse file).
  const std::string& world() const;
  /// Treat the data as real: no planted mechanism, so no ground-truth verdicts (a `taupe run
  /// --data` run, even when the imported glimpses carry a simulated world).
  void forget_world();
  const std::filesystem::path& glimpses() const;
  bool has_vae() const;        ///< model_dir has encoder/decoder files
  const VaeModel& vae() const; ///< loads on first call; throws ModelError / IoError

  /// Real labelled trajectories (rotation 0, in a fold), sorted by (model, id).
  const std::vector<PerturbItem>& items() const;
  /// Their unperturbed inputs in PC space (n, max_len, D) and real-frame masks (n, max_len).
  const std::vector<float>& base_pc() const;
  const std::vector<std::uint8_t>& base_real() const;
  /// Synthetic test inputs per model (deterministic in seed; n per model = `per_model`, -1 = as
  /// many as the model's real ones); cached for the last (per_model, seed).
  const std::vector<PerturbItem>& synthetic_items(std::int64_t per_model, std::uint64_t seed);
  const std::vector<float>& synthetic_pc() const;   ///< after synthetic_items()

  /// ρ of every PC with nuclear area; computed once (reads the glimpse file).
  const NuclearPc& nuclear_pc();

  /// A multi-process run: the experiments deal the models out over the cluster's ranks
  /// (rank_share.h); every rank must then run the same experiments in the same order.
  void share_with(Cluster* cluster);
  const RankShare& share() const;

 private:
  struct Impl;
  explicit PerturbContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend struct PerturbAccess;
};

enum class Switch { kNeighbours, kCentre };
std::string to_string(Switch s);

/// Per-model confusion (row-normalised) + mean / sd over models.
using perturb::ConfusionStats;
using perturb::Interval;

struct SwitchResult {
  Switch kind = Switch::kNeighbours;
  int num_models = 0;
  std::int64_t trajectories = 0, frames = 0;
  double encode_seconds = 0, frames_per_second = 0, seconds = 0;
  /// Conditions: 0 unperturbed (stored encodings), 1 normalised (normalised, not switched),
  /// 2 switched (normalised + eq. 7). Synthetic row: unperturbed synthetic inputs in every condition.
  std::array<ConfusionStats, 3> confusion;
  std::array<std::int64_t, 3> counts_by_class{};    ///< trajectories per true class
  /// Headline: switched − normalised recall per class (mitosis, apoptosis). See docs.
  std::array<Interval, 2> delta_recall;
  std::array<Interval, 2> delta_recall_vs_unperturbed;  ///< switched − unperturbed
  std::array<Interval, 2> normalisation_effect;         ///< normalised − unperturbed
  double synthetic_fraction = 0, synthetic_fraction_sd = 0;  ///< real trajectories predicted synthetic (switched)
  /// The TCN alone (no typicality gate): fraction predicted synthetic after the switch.
  double synthetic_fraction_raw = 0;
  std::int64_t gate_rejected = 0;   ///< switched inputs the gate turned synthetic that the TCN did not
  /// Δ recall (switched − normalised) of the TCN alone; only apoptosis ([1]) is computed.
  std::array<Interval, 2> delta_recall_raw{};
  /// Class-balanced Δ P(apoptosis), switched − normalised, paired per trajectory: the statistic of
  /// the neighbour-identity verdict (continuous, so far less noisy than a change of recall).
  Interval delta_apoptosis_probability;
  Interval delta_apoptosis_probability_raw;  ///< the same for the TCN alone (no gate)
  /// Its standard error with the models held fixed (trajectories resampled within them): the part
  /// of the spread that more switched trajectories would shrink; the rest is between the models.
  double delta_apoptosis_probability_raw_se_models_fixed = std::numeric_limits<double>::quiet_NaN();
  /// Which component recognised the switched inputs as synthetic (switch-centre): "the TCN",
  /// "the typicality gate", "both the TCN and the typicality gate" or "neither".
  std::string recognised_by() const;
  /// The largest fraction of a real class (mitosis, apoptosis) predicted synthetic, mean over
  /// models, in the normalised or the switched condition: the switch's realistic-range measure.
  double max_synthetic_share() const;
  std::vector<std::string> example_files;                    ///< PNG panels written (Fig 3)
  /// One row per switched trajectory (neighbour switch only): movie, track_id, trajectory_id,
  /// rotation, model, fate, P(apoptosis) normalised and switched, gated and of the TCN alone.
  report::CsvTable per_trajectory;

  report::CsvTable table() const;  ///< model × condition × true class
  std::string brief() const;
  nlohmann::json to_json() const;
};

struct PcShiftResult {
  std::vector<double> shifts;          ///< grid in cfg.shift_units
  std::string units = "pc";
  std::vector<double> pc_scale;        ///< per PC: 1 (pc) or the PC's sd (sd)
  std::vector<double> pc_sd;           ///< per PC: its sd over the PCA's fit data (PC units)
  /// Per PC: the realistic range (intersection over the two real classes, grid indices) of the TCN
  /// alone, without the typicality gate; {-1, -1} when empty.
  std::vector<std::pair<int, int>> range_raw;
  std::int64_t gate_rejected = 0;      ///< sweep predictions the gate turned synthetic that the TCN did not
  int num_models = 0, num_pcs = 0;
  std::vector<double> fractions;       ///< (P, S, M, 3, 3), perturb::frac_index
  std::vector<perturb::SlopeResult> slopes;  ///< per PC
  int top_pc = -1;                     ///< largest |class-balanced apoptosis slope|
  NuclearPc nuclear;
  /// Confusion at the low / high end of each PC's realistic range (real + shifted synthetic inputs).
  std::vector<std::array<ConfusionStats, 2>> range_confusion;
  std::vector<std::string> decoded_files;  ///< Fig 5a,b PNGs
  std::int64_t predictions = 0;
  double seconds = 0;

  /// Mean over models of the fraction of true class c predicted as j at (pc, shift index).
  double mean_fraction(int pc, int s, int c, int j) const;
  double sd_fraction(int pc, int s, int c, int j) const;
  /// One row per trajectory: its own apoptosis response to the nuclear-size PC — the OLS slope of
  /// its predicted apoptosis (0/1) over the PC's realistic range, per sd of nuclear shrinkage.
  /// Empty without a nuclear-size PC or a range of at least two points.
  report::CsvTable nuclear_per_trajectory;

  report::CsvTable table() const;        ///< model × PC × shift × true class
  report::CsvTable slopes_table() const; ///< one row per PC
  std::string brief() const;
  nlohmann::json to_json() const;
};

struct PcAblateResult {
  int num_models = 0, num_pcs = 0;
  ConfusionStats baseline;
  std::vector<ConfusionStats> ablated;               ///< per PC
  std::vector<std::array<Interval, 2>> recall_drop;  ///< per PC: baseline − ablated recall (mitosis, apoptosis)
  double seconds = 0;
  report::CsvTable table() const;
  std::string brief() const;
  nlohmann::json to_json() const;
};

struct PcWindowResult {
  int pc = -1;
  std::vector<int> lengths;
  std::vector<double> shifts;
  int num_models = 0;
  std::vector<double> fractions;  ///< (L, shift, M, 3, 3)
  /// Per shift: slope of the class-balanced apoptosis fraction vs log2 L with a CI.
  std::vector<Interval> slope_vs_log_length;
  double seconds = 0;
  double mean_fraction(int l, int s, int c, int j) const;
  report::CsvTable table() const;
  std::string brief() const;
  nlohmann::json to_json() const;
};

struct ShrinkNucleusResult {
  std::vector<double> factors;
  int num_models = 0;
  int pc = -1;                         ///< PC compared with (nuclear-size PC)
  std::vector<double> fractions;       ///< (F, M, 3, 3)
  std::vector<double> pc_change;       ///< per factor: mean change of that PC's coordinate
  std::vector<double> central_area_ratio;  ///< per factor: mean area after / before
  double apoptosis_vs_factor_slope = 0;    ///< class-balanced apoptosis fraction per unit factor
  double pc_shift_apoptosis_slope = 0;     ///< from pc-shift (per PC unit), if run
  std::string direction;                   ///< "consistent" | "opposite" | "undetermined"
  std::int64_t trajectories = 0, frames = 0;
  double seconds = 0;
  double mean_fraction(int f, int c, int j) const;
  report::CsvTable table() const;
  std::string brief() const;
  nlohmann::json to_json() const;
};

/// The skill gate's view (perturb::Skill over every real held-out trajectory).
struct SkillResult {
  perturb::Skill skill;
  int num_models = 0;
  report::CsvTable table() const;  ///< one row per model + a "mean" row
  std::string brief() const;
  nlohmann::json to_json() const;
};
/// Unperturbed held-out predictions of every real trajectory → perturb::predictive_skill.
SkillResult model_skill(PerturbContext& ctx, const PerturbConfig& cfg);

struct PerturbAllResult {
  std::string world;
  std::optional<SkillResult> skill;  ///< the gatekeeper of the verdicts (always computed by run_all)
  std::optional<SwitchResult> switch_neighbours, switch_centre;
  std::optional<PcShiftResult> pc_shift;
  std::optional<PcAblateResult> pc_ablate;
  std::optional<PcWindowResult> pc_window;
  std::optional<ShrinkNucleusResult> shrink_nucleus;
  std::vector<perturb::Verdict> verdicts;
  std::vector<std::string> files;    ///< everything written under out_dir/perturb/
  std::string brief() const;
  nlohmann::json to_json() const;    ///< all sections (written to perturb/perturb.json)
  /// Fills summary.json's switch_neighbours, switch_centre, pc_shift and ground_truth (simulated
  /// data) sections, and extra["pc_ablate" | "pc_window" | "shrink_nucleus"].
  void fill_summary(report::RunSummary& s) const;
};

/// Experiments. `out_dir` empty: nothing written (files lists stay empty).
SwitchResult run_switch(PerturbContext& ctx, const PerturbConfig& cfg, Switch kind,
                        const std::filesystem::path& out_dir = {});
PcShiftResult run_pc_shift(PerturbContext& ctx, const PerturbConfig& cfg, const std::filesystem::path& out_dir = {});
PcAblateResult run_pc_ablate(PerturbContext& ctx, const PerturbConfig& cfg);
/// pc < 0: the nuclear-size PC (or PC 0 without ground truth).
PcWindowResult run_pc_window(PerturbContext& ctx, const PerturbConfig& cfg, int pc = -1);
ShrinkNucleusResult run_shrink_nucleus(PerturbContext& ctx, const PerturbConfig& cfg, int pc = -1);
/// The verdicts from whatever results are present.
std::vector<perturb::Verdict> perturb_verdicts(const PerturbAllResult& r, const PerturbConfig& cfg);
/// Runs cfg.experiment_list() and writes CSVs, PNGs, perturb.json and verdicts.csv atomically into
/// out_dir/perturb/.
PerturbAllResult run_all(PerturbContext& ctx, const PerturbConfig& cfg, const std::filesystem::path& out_dir);
/// `taupe perturb <experiment>`: one experiment (a name of perturb_experiment_names(), or "all"
/// = run_all), its verdicts, and its files under out_dir/perturb/. `pc`: the PC compared by
/// pc-window / shrink-nucleus (-1 = the nuclear-size PC).
PerturbAllResult run_experiment(PerturbContext& ctx, const PerturbConfig& cfg, const std::string& experiment, int pc,
                                const std::filesystem::path& out_dir);
/// Writes the CSVs/JSON of the results present (used by run_all and `taupe perturb <experiment>`).
void write_results(PerturbAllResult& r, const std::filesystem::path& out_dir);

/// Eq. 8 on one (L, D) PC input: PC p += add on real frames only (padding stays padding).
inline void apply_pc_shift(float* seq, const std::uint8_t* real, int max_len, int dims, int p, float add) {
  for (int t = 0; t < max_len; ++t)
    if (real[t]) seq[static_cast<std::size_t>(t) * dims + p] += add;
}
/// pc-window: the same on the last `window` real frames only.
inline void apply_window_shift(float* seq, const std::uint8_t* real, int max_len, int dims, int p, float add,
                               int window) {
  for (int t = max_len - 1; t >= 0 && window > 0; --t)
    if (real[t]) seq[static_cast<std::size_t>(t) * dims + p] += add, --window;
}
/// pc-ablate: PC p set to its mean (0 in PC space) on real frames.
inline void apply_pc_ablate(float* seq, const std::uint8_t* real, int max_len, int dims, int p) {
  for (int t = 0; t < max_len; ++t)
    if (real[t]) seq[static_cast<std::size_t>(t) * dims + p] = 0.f;
}

/// Predictions of perturbed PC inputs for many variants (the batched engine, exposed for tests
/// and benchmarks): for every item of `items` (inputs `pcs`, masks `real`, both (n, L, D)/(n, L))
/// and every variant v, `modify(v, seq, real)` edits a copy of the item's (L, D) input in place;
/// returns the predicted class (V, n). Batches rows within memory_budget_mb.
using VariantFn = std::function<void(int variant, float* seq, const std::uint8_t* real)>;
std::vector<std::uint8_t> predict_variants(const ModelSet& models, const std::vector<PerturbItem>& items,
                                           const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                           int num_variants, const VariantFn& modify, std::int64_t memory_budget_mb,
                                           std::vector<float>* probs = nullptr, const RankShare& share = {},
                                           std::vector<std::uint8_t>* raw_pred = nullptr);

/// The fast path for variants that edit a single PC (pc-shift, pc-window, pc-ablate): variant v
/// of an item adds delta[t] to PC `p` of frame t, where `delta_fn(v, seq, real, delta)` returns p
/// (−1: the unperturbed input) and fills delta (max_len values, zeroed before the call; non-zero
/// only on real frames). Same result as predict_variants with `seq[t*D + p] += delta[t]` up to
/// float rounding (probabilities within 1e-5 in the tests), 2–8× faster: block 0 updated
/// incrementally, the all-padding prefix computed once per model, cache-sized batches
/// (`batch_rows`, 0 = default 128) through fused kernels. Models run on parallel workers (up to LibTorch's thread
/// count), so `delta_fn` must be safe to call concurrently. See pc_engine.cpp. `raw_pred`
/// (optional, (V, n)) receives the TCN's own class, before the typicality gate. When the models
/// run on an accelerator (ModelSet::on_device) or in bf16 (run.precision) it is
/// predict_pc_deltas_batched instead.
using PcDeltaFn = std::function<int(int variant, const float* seq, const std::uint8_t* real, float* delta)>;
std::vector<std::uint8_t> predict_pc_deltas(const ModelSet& models, const std::vector<PerturbItem>& items,
                                            const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                            int num_variants, const PcDeltaFn& delta_fn, std::int64_t memory_budget_mb,
                                            std::vector<float>* probs = nullptr, std::int64_t batch_rows = 0,
                                            std::vector<std::uint8_t>* raw_pred = nullptr, const RankShare& share = {});

/// predict_pc_deltas through predict_variants: every variant's edited input is written out and
/// run through ModelSet::predict_pc (the batched pruned forward, on the models' device). The
/// path for accelerators, where one large batch beats the fused engine's cache-sized ones.
std::vector<std::uint8_t> predict_pc_deltas_batched(const ModelSet& models, const std::vector<PerturbItem>& items,
                                                    const std::vector<float>& pcs, const std::vector<std::uint8_t>& real,
                                                    int num_variants, const PcDeltaFn& delta_fn,
                                                    std::int64_t memory_budget_mb, std::vector<float>* probs = nullptr,
                                                    std::vector<std::uint8_t>* raw_pred = nullptr,
                                                    const RankShare& share = {});

}  // namespace taupe
