// K-fold cross-validation of the TCN: folds, training (RMSprop, resumable), testing, outputs.
#include "taupe/temporal/cross_validation.h"
#include "taupe/temporal/artifacts.h"
#include "taupe/temporal/typicality.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <limits>
#include <map>
#include <unordered_map>
#include <set>
#include <mutex>
#include <optional>
#include <sstream>

#include <torch/nn.h>
#include <torch/optim.h>
#include <torch/serialize.h>
#include <ATen/CPUGeneratorImpl.h>

#include "taupe/core/atomic_file.h"
#include "taupe/core/config_io.h"
#include "taupe/core/errors.h"
#include "taupe/dist/cluster.h"
#include "taupe/encoder/torch_runtime.h"
#include "taupe/core/numeric_guard.h"
#include "taupe/core/parallel.h"
#include "taupe/core/log.h"
#include "taupe/core/rng.h"
#include "taupe/core/signals.h"
#include "taupe/core/stats.h"
#include "taupe/dataset/csv.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/projector/model_dir.h"
#include "taupe/temporal/sequence.h"
#include "taupe/temporal/tcn.h"
#include "taupe/temporal/tcn_io.h"

namespace taupe {

namespace fs = std::filesystem;

// ---- folds ------------------------------------------------------------------------------------
namespace {
/// Stratified group K-fold (see assign_folds).
std::vector<int> assign_grouped_folds(const EncodingSet& set, int folds, std::uint64_t seed,
                                      const std::vector<std::string>& key) {
  if (key.size() != set.trajectories.size())
    throw DataError("cross-validation: " + std::to_string(key.size()) + " group keys for " +
                    std::to_string(set.trajectories.size()) + " encodings");
  struct Group {
    std::vector<int> members;
    std::array<std::int64_t, 2> count{};  // distinct trajectory ids per class
    std::set<std::int64_t> ids;
  };
  std::map<std::string, Group> groups;
  for (int i = 0; i < static_cast<int>(set.trajectories.size()); ++i) {
    const auto& t = set.trajectories[static_cast<std::size_t>(i)];
    const int c = fate_class(t.fate);
    if (c < 0) continue;
    Group& g = groups[key[static_cast<std::size_t>(i)]];
    g.members.push_back(i);
    if (g.ids.insert(t.id).second) g.count[static_cast<std::size_t>(c)] += 1;
  }
  std::vector<Group*> order;
  std::array<std::int64_t, 2> total{}, with_class{};
  for (auto& [k, g] : groups) {
    order.push_back(&g);
    for (int c = 0; c < 2; ++c) {
      total[static_cast<std::size_t>(c)] += g.count[static_cast<std::size_t>(c)];
      with_class[static_cast<std::size_t>(c)] += g.count[static_cast<std::size_t>(c)] > 0;
    }
  }
  for (int c = 0; c < 2; ++c)
    if (with_class[static_cast<std::size_t>(c)] < folds)
      throw DataError(std::string("cross-validation: ") + std::to_string(with_class[static_cast<std::size_t>(c)]) +
                      " groups (cv.group_by) hold " + kClassNames[c] + " trajectories, fewer than cv.folds = " +
                      std::to_string(folds) + " (use fewer folds or a finer cv.group_by)");
  Rng rng(seed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<std::size_t>(rng.integer(0, static_cast<std::int64_t>(i) - 1))]);
  std::stable_sort(order.begin(), order.end(), [](const Group* a, const Group* b) {
    return a->count[0] + a->count[1] > b->count[0] + b->count[1];
  });
  std::vector<std::array<std::int64_t, 2>> fold_count(static_cast<std::size_t>(folds), {0, 0});
  std::vector<int> out(set.trajectories.size(), -1);
  for (const Group* g : order) {
    // The fold whose largest class share after adding g is smallest; then the emptiest; then the first.
    int best = 0;
    double best_share = 0;
    std::int64_t best_size = 0;
    for (int f = 0; f < folds; ++f) {
      double share = 0;
      for (int c = 0; c < 2; ++c)
        share = std::max(share, static_cast<double>(fold_count[static_cast<std::size_t>(f)][static_cast<std::size_t>(c)] +
                                                    g->count[static_cast<std::size_t>(c)]) /
                                    static_cast<double>(std::max<std::int64_t>(1, total[static_cast<std::size_t>(c)])));
      const std::int64_t size = fold_count[static_cast<std::size_t>(f)][0] + fold_count[static_cast<std::size_t>(f)][1];
      if (f == 0 || share < best_share - 1e-12 || (std::fabs(share - best_share) <= 1e-12 && size < best_size)) {
        best = f;
        best_share = share;
        best_size = size;
      }
    }
    for (int c = 0; c < 2; ++c) fold_count[static_cast<std::size_t>(best)][static_cast<std::size_t>(c)] += g->count[static_cast<std::size_t>(c)];
    for (int m : g->members) out[static_cast<std::size_t>(m)] = best;
  }
  for (int f = 0; f < folds; ++f)
    for (int c = 0; c < 2; ++c)
      if (fold_count[static_cast<std::size_t>(f)][static_cast<std::size_t>(c)] == 0)
        throw DataError("cross-validation: fold " + std::to_string(f) + " received no " + kClassNames[c] +
                        " trajectory when keeping groups (cv.group_by) whole; use fewer folds or a finer grouping");
  return out;
}
}  // namespace

std::vector<std::string> fold_groups(const EncodingSet& set, const fs::path& glimpses, int folds,
                                     const std::string& group_by, std::string* resolved) {
  if (resolved) *resolved = "trajectory";
  if (group_by == "trajectory") return {};
  const fs::path path = !glimpses.empty() ? glimpses : fs::path(set.glimpse_file);
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec)) return {};
  GlimpseReader reader(path);
  std::unordered_map<std::int64_t, const GlimpseInfo*> info;
  std::set<std::string> movies;
  for (const auto& gi : reader.infos()) info[gi.id] = &gi, movies.insert(gi.movie);
  std::string mode = group_by;
  if (mode == "auto") mode = static_cast<int>(movies.size()) >= folds ? "fov" : "lineage";
  std::vector<std::string> key;
  key.reserve(set.trajectories.size());
  for (const auto& t : set.trajectories) {
    const auto it = info.find(t.id);
    if (it == info.end()) return {};  // encodings from another glimpse file: no grouping information
    const GlimpseInfo& gi = *it->second;
    key.push_back(mode == "fov" ? gi.movie : gi.movie + "/" + std::to_string(gi.lineage));
  }
  if (resolved) *resolved = mode;
  return key;
}

std::vector<int> assign_folds(const EncodingSet& set, int folds, std::uint64_t seed,
                              const std::vector<std::string>& group_key) {
  if (folds < 2) throw ConfigError("cv.folds = " + std::to_string(folds) + ": must be >= 2");
  if (!group_key.empty()) return assign_grouped_folds(set, folds, seed, group_key);
  // Group encodings by trajectory id (rotated copies share it).
  std::map<std::int64_t, std::vector<int>> groups;
  for (int i = 0; i < static_cast<int>(set.trajectories.size()); ++i) groups[set.trajectories[i].id].push_back(i);
  std::vector<std::vector<std::int64_t>> by_class(2);
  for (const auto& [id, members] : groups) {
    const int c = fate_class(set.trajectories[members.front()].fate);
    for (int m : members)
      if (fate_class(set.trajectories[m].fate) != c)
        throw DataError("encodings of trajectory " + std::to_string(id) + " disagree on its fate");
    if (c >= 0) by_class[c].push_back(id);
  }
  std::vector<int> out(set.trajectories.size(), -1);
  Rng rng(seed);
  std::int64_t offset = 0;
  for (int c = 0; c < 2; ++c) {
    auto& ids = by_class[c];
    if (static_cast<int>(ids.size()) < folds)
      throw DataError(std::string("cross-validation: ") + std::to_string(ids.size()) + " " + kClassNames[c] +
                      " trajectories, fewer than cv.folds = " + std::to_string(folds));
    for (std::size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[rng.integer(0, static_cast<std::int64_t>(i) - 1)]);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const int f = static_cast<int>((offset + static_cast<std::int64_t>(i)) % folds);
      for (int m : groups[ids[i]]) out[m] = f;
    }
    offset += static_cast<std::int64_t>(ids.size());
  }
  return out;
}

// ---- results ----------------------------------------------------------------------------------
std::array<std::array<double, 3>, 3> Confusion::normalised() const {
  std::array<std::array<double, 3>, 3> n{};
  for (int r = 0; r < 3; ++r) {
    double s = 0;
    for (int c = 0; c < 3; ++c) s += static_cast<double>(counts[r][c]);
    if (s > 0)
      for (int c = 0; c < 3; ++c) n[r][c] = static_cast<double>(counts[r][c]) / s;
  }
  return n;
}

std::string CvResult::brief() const {
  std::ostringstream s;
  s << std::fixed << std::setprecision(3) << "test recall over " << folds.size() << " folds (mean ± sd):";
  for (int c = 0; c < 3; ++c) s << " " << kClassNames[c] << " " << mean[c][c] << " ± " << sd[c][c];
  s << "; " << total_steps << " steps, " << std::setprecision(1) << wall_seconds << " s";
  return s.str();
}

std::string CvResult::full() const {
  std::ostringstream s;
  s << brief() << "\n" << std::fixed << std::setprecision(3);
  auto matrix = [&](const std::string& title, const std::array<std::array<double, 3>, 3>& m,
                    const std::array<std::array<double, 3>, 3>* sdm) {
    s << title << " (rows true, columns predicted: mitosis apoptosis synthetic)\n";
    for (int r = 0; r < 3; ++r) {
      s << "  " << std::setw(10) << kClassNames[r];
      for (int c = 0; c < 3; ++c) {
        s << "  " << m[r][c];
        if (sdm) s << " ± " << (*sdm)[r][c];
      }
      s << "\n";
    }
  };
  matrix("mean over folds", mean, &sd);
  for (const auto& f : folds) matrix("fold " + std::to_string(f.fold), f.confusion.normalised(), nullptr);
  return s.str();
}

namespace {

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string config_toml(TemporalConfig cfg, CvConfig cv) {
  ConfigSections sections{make_section("temporal", cfg), make_section("cv", cv)};
  return to_toml(sections, false);
}

torch::Tensor batch_tensor(const SequenceBatch& b) {
  return torch::from_blob(const_cast<float*>(b.x.data()), {b.n, b.max_len, b.dims}, torch::kFloat32).clone();
}
torch::Tensor label_tensor(const std::vector<int>& labels) {
  std::vector<std::int64_t> l(labels.begin(), labels.end());
  return torch::tensor(l, torch::kLong);
}

struct CurveRow {
  int epoch = 0;
  std::int64_t step = 0;
  double train_loss = 0, train_accuracy = 0, val_loss = 0, val_accuracy = 0;
};
nlohmann::json curves_json(const std::vector<CurveRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows)
    a.push_back({r.epoch, r.step, r.train_loss, r.train_accuracy, r.val_loss, r.val_accuracy});
  return a;
}
/// A number written by nlohmann::json: NaN (no validation data, say) is written as null.
double number_or_nan(const nlohmann::json& v) {
  return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
}

std::vector<CurveRow> curves_from_json(const nlohmann::json& a) {
  std::vector<CurveRow> rows;
  for (const auto& e : a)
    rows.push_back(CurveRow{e.at(0).get<int>(), e.at(1).get<std::int64_t>(), number_or_nan(e.at(2)),
                            number_or_nan(e.at(3)), number_or_nan(e.at(4)), number_or_nan(e.at(5))});
  return rows;
}

struct ProbRow {
  std::int64_t id = 0;  // trajectory id; synthetic test trajectories: -(i + 1)
  int rotation = 0;
  bool synthetic = false;
  int truth = 0, predicted = 0;
  float p[3] = {0, 0, 0};
};

struct FoldOutcome {
  FoldResult result;
  std::vector<CurveRow> curves;
  std::vector<ProbRow> probs;
};

nlohmann::json outcome_json(const FoldOutcome& o, const std::string& fingerprint) {
  nlohmann::json probs = nlohmann::json::array();
  for (const auto& p : o.probs)
    probs.push_back({p.id, p.rotation, p.synthetic ? 1 : 0, p.truth, p.predicted, p.p[0], p.p[1], p.p[2]});
  nlohmann::json counts = nlohmann::json::array(), raw = nlohmann::json::array();
  for (const auto& row : o.result.confusion.counts) counts.push_back(row);
  for (const auto& row : o.result.raw_confusion.counts) raw.push_back(row);
  return {{"fingerprint", fingerprint},
          {"raw_confusion", raw},
          {"gate_enabled", o.result.gate_enabled},
          {"gate_rejected", o.result.gate_rejected},
          {"fold", o.result.fold},
          {"train_trajectories", o.result.train_trajectories},
          {"validation_trajectories", o.result.validation_trajectories},
          {"test_trajectories", o.result.test_trajectories},
          {"steps", o.result.steps},
          {"final_train_loss", o.result.final_train_loss},
          {"final_val_accuracy", o.result.final_val_accuracy},
          {"confusion", counts},
          {"curves", curves_json(o.curves)},
          {"probabilities", probs}};
}

FoldOutcome outcome_from_json(const nlohmann::json& j) {
  FoldOutcome o;
  o.result.fold = j.at("fold").get<int>();
  o.result.train_trajectories = j.at("train_trajectories").get<std::int64_t>();
  o.result.validation_trajectories = j.at("validation_trajectories").get<std::int64_t>();
  o.result.test_trajectories = j.at("test_trajectories").get<std::int64_t>();
  o.result.steps = j.at("steps").get<std::int64_t>();
  o.result.final_train_loss = number_or_nan(j.at("final_train_loss"));
  o.result.final_val_accuracy = number_or_nan(j.at("final_val_accuracy"));
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      o.result.confusion.counts[r][c] = j.at("confusion").at(r).at(c).get<std::int64_t>();
      o.result.raw_confusion.counts[r][c] =
          j.contains("raw_confusion") ? j.at("raw_confusion").at(r).at(c).get<std::int64_t>() : o.result.confusion.counts[r][c];
    }
  o.result.gate_enabled = j.value("gate_enabled", false);
  if (j.contains("gate_rejected")) o.result.gate_rejected = j.at("gate_rejected").get<std::array<std::int64_t, 2>>();
  o.curves = curves_from_json(j.at("curves"));
  for (const auto& e : j.at("probabilities")) {
    ProbRow p;
    p.id = e.at(0).get<std::int64_t>();
    p.rotation = e.at(1).get<int>();
    p.synthetic = e.at(2).get<int>() != 0;
    p.truth = e.at(3).get<int>();
    p.predicted = e.at(4).get<int>();
    for (int c = 0; c < 3; ++c) p.p[c] = static_cast<float>(number_or_nan(e.at(5 + c)));
    o.probs.push_back(p);
  }
  return o;
}

// Probabilities (n, 3) of a batch with the pruned forward (eval, inference mode).
torch::Tensor predict_probs(Tcn& tcn, const PcaTransform& pca, const torch::Tensor& x) {
  c10::InferenceMode guard;
  tcn->eval();
  std::vector<torch::Tensor> parts;
  const std::int64_t chunk = 512;
  const c10::Device device = pca.mean.device();  // the TCN's (x stays on the CPU)
  for (std::int64_t s = 0; s < x.size(0); s += chunk) {
    const torch::Tensor pcs = pca.forward(x.slice(0, s, std::min(x.size(0), s + chunk)).to(device));
    torch::Tensor logits;
    {
      const AutocastScope amp;  // run.precision
      logits = tcn->forward_last(pcs);
    }
    parts.push_back(torch::softmax(logits.to(torch::kFloat32), 1).to(torch::kCPU));
  }
  return parts.empty() ? torch::zeros({0, 3}) : torch::cat(parts, 0);
}

// PC coordinates (n, L, D) of a batch, as the TCN sees them.
std::vector<float> batch_pcs(const PcaTransform& pca, const SequenceBatch& b) {
  c10::InferenceMode guard;
  if (b.n == 0) return {};
  auto pcs = pca.forward(batch_tensor(b)).contiguous();
  return std::vector<float>(pcs.data_ptr<float>(), pcs.data_ptr<float>() + pcs.numel());
}

std::vector<double> gate_scores(const TypicalityGate& gate, const std::vector<float>& pcs, const SequenceBatch& b) {
  std::vector<double> s(static_cast<std::size_t>(b.n));
  const std::size_t seq = static_cast<std::size_t>(b.max_len) * b.dims;
  for (int i = 0; i < b.n; ++i)
    s[static_cast<std::size_t>(i)] =
        gate.score(pcs.data() + static_cast<std::size_t>(i) * seq, b.real.data() + static_cast<std::size_t>(i) * b.max_len, b.max_len);
  return s;
}

// The gate calibrated on a fold's training trajectories (exact-cutoff inputs), built and projected
// kGateChunk trajectories at a time: memory stays flat however many trajectories there are.
TypicalityGate calibrate_fold_gate(const EncodingSet& set, const PcaTransform& pca, const std::vector<int>& train_idx,
                                   const TemporalConfig& cfg) {
  constexpr std::size_t kGateChunk = 512;
  const auto chunks = [&](const GateChunkVisitor& visit) {
    for (std::size_t s = 0; s < train_idx.size(); s += kGateChunk) {
      const std::vector<int> part(train_idx.begin() + static_cast<std::ptrdiff_t>(s),
                                  train_idx.begin() + static_cast<std::ptrdiff_t>(std::min(train_idx.size(), s + kGateChunk)));
      const auto b = build_inputs(set, part, cfg.max_len);
      const auto pcs = batch_pcs(pca, b);
      visit(pcs.data(), b.real.data(), b.n);
    }
  };
  return calibrate_gate_chunked(chunks, cfg.max_len, pca.dims(), cfg.typicality_quantile);
}

// ---- checkpoints ------------------------------------------------------------------------------
struct TrainState {
  std::int64_t step = 0;
  int epochs_done = 0;
  std::vector<CurveRow> curves;
};

void save_checkpoint(const fs::path& path, TcnImpl& tcn, torch::optim::Optimizer& opt, const TrainState& st,
                     const std::string& fingerprint) {
  torch::serialize::OutputArchive ar, model, optim;
  for (const auto& p : tcn.named_parameters()) model.write(p.key(), p.value().detach());
  for (const auto& b : tcn.named_buffers()) model.write(b.key(), b.value(), true);
  opt.save(optim);
  ar.write("model", model);
  ar.write("optimizer", optim);
  nlohmann::json meta{{"fingerprint", fingerprint}, {"step", st.step}, {"epochs_done", st.epochs_done},
                      {"curves", curves_json(st.curves)}};
  ar.write("state", c10::IValue(meta.dump()));
  write_atomic(path, [&](const fs::path& tmp) { ar.save_to(tmp.string()); });
}

// Returns false (and leaves the model untouched) when there is no usable checkpoint.
bool load_checkpoint(const fs::path& path, TcnImpl& tcn, torch::optim::Optimizer& opt, TrainState& st,
                     const std::string& fingerprint) {
  if (!fs::exists(path)) return false;
  try {
    torch::serialize::InputArchive ar, model, optim;
    ar.load_from(path.string(), tcn.parameters().front().device());  // resumes on any device
    c10::IValue iv;
    ar.read("state", iv);
    auto meta = nlohmann::json::parse(iv.toStringRef());
    if (meta.at("fingerprint").get<std::string>() != fingerprint) return false;
    ar.read("model", model);
    ar.read("optimizer", optim);
    torch::NoGradGuard ng;
    for (auto& p : tcn.named_parameters()) {
      torch::Tensor t;
      model.read(p.key(), t);
      if (t.sizes() != p.value().sizes()) return false;
      p.value().copy_(t);
    }
    for (auto& b : tcn.named_buffers()) {
      torch::Tensor t;
      model.read(b.key(), t, true);
      b.value().copy_(t);
    }
    opt.load(optim);
    st.step = meta.at("step").get<std::int64_t>();
    st.epochs_done = meta.at("epochs_done").get<int>();
    st.curves = curves_from_json(meta.at("curves"));
    return true;
  } catch (const std::exception&) {
    return false;  // unreadable (cannot happen with atomic writes, but never trust it): start over
  }
}

struct StopRequested : std::runtime_error {
  StopRequested() : std::runtime_error("stopped after the requested number of steps") {}
};

// ---- one fold ---------------------------------------------------------------------------------
/// A fold's trajectories: test = fold k; training = the others, minus a per-class validation
/// subset (by group, so rotations of one trajectory stay together).
struct FoldSplit {
  std::vector<int> test, train, validation;
  std::size_t validation_per_class = 0;
};

FoldSplit split_fold(const EncodingSet& set, const std::vector<int>& folds, int k, const TemporalConfig& cfg,
                     std::uint64_t fold_seed) {
  FoldSplit sp;
  std::vector<int>& test_idx = sp.test;
  std::vector<int>& train_idx = sp.train;
  std::vector<int>& val_idx = sp.validation;
  std::map<std::int64_t, std::vector<int>> train_groups;
  for (int i = 0; i < static_cast<int>(folds.size()); ++i) {
    if (folds[i] < 0) continue;
    if (folds[i] == k) test_idx.push_back(i);
    else train_groups[set.trajectories[i].id].push_back(i);
  }
  std::vector<std::vector<std::int64_t>> group_ids(2);
  for (const auto& [id, m] : train_groups) group_ids[fate_class(set.trajectories[m.front()].fate)].push_back(id);
  const std::size_t smallest = std::min(group_ids[0].size(), group_ids[1].size());
  std::size_t n_val = cfg.validation_fraction > 0
                          ? std::max<std::size_t>(1, static_cast<std::size_t>(cfg.validation_fraction * smallest))
                          : 0;
  if (n_val >= smallest) n_val = 0;  // never take a whole class away from training
  Rng split_rng(derive_seed(fold_seed, 1));
  for (int c = 0; c < 2; ++c) {
    auto& ids = group_ids[c];
    for (std::size_t i = ids.size(); i > 1; --i)
      std::swap(ids[i - 1], ids[split_rng.integer(0, static_cast<std::int64_t>(i) - 1)]);
    for (std::size_t i = 0; i < ids.size(); ++i)
      for (int m : train_groups[ids[i]]) (i < n_val ? val_idx : train_idx).push_back(m);
  }
  std::sort(train_idx.begin(), train_idx.end());
  std::sort(val_idx.begin(), val_idx.end());

  sp.validation_per_class = n_val;
  return sp;
}

/// Validation inputs (the validation trajectories + as many synthetic ones) and labels.
std::pair<torch::Tensor, torch::Tensor> validation_set(const EncodingSet& set, const FoldSplit& sp,
                                                       const TemporalConfig& cfg, std::uint64_t fold_seed) {
  torch::Tensor val_x, val_y;
  if (!sp.validation.empty()) {
    auto vb = build_inputs(set, sp.validation, cfg.max_len);
    auto vs = build_synthetic(set, sp.train, static_cast<int>(sp.validation_per_class), cfg, derive_seed(fold_seed, 3));
    val_x = torch::cat({batch_tensor(vb), batch_tensor(vs)}, 0);
    auto labels = vb.labels;
    labels.insert(labels.end(), vs.labels.begin(), vs.labels.end());
    val_y = label_tensor(labels);
  }

  return {val_x, val_y};
}

/// What a diverged TCN training should change.
const char* const kDivergedHint = "lower temporal.learning_rate (or check the encodings for NaN / Inf)";

/// One epoch of training steps (st.step advances); the epoch's curve row, validated on
/// (val_x, val_y) when defined.
CurveRow train_epoch(Tcn& tcn, torch::optim::RMSprop& opt, BatchSampler& sampler, const PcaTransform& pca,
                     at::Generator& dropout_gen, TrainState& st, const TemporalConfig& cfg, std::uint64_t fold_seed,
                     const torch::Tensor& val_x, const torch::Tensor& val_y, int epoch, std::int64_t& steps_budget,
                     const std::string& what, const LastCheckpoint& last_good) {
  tcn->train();
  double loss_sum = 0;
  std::int64_t correct = 0, seen = 0;
  for (int s = 0; s < cfg.steps_per_epoch; ++s) {
    if (steps_budget == 0) throw StopRequested();
    if (steps_budget > 0) --steps_budget;
    // SIGINT / SIGTERM: the epoch checkpoint is the safe point; this epoch is redone on resume.
    throw_if_stop_requested(what + " resumes from " + last_good.describe());
    auto b = sampler.batch(st.step);
    const c10::Device device = pca.mean.device();  // the TCN's: the transform was placed with it
    auto x = pca.forward(batch_tensor(b).to(device));
    auto y = label_tensor(b.labels).to(device);
    dropout_gen.set_current_seed(derive_seed(fold_seed, 1000000 + static_cast<std::uint64_t>(st.step)));  // dropout masks
    // The very first training forward is the full one: it runs the weight-norm data init on
    // statistics over all time steps. After that the loss reads only the last step, so the
    // pruned forward gives the same loss and gradients for ~1/4.7 of the conv work.
    torch::Tensor logits;  // (B, 3)
    if (tcn->initialized()) {
      const AutocastScope amp;  // run.precision (the data init above stays in float32)
      logits = tcn->forward_last(x);
    } else {
      logits = tcn->forward(x);
    }
    logits = logits.to(torch::kFloat32);
    auto loss = torch::nn::functional::cross_entropy(logits, y);
    const double loss_value = loss.item<double>();
    require_finite_loss(loss_value, what, st.step, last_good, kDivergedHint);
    opt.zero_grad();
    loss.backward();
    opt.step();
    ++st.step;
    loss_sum += loss_value * b.n;
    correct += logits.argmax(1).eq(y).sum().item<std::int64_t>();
    seen += b.n;
  }
  CurveRow row;
  row.epoch = epoch + 1;
  row.step = st.step;
  row.train_loss = loss_sum / std::max<std::int64_t>(1, seen);
  row.train_accuracy = static_cast<double>(correct) / std::max<std::int64_t>(1, seen);
  row.val_loss = row.val_accuracy = std::nan("");
  if (val_x.defined()) {
    auto p = predict_probs(tcn, pca, val_x);
    row.val_loss = torch::nn::functional::nll_loss(torch::log(p.clamp_min(1e-12)), val_y).item<double>();
    row.val_accuracy = p.argmax(1).eq(val_y).to(torch::kFloat64).mean().item<double>();
  }
  return row;
}

/// Tests the fold's TCN on the held-out fold + as many synthetic trajectories (walks from
/// held-out frames), with the typicality gate calibrated on the fold's training trajectories.
FoldOutcome test_fold(const EncodingSet& set, const PcaTransform& pca, const PcaTransform& device_pca,
                      const TemporalConfig& cfg, const CvConfig& cv, const FoldSplit& sp, Tcn& tcn,
                      std::uint64_t fold_seed, TypicalityGate& gate) {
  const std::vector<int>& test_idx = sp.test;
  const std::vector<int>& train_idx = sp.train;
  FoldOutcome out;
  auto tb = build_inputs(set, test_idx, cfg.max_len);
  const int n_syn = cv.synthetic_test_per_fold >= 0 ? cv.synthetic_test_per_fold : tb.n;
  auto sb = build_synthetic(set, test_idx, n_syn, cfg, derive_seed(fold_seed, 5));
  auto probs = predict_probs(tcn, device_pca, torch::cat({batch_tensor(tb), batch_tensor(sb)}, 0)).contiguous();
  float* p = probs.data_ptr<float>();
  // The TCN's own predictions, kept beside the gated ones.
  std::vector<int> raw_pred(static_cast<std::size_t>(tb.n + sb.n));
  for (int i = 0; i < tb.n + sb.n; ++i) raw_pred[static_cast<std::size_t>(i)] = stats::argmax(p + i * 3, 3);
  // Typicality gate, calibrated on this fold's training trajectories (exact-cutoff inputs).
  if (cfg.typicality_quantile > 0) {
    gate = calibrate_fold_gate(set, pca, train_idx, cfg);
    auto scores = gate_scores(gate, batch_pcs(pca, tb), tb);
    const auto ss = gate_scores(gate, batch_pcs(pca, sb), sb);
    scores.insert(scores.end(), ss.begin(), ss.end());
    for (std::size_t i = 0; i < scores.size(); ++i)
      out.result.gate_rejected[static_cast<int>(i) < tb.n ? 0 : 1] += gate.rejects(scores[i]);
    apply_gate(gate, scores, p);
  }
  out.result.gate_enabled = gate.enabled();
  for (int i = 0; i < tb.n + sb.n; ++i) {
    ProbRow r;
    r.synthetic = i >= tb.n;
    if (!r.synthetic) {
      const auto& t = set.trajectories[tb.source[i]];
      r.id = t.id;
      r.rotation = t.rotation;
      r.truth = tb.labels[i];
    } else {
      r.id = -(i - tb.n + 1);
      r.truth = static_cast<int>(FateClass::kSynthetic);
    }
    for (int c = 0; c < 3; ++c) r.p[c] = p[i * 3 + c];
    r.predicted = stats::argmax(r.p, 3);
    out.result.confusion.add(r.truth, r.predicted);
    out.result.raw_confusion.add(r.truth, raw_pred[static_cast<std::size_t>(i)]);
    out.probs.push_back(r);
  }
  out.result.test_trajectories = tb.n;
  return out;
}

/// Folds trained in parallel share the intra-op threads among the folds still to finish: with 5
/// folds on 2 workers the last one would otherwise train on one core while the other idles.
struct FoldThreads {
  int total = 1;                  ///< intra-op threads of the whole stage
  int workers = 1;
  std::atomic<int> unfinished{0};  ///< folds running or not yet started
  /// Sets the calling fold thread's team size (OpenMP: per thread); results do not depend on it.
  void adjust() const {
    const int active = std::max(1, std::min(workers, unfinished.load()));
    at::set_num_threads(std::max(1, total / active));
  }
};

FoldOutcome run_fold(const EncodingSet& set, const PcaTransform& pca, const TemporalConfig& cfg, const CvConfig& cv,
                     const std::vector<int>& folds, int k, const fs::path& model_dir, const std::string& fingerprint,
                     const CvProgress& progress, std::int64_t& steps_budget, const FoldThreads* threads = nullptr) {
  const std::uint64_t fold_seed = derive_seed(static_cast<std::uint64_t>(cv.seed), 1000 + static_cast<std::uint64_t>(k));
  const FoldSplit sp = split_fold(set, folds, k, cfg, fold_seed);
  BatchSampler sampler(set, sp.train, cfg, derive_seed(fold_seed, 2));
  const auto [val_x, val_y] = validation_set(set, sp, cfg, fold_seed);

  // Weight init draws from the global generator: seed + construct under one lock so that folds
  // on parallel threads get the same weights as in sequence.
  Tcn tcn{nullptr};
  {
    static std::mutex init_mutex;
    std::lock_guard<std::mutex> lock(init_mutex);
    torch::manual_seed(derive_seed(fold_seed, 4));
    tcn = Tcn(TcnOptions::from_config(cfg, set.latent_dims));
  }
  tcn->to(compute_device());  // weights drawn on the CPU: the same initial model on every device
  const PcaTransform device_pca = pca.to(compute_device());
  at::Generator dropout_gen = at::make_generator<at::CPUGeneratorImpl>(derive_seed(fold_seed, 6));
  DropoutGeneratorScope dropout_scope(dropout_gen);
  torch::optim::RMSprop opt(tcn->parameters(),
                            torch::optim::RMSpropOptions(cfg.learning_rate).alpha(cfg.rho).eps(cfg.eps));
  const fs::path ckpt = temporal_artifacts::fold_checkpoint(model_dir, k);
  TrainState st;
  const bool resumed = load_checkpoint(ckpt, *tcn, opt, st, fingerprint);

  const std::string what = "TCN training of " + temporal_artifacts::fold_name(k);
  LastCheckpoint last_good;
  if (resumed) last_good = {ckpt.string(), st.step};
  for (int epoch = st.epochs_done; epoch < cfg.epochs; ++epoch) {
    if (threads) threads->adjust();
    const CurveRow row = train_epoch(tcn, opt, sampler, device_pca, dropout_gen, st, cfg, fold_seed, val_x, val_y,
                                     epoch, steps_budget, what, last_good);
    st.curves.push_back(row);
    st.epochs_done = epoch + 1;
    save_checkpoint(ckpt, *tcn, opt, st, fingerprint);
    last_good = {ckpt.string(), st.step};
    if (progress) {
      CvProgressEvent ev;
      ev.fold = k;
      ev.epoch = epoch + 1;
      ev.epochs = cfg.epochs;
      ev.train_loss = row.train_loss;
      ev.train_accuracy = row.train_accuracy;
      ev.val_loss = row.val_loss;
      ev.val_accuracy = row.val_accuracy;
      ev.resumed = resumed;
      progress(ev);
    }
  }

  if (threads) threads->adjust();
  TypicalityGate gate;
  FoldOutcome out = test_fold(set, pca, device_pca, cfg, cv, sp, tcn, fold_seed, gate);
  out.curves = st.curves;
  out.result.fold = k;
  out.result.train_trajectories = static_cast<std::int64_t>(sp.train.size());
  out.result.validation_trajectories = static_cast<std::int64_t>(sp.validation.size());
  out.result.steps = st.step;
  out.result.final_train_loss = st.curves.empty() ? 0 : st.curves.back().train_loss;
  out.result.final_val_accuracy = st.curves.empty() ? 0 : st.curves.back().val_accuracy;

  nlohmann::json meta{{"fold", k}, {"steps", st.step}, {"fingerprint", fingerprint}, {"max_len", cfg.max_len}};
  if (gate.enabled())
    meta["typicality"] = {{"quantile", gate.quantile}, {"threshold", gate.threshold}, {"inv_var", gate.inv_var}};
  std::vector<std::string> bad;
  for (const auto& kv : tcn->named_parameters())
    if (!torch::isfinite(kv.value()).all().item<bool>()) bad.push_back(kv.key());
  require_finite_weights(bad, what, last_good, kDivergedHint);
  save_tcn_file(temporal_artifacts::fold_weights(model_dir, k), *tcn, pca, meta);
  write_text_atomic(temporal_artifacts::fold_outcome(model_dir, k), outcome_json(out, fingerprint).dump());
  std::error_code ec;
  fs::remove(ckpt, ec);
  return out;
}


}  // namespace

// ---- driver -----------------------------------------------------------------------------------
namespace {

/// Fingerprint of configuration + data + fold assignment + PCA: a checkpoint or finished fold
/// is reused only when it matches.
std::string cv_fingerprint(const EncodingSet& set, const Pca& pca, const TemporalConfig& cfg, const CvConfig& cv,
                           const std::vector<int>& folds) {
  std::ostringstream fp;
  CvConfig cv_fp = cv;
  cv_fp.parallel_folds = CvConfig{}.parallel_folds;  // scheduling, not content
  fp << config_toml(cfg, cv_fp) << "|n=" << set.trajectories.size() << "|D=" << set.latent_dims;
  for (std::size_t i = 0; i < set.trajectories.size(); ++i) {
    const auto& t = set.trajectories[i];
    fp << "|" << t.id << ":" << t.rotation << ":" << static_cast<int>(t.fate) << ":" << t.cutoff << ":" << t.z_mean.size()
       << ":" << folds[i];
    for (float v : t.z_mean) fp << (v > 0 ? '+' : '-');  // coarse content check, cheap
  }
  for (double v : pca.mean) fp << "|" << v;
  for (double v : pca.components) fp << "," << v;
  char fpbuf[32];
  std::snprintf(fpbuf, sizeof fpbuf, "%016llx", static_cast<unsigned long long>(fnv1a(fp.str())));
  return fpbuf;
}

/// Writes which model tests which trajectory (folds.csv): known before training.
void write_fold_assignment(const EncodingSet& set, const std::vector<int>& folds, const fs::path& model_dir) {
  std::map<std::int64_t, std::pair<int, Fate>> by_id;
  for (std::size_t i = 0; i < set.trajectories.size(); ++i)
    by_id[set.trajectories[i].id] = {folds[i], set.trajectories[i].fate};
  CsvTable t({"trajectory_id", "fold", "fate"});
  for (const auto& [id, f] : by_id) t.add_row({cell(static_cast<long long>(id)), cell(f.first), to_string(f.second)});
  write_csv(temporal_artifacts::folds_csv(model_dir), t);
}

/// Finished folds matching `fingerprint` (read back) and the folds still to train.
std::vector<int> reuse_finished_folds(const fs::path& model_dir, const CvConfig& cv, const CvOptions& options,
                                      const std::string& fingerprint, std::vector<std::optional<FoldOutcome>>& by_fold) {
  by_fold.assign(static_cast<std::size_t>(cv.folds), std::nullopt);
  std::vector<int> to_train;
  for (int k = 0; k < cv.folds; ++k) {
    const fs::path done_json = temporal_artifacts::fold_outcome(model_dir, k);
    if (fs::exists(done_json) && fs::exists(temporal_artifacts::fold_weights(model_dir, k))) {
      try {
        auto j = nlohmann::json::parse(read_text_file(done_json));
        if (j.at("fingerprint").get<std::string>() == fingerprint) {
          by_fold[static_cast<std::size_t>(k)] = outcome_from_json(j);
          continue;
        }
      } catch (const std::exception&) {
      }
    }
    if (options.only_fold >= 0 && options.only_fold != k) continue;
    to_train.push_back(k);
  }
  return to_train;
}

/// Trains the folds `to_train` (in parallel, cv.parallel_folds, unless a step budget is set).
void train_folds(const EncodingSet& set, const PcaTransform& transform, const TemporalConfig& cfg, const CvConfig& cv,
                 const std::vector<int>& folds, const std::vector<int>& to_train, const fs::path& model_dir,
                 const std::string& fingerprint, const CvProgress& progress, const CvOptions& options,
                 std::vector<std::optional<FoldOutcome>>& by_fold) {
  const int workers = options.stop_after_steps >= 0
                          ? 1
                          : std::min<int>(cv.parallel_folds, static_cast<int>(to_train.size()));
  std::mutex progress_mutex;
  const CvProgress locked_progress = progress ? CvProgress([&](const CvProgressEvent& ev) {
    std::lock_guard<std::mutex> lock(progress_mutex);
    progress(ev);
  })
                                              : CvProgress();
  std::int64_t steps_budget = options.stop_after_steps;
  if (workers <= 1) {
    for (int k : to_train) {
      try {
        by_fold[static_cast<std::size_t>(k)] =
            run_fold(set, transform, cfg, cv, folds, k, model_dir, fingerprint, progress, steps_budget);
      } catch (const StopRequested&) {
        throw ModelError("training stopped after the requested " + std::to_string(options.stop_after_steps) +
                         " steps (resume by running again)");
      }
    }
  } else {
    const int threads_before = at::get_num_threads();
    FoldThreads share;
    share.total = threads_before;
    share.workers = workers;
    share.unfinished = static_cast<int>(to_train.size());
    struct RestoreThreads {
      int n;
      ~RestoreThreads() { at::set_num_threads(n); }
    } restore{threads_before};
    parallel_for(
        static_cast<int>(to_train.size()), workers,
        [&](int i) {
          const int k = to_train[static_cast<std::size_t>(i)];
          std::int64_t unlimited = -1;
          by_fold[static_cast<std::size_t>(k)] =
              run_fold(set, transform, cfg, cv, folds, k, model_dir, fingerprint, locked_progress, unlimited, &share);
          --share.unfinished;
        },
        [&] { share.adjust(); });  // each thread's OpenMP team size
  }
}

/// Per-fold results into probabilities.csv, curves.csv and confusion.csv; mean and sd over folds.
CvResult write_cv_tables(const std::vector<FoldOutcome>& outcomes, const fs::path& model_dir) {
  CvResult result;
  CsvTable probs({"trajectory_id", "rotation", "fold", "kind", "true_class", "predicted_class", "p_mitosis",
                  "p_apoptosis", "p_synthetic"});
  CsvTable curves({"fold", "epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy"});
  CsvTable conf({"fold", "true_class", "predicted_class", "count", "fraction"});
  for (const auto& o : outcomes) {
    const int k = o.result.fold;
    result.folds.push_back(o.result);
    result.total_steps += o.result.steps;
    for (const auto& r : o.probs)
      probs.add_row({cell(static_cast<long long>(r.id)), cell(r.rotation), cell(k), r.synthetic ? "synthetic" : "real",
                     kClassNames[r.truth], kClassNames[r.predicted], cell(r.p[0]), cell(r.p[1]), cell(r.p[2])});
    for (const auto& c : o.curves)
      curves.add_row({cell(k), cell(c.epoch), cell(static_cast<long long>(c.step)), cell(c.train_loss),
                      cell(c.train_accuracy), cell(c.val_loss), cell(c.val_accuracy)});
    const auto n = o.result.confusion.normalised();
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c)
        conf.add_row({cell(k), kClassNames[r], kClassNames[c], cell(static_cast<long long>(o.result.confusion.counts[r][c])),
                      cell(n[r][c])});
  }
  const double nf = static_cast<double>(result.folds.size());
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      double s = 0, s2 = 0;
      double sr = 0;
      for (const auto& f : result.folds) s += f.confusion.normalised()[r][c], sr += f.raw_confusion.normalised()[r][c];
      result.mean[r][c] = nf > 0 ? s / nf : 0;
      result.mean_raw[r][c] = nf > 0 ? sr / nf : 0;
      for (const auto& f : result.folds) s2 += std::pow(f.confusion.normalised()[r][c] - result.mean[r][c], 2);
      result.sd[r][c] = nf > 1 ? std::sqrt(s2 / (nf - 1)) : 0;  // sample sd over folds
      conf.add_row({"mean", kClassNames[r], kClassNames[c], "", cell(result.mean[r][c])});
      conf.add_row({"sd", kClassNames[r], kClassNames[c], "", cell(result.sd[r][c])});
    }
  write_csv(temporal_artifacts::probabilities_csv(model_dir), probs);
  write_csv(temporal_artifacts::curves_csv(model_dir), curves);
  write_csv(temporal_artifacts::confusion_csv(model_dir), conf);
  return result;
}

/// cv_summary.json and the model manifest's "temporal" section.
void write_cv_summary(const CvResult& result, const EncodingSet& set, const TemporalConfig& cfg, const CvConfig& cv,
                      std::size_t trained_folds, const std::string& fingerprint, const fs::path& model_dir) {
  const bool complete = static_cast<int>(trained_folds) == cv.folds;
  nlohmann::json recall_mean, recall_sd, per_fold = nlohmann::json::array();
  for (int c = 0; c < 3; ++c) {
    recall_mean[kClassNames[c]] = result.mean[c][c];
    recall_sd[kClassNames[c]] = result.sd[c][c];
  }
  for (const auto& f : result.folds) {
    nlohmann::json m = nlohmann::json::array();
    for (const auto& row : f.confusion.normalised()) m.push_back(row);
    per_fold.push_back({{"fold", f.fold}, {"steps", f.steps}, {"test_trajectories", f.test_trajectories},
                        {"confusion_normalised", m}});
  }
  nlohmann::json mean_m = nlohmann::json::array(), sd_m = nlohmann::json::array(), raw_m = nlohmann::json::array();
  for (int r = 0; r < 3; ++r) {
    mean_m.push_back(result.mean[r]);
    sd_m.push_back(result.sd[r]);
    raw_m.push_back(result.mean_raw[r]);
  }
  std::array<std::int64_t, 2> rejected{};
  bool gated = false;
  for (const auto& f : result.folds) {
    rejected[0] += f.gate_rejected[0], rejected[1] += f.gate_rejected[1];
    gated = gated || f.gate_enabled;
  }
  const nlohmann::json gate_json{{"enabled", gated},
                                 {"quantile", cfg.typicality_quantile},
                                 {"rejected_real", rejected[0]},
                                 {"rejected_synthetic", rejected[1]}};
  nlohmann::json summary{{"classes", {kClassNames[0], kClassNames[1], kClassNames[2]}},
                         {"folds", per_fold},
                         {"confusion_mean", mean_m},
                         {"confusion_sd", sd_m},
                         {"confusion_mean_raw", raw_m},
                         {"typicality_gate", gate_json},
                         {"recall_mean", recall_mean},
                         {"recall_sd", recall_sd},
                         {"total_steps", result.total_steps},
                         {"complete", complete}};
  write_text_atomic(temporal_artifacts::cv_summary_json(model_dir), summary.dump(2));
  nlohmann::json section{{"format_version", kTemporalFormatVersion},
                         {"folds", cv.folds},
                         {"dims", set.latent_dims},
                         {"max_len", cfg.max_len},
                         {"classes", {kClassNames[0], kClassNames[1], kClassNames[2]}},
                         {"config_toml", config_toml(cfg, cv)},
                         {"fingerprint", fingerprint},
                         {"trained_folds", static_cast<int>(trained_folds)},
                         {"complete", complete},
                         {"trajectories", set.trajectories.size()},
                         {"encodings", set.glimpse_file},
                         {"recall_mean", recall_mean},
                         {"recall_sd", recall_sd},
                         {"total_steps", result.total_steps}};
  update_model_manifest(model_dir, "temporal", section);
}

}  // namespace

CvResult run_cross_validation(const EncodingSet& set, const Pca& pca, const TemporalConfig& cfg, const CvConfig& cv,
                              const fs::path& model_dir, const CvProgress& progress, const CvOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  ensure_torch_thread_hook();
  cfg.validate();
  cv.validate();
  if (set.latent_dims != pca.dims)
    throw ModelError("encodings have " + std::to_string(set.latent_dims) + " latent dims but the PCA has " +
                     std::to_string(pca.dims));
  if (options.only_fold >= cv.folds)
    throw ConfigError("fold " + std::to_string(options.only_fold) + " does not exist (cv.folds = " +
                      std::to_string(cv.folds) + ")");
  const PcaTransform transform(pca);
  std::string grouping;
  const auto groups = fold_groups(set, options.glimpses, cv.folds, cv.group_by, &grouping);
  if (cv.group_by != "trajectory" && grouping == "trajectory")
    log_warn("cross-validation: no glimpse file with lineages for cv.group_by = " + cv.group_by +
             "; folds split by trajectory");
  const auto folds = assign_folds(set, cv.folds, derive_seed(static_cast<std::uint64_t>(cv.seed), 1), groups);
  const std::string fingerprint = cv_fingerprint(set, pca, cfg, cv, folds);

  Cluster* cl = options.cluster;
  const bool leader = !cl || cl->leader();
  if (leader) {  // shared files: rank 0 only, before any rank writes its folds
    fs::create_directories(temporal_artifacts::checkpoints(model_dir));
    remove_stale_temporaries(temporal_artifacts::dir(model_dir));
    remove_stale_temporaries(temporal_artifacts::checkpoints(model_dir));
    remove_stale_temporaries(model_dir);
    write_fold_assignment(set, folds, model_dir);
  }
  if (cl) cl->barrier("cv/setup");

  std::vector<std::optional<FoldOutcome>> by_fold;
  std::vector<int> to_train = reuse_finished_folds(model_dir, cv, options, fingerprint, by_fold);
  if (cl)
    to_train.erase(std::remove_if(to_train.begin(), to_train.end(),
                                  [&](int k) { return !rank_owns(k, cl->rank(), cl->world_size()); }),
                   to_train.end());
  train_folds(set, transform, cfg, cv, folds, to_train, model_dir, fingerprint, progress, options, by_fold);
  if (cl) {
    cl->barrier("cv/trained");
    if (!leader) return CvResult{};
    (void)reuse_finished_folds(model_dir, cv, options, fingerprint, by_fold);  // every rank's folds, from disk
    for (int k = 0; k < cv.folds; ++k)
      if (!by_fold[static_cast<std::size_t>(k)] && (options.only_fold < 0 || options.only_fold == k))
        throw ModelError("fold " + std::to_string(k) + " (trained by rank " + std::to_string(k % cl->world_size()) +
                             ") left no readable result: " + temporal_artifacts::fold_outcome(model_dir, k).string(),
                         "rerun the same command: the missing fold is trained again");
  }
  std::vector<FoldOutcome> outcomes;
  for (auto& o : by_fold)
    if (o) outcomes.push_back(std::move(*o));

  CvResult result = write_cv_tables(outcomes, model_dir);
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_cv_summary(result, set, cfg, cv, outcomes.size(), fingerprint, model_dir);
  return result;
}

void write_single_model_set(const fs::path& model_dir, TcnImpl& tcn, const Pca& pca, const TemporalConfig& cfg,
                            const nlohmann::json& provenance) {
  std::filesystem::create_directories(temporal_artifacts::dir(model_dir));
  nlohmann::json meta{{"fold", 0}, {"max_len", cfg.max_len}, {"provenance", provenance}};
  save_tcn_file(temporal_artifacts::fold_weights(model_dir, 0), tcn, PcaTransform(pca), meta);
  write_csv(temporal_artifacts::folds_csv(model_dir), CsvTable({"trajectory_id", "fold", "fate"}));
  const CvConfig cv;  // not used to train this model; recorded because the section's schema holds it
  nlohmann::json section{{"format_version", kTemporalFormatVersion},
                         {"folds", 1},
                         {"dims", pca.dims},
                         {"max_len", cfg.max_len},
                         {"classes", {kClassNames[0], kClassNames[1], kClassNames[2]}},
                         {"config_toml", config_toml(cfg, cv)},
                         {"trained_folds", 1},
                         {"complete", true},
                         {"trajectories", 0},
                         {"provenance", provenance}};
  update_model_manifest(model_dir, "temporal", section);
}

}  // namespace taupe
