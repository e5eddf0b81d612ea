// TCN weight files and the ModelSet (K fold TCNs + PCA + fold record) used downstream.
#include "taupe/temporal/model_set.h"
#include "taupe/temporal/artifacts.h"
#include "taupe/temporal/typicality.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>

#include <torch/nn.h>
#include <torch/serialize.h>

#include "taupe/core/atomic_file.h"
#include "taupe/core/config_io.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/csv.h"
#include "taupe/core/runtime.h"
#include "taupe/projector/model_dir.h"
#include "taupe/projector/projector.h"
#include "taupe/temporal/cross_validation.h"
#include "taupe/temporal/tcn_io.h"
#include "taupe/encoder/torch_runtime.h"

namespace taupe {

void ensure_torch_thread_hook() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_thread_hook([](int n) {
      if (n > 0) torch::set_num_threads(n);
    });
  });
}

// ---- TCN files ------------------------------------------------------------------------------
nlohmann::json tcn_options_json(const TcnOptions& o) {
  return nlohmann::json{{"input_dims", o.input_dims}, {"filters", o.filters},       {"kernel_size", o.kernel_size},
                        {"dilations", o.dilations},   {"head_units", o.head_units}, {"num_classes", o.num_classes},
                        {"dropout", o.dropout},       {"wn_init", o.wn_init}};
}

TcnOptions tcn_options_from_json(const nlohmann::json& j) {
  TcnOptions o;
  o.input_dims = j.at("input_dims").get<int>();
  o.filters = j.at("filters").get<int>();
  o.kernel_size = j.at("kernel_size").get<int>();
  o.dilations = j.at("dilations").get<std::vector<int>>();
  o.head_units = j.at("head_units").get<int>();
  o.num_classes = j.at("num_classes").get<int>();
  o.dropout = j.at("dropout").get<double>();
  o.wn_init = j.at("wn_init").get<std::string>();
  return o;
}

void save_tcn_file(const std::filesystem::path& path, TcnImpl& tcn, const PcaTransform& pca, nlohmann::json meta) {
  meta["format"] = kTcnFileFormat;
  meta["format_version"] = kTcnFileVersion;
  meta["options"] = tcn_options_json(tcn.options());
  torch::serialize::OutputArchive ar;
  // CPU tensors whatever device trained the model (a no-op on the CPU).
  for (const auto& p : tcn.named_parameters()) ar.write(p.key(), p.value().detach().to(torch::kCPU));
  for (const auto& b : tcn.named_buffers()) ar.write(b.key(), b.value().to(torch::kCPU), /*is_buffer=*/true);
  ar.write("pca.mean", pca.mean.to(torch::kCPU), true);
  ar.write("pca.components", pca.components.to(torch::kCPU), true);
  ar.write("meta", c10::IValue(meta.dump()));
  write_atomic(path, [&](const std::filesystem::path& tmp) { ar.save_to(tmp.string()); });
}

namespace {
std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}
void read_into(torch::serialize::InputArchive& ar, const std::filesystem::path& path, const std::string& key,
               torch::Tensor& dst, bool buffer) {
  torch::Tensor t;
  if (!ar.try_read(key, t, buffer))
    throw ModelError(path.string() + ": tensor '" + key + "' is missing (file from another model version?)");
  if (t.sizes() != dst.sizes())
    throw ModelError(path.string() + ": tensor '" + key + "' has shape " + shape_text(t) + ", expected " +
                     shape_text(dst));
  torch::NoGradGuard ng;
  dst.copy_(t);
}
}  // namespace

Tcn tcn_copy_on(const TcnImpl& tcn, const c10::Device& device) {
  Tcn copy(tcn.options());
  {
    torch::NoGradGuard ng;
    auto dst = copy->named_parameters();
    for (const auto& kv : tcn.named_parameters()) dst[kv.key()].copy_(kv.value());
    auto dbuf = copy->named_buffers();
    for (const auto& kv : tcn.named_buffers()) dbuf[kv.key()].copy_(kv.value());
  }
  copy->eval();
  copy->to(device);
  return copy;
}

LoadedTcn load_tcn_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw IoError(path.string() + ": no such file");
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path.string());
  } catch (const c10::Error& e) {
    throw ModelError(path.string() + ": not a readable TCN weight file (" + std::string(e.what_without_backtrace()) + ")");
  }
  LoadedTcn out;
  c10::IValue meta_iv;
  if (!ar.try_read("meta", meta_iv) || !meta_iv.isString())
    throw ModelError(path.string() + ": no 'meta' record (not a taupe TCN file)");
  try {
    out.meta = nlohmann::json::parse(meta_iv.toStringRef());
  } catch (const std::exception& e) {
    throw ModelError(path.string() + ": malformed 'meta' record: " + e.what());
  }
  if (out.meta.value("format", "") != kTcnFileFormat)
    throw ModelError(path.string() + ": format '" + out.meta.value("format", "") + "', expected '" + kTcnFileFormat + "'");
  if (out.meta.value("format_version", -1) != kTcnFileVersion)
    throw ModelError(path.string() + ": format_version " + std::to_string(out.meta.value("format_version", -1)) +
                     ", this taupe reads version " + std::to_string(kTcnFileVersion));
  TcnOptions opts;
  try {
    opts = tcn_options_from_json(out.meta.at("options"));
  } catch (const std::exception& e) {
    throw ModelError(path.string() + ": bad 'options' in meta: " + e.what());
  }
  out.tcn = Tcn(opts);
  for (auto& p : out.tcn->named_parameters()) read_into(ar, path, p.key(), p.value(), false);
  for (auto& b : out.tcn->named_buffers()) read_into(ar, path, b.key(), b.value(), true);
  out.pca.mean = torch::zeros({opts.input_dims});
  out.pca.components = torch::zeros({opts.input_dims, opts.input_dims});
  read_into(ar, path, "pca.mean", out.pca.mean, true);
  read_into(ar, path, "pca.components", out.pca.components, true);
  out.tcn->eval();
  return out;
}

// ---- ModelSet -------------------------------------------------------------------------------
struct ModelSet::Impl {
  mutable std::vector<Tcn> models;  // forward_last caches its plan; CPU weights (the fused engine reads them)
  c10::Device device{torch::kCPU};  // where predictions run (compute_device() at load)
  mutable std::vector<Tcn> device_models;  // copies on `device` when it is not the CPU
  PcaTransform device_transform;           // the transform beside them
  std::vector<TypicalityGate> gates;  // per model (disabled when the file has none)
  std::vector<float> padding;         // padding_pc(), to recognise padding frames of unmasked inputs
  PcaTransform transform;
  Pca pca;
  TemporalConfig cfg;
  std::unordered_map<std::int64_t, int> folds;
  std::int64_t budget_bytes = ModelSetOptions{}.memory_budget_mb << 20;
  mutable std::mutex mu;  // the pruned-forward plan cache is not thread-safe

  std::int64_t chunk_size() const {
    const auto& o = models.front()->options();
    // Live activations per sequence of the pruned forward (generous): input + gathered taps +
    // a few (T, filters) intermediates, float32.
    const std::int64_t per = 4ll * cfg.max_len * (3ll * o.input_dims + 8ll * o.filters);
    return std::max<std::int64_t>(1, budget_bytes / std::max<std::int64_t>(1, per));
  }
  /// The pruned forward in run.precision, float32 logits (m, 3).
  static torch::Tensor forward(TcnImpl& tcn, const torch::Tensor& pcs) {
    const AutocastScope amp;
    return tcn.forward_last(pcs).to(torch::kFloat32);
  }
  void check_model(int k) const {
    if (k < 0 || k >= static_cast<int>(models.size()))
      throw ModelError("model index " + std::to_string(k) + " out of range: the set has " +
                       std::to_string(models.size()) + " models");
  }
  /// `ungated` (optional): the softmax before the typicality gate, (n, 3).
  std::vector<float> run(int k, const float* x, std::int64_t n, bool raw, bool softmax,
                         const std::uint8_t* real = nullptr, std::vector<float>* ungated = nullptr) const {
    check_model(k);
    std::lock_guard<std::mutex> lock(mu);
    c10::InferenceMode guard;
    const int T = cfg.max_len, D = pca.dims;
    std::vector<float> out(static_cast<std::size_t>(n) * 3);
    if (ungated) ungated->resize(out.size());
    const std::int64_t chunk = chunk_size();
    for (std::int64_t s = 0; s < n; s += chunk) {
      const std::int64_t m = std::min(chunk, n - s);
      auto in = torch::from_blob(const_cast<float*>(x) + s * T * D, {m, T, D}, torch::kFloat32);
      torch::Tensor pcs, res;
      if (device.is_cpu()) {
        pcs = raw ? transform.forward(in) : in;
        const auto logits = forward(*models[k], pcs);
        res = (softmax ? torch::softmax(logits, 1) : logits).contiguous();
      } else {  // pinned copy in, probabilities (and the gate's PC inputs) back
        const auto din = in.pin_memory().to(device, /*non_blocking=*/true);
        const auto dpcs = raw ? device_transform.forward(din) : din;
        const auto logits = forward(*device_models[static_cast<std::size_t>(k)], dpcs);
        res = (softmax ? torch::softmax(logits, 1) : logits).to(torch::kCPU).contiguous();
        if (softmax && gates[static_cast<std::size_t>(k)].enabled()) pcs = raw ? dpcs.to(torch::kCPU) : in;
      }
      std::copy(res.data_ptr<float>(), res.data_ptr<float>() + m * 3, out.begin() + s * 3);
      if (ungated) std::copy(res.data_ptr<float>(), res.data_ptr<float>() + m * 3, ungated->begin() + s * 3);
      const TypicalityGate& g = gates[static_cast<std::size_t>(k)];
      if (softmax && g.enabled()) {
        auto pc = pcs.contiguous();
        const float* px = pc.data_ptr<float>();
        std::vector<double> scores(static_cast<std::size_t>(m));
        for (std::int64_t r = 0; r < m; ++r) {
          const float* seq = px + r * T * D;
          scores[static_cast<std::size_t>(r)] =
              real ? g.score(seq, real + (s + r) * T, T) : g.score_unmasked(seq, padding.data(), T);
        }
        apply_gate(g, scores, out.data() + s * 3);
      }
    }
    return out;
  }
};

ModelSet::ModelSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ModelSet::ModelSet(ModelSet&&) noexcept = default;
ModelSet& ModelSet::operator=(ModelSet&&) noexcept = default;
ModelSet::~ModelSet() = default;

namespace {
/// Checks the temporal section of the manifest: this format version and a finished cross-validation.
void check_temporal_section(const nlohmann::json& sec, const std::string& manifest_path) {
  const int version = sec.value("format_version", -1);
  if (version != kTemporalFormatVersion)
    throw ModelError(manifest_path + ": temporal.format_version " + std::to_string(version) +
                     ", this taupe reads version " + std::to_string(kTemporalFormatVersion));
  if (!sec.value("complete", false))
    throw ModelError(manifest_path + ": the temporal cross-validation did not finish",
                     "rerun `taupe train temporal` with the same arguments to resume it");
}

/// The configuration the models were trained with (temporal.config_toml of the manifest).
void read_training_config(const nlohmann::json& sec, const std::string& manifest_path, TemporalConfig& cfg) {
  CvConfig cv;
  try {
    ConfigSections sections{make_section("temporal", cfg), make_section("cv", cv)};
    apply_toml(sections, sec.at("config_toml").get<std::string>(), manifest_path + " [temporal.config_toml]");
  } catch (const ConfigError& e) {
    throw ModelError(manifest_path + ": temporal training configuration unreadable: " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(manifest_path + ": temporal section lacks config_toml: " + e.what());
  }
}

/// Checks a fold's model: `dims`-d input, three classes, trained with the projector's PCA, initialised.
void check_fold_model(const LoadedTcn& l, const std::filesystem::path& path, int dims, const PcaTransform& transform,
                      const std::filesystem::path& model_dir) {
  const auto& o = l.tcn->options();
  if (o.input_dims != dims || o.num_classes != 3)
    throw ModelError(path.string() + ": TCN takes " + std::to_string(o.input_dims) + "-d input with " +
                     std::to_string(o.num_classes) + " classes; expected " + std::to_string(dims) + " and 3");
  const double dm = (l.pca.mean - transform.mean).abs().max().item<double>();
  const double dc = (l.pca.components - transform.components).abs().max().item<double>();
  if (dm > 1e-5 || dc > 1e-5)
    throw ModelError(path.string() + ": was trained with a different PCA than " + model_files::pca(model_dir).string() +
                         " (max difference " + std::to_string(std::max(dm, dc)) + ")",
                     "the projector was refitted after temporal training: rerun `taupe train temporal`");
  if (!l.tcn->initialized()) throw ModelError(path.string() + ": weights were never initialised (untrained model)");
}

/// The typicality gate recorded with a fold's model (disabled when it has none).
TypicalityGate typicality_gate_of(const nlohmann::json& meta, const std::filesystem::path& path, int dims) {
  TypicalityGate gate;
  if (!meta.contains("typicality")) return gate;
  try {
    const auto& g = meta.at("typicality");
    gate.quantile = g.at("quantile").get<double>();
    gate.threshold = g.at("threshold").get<double>();
    gate.inv_var = g.at("inv_var").get<std::vector<double>>();
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(path.string() + ": malformed 'typicality' record: " + e.what());
  }
  if (static_cast<int>(gate.inv_var.size()) != dims || !std::isfinite(gate.threshold))
    throw ModelError(path.string() + ": 'typicality' record has " + std::to_string(gate.inv_var.size()) +
                     " variances for " + std::to_string(dims) + " dims or a non-finite threshold");
  return gate;
}

/// The fold record: trajectory id → the fold that held it out (-1: none).
std::unordered_map<std::int64_t, int> read_fold_record(const std::filesystem::path& model_dir, int folds) {
  std::unordered_map<std::int64_t, int> out;
  const auto csv = temporal_artifacts::folds_csv(model_dir);
  const CsvTable table = read_csv(csv);
  if (!table.has_column("trajectory_id") || !table.has_column("fold"))
    throw ModelError(csv.string() + ": header lacks 'trajectory_id' or 'fold' (expected 'trajectory_id,fold,...')");
  for (std::size_t r = 0; r < table.size(); ++r) {
    try {
      const std::int64_t f = table.integer(r, "fold");
      if (f < -1 || f >= folds) throw std::out_of_range("fold");
      out[table.integer(r, "trajectory_id")] = static_cast<int>(f);
    } catch (const std::exception&) {
      throw ModelError(csv.string() + ": line " + std::to_string(table.line_of(r)) + ": '" + table.at(r, "trajectory_id") +
                       "," + table.at(r, "fold") + "' is not 'id,fold' with fold in [-1, " + std::to_string(folds - 1) + "]");
    }
  }
  return out;
}
}  // namespace

ModelSet ModelSet::load(const std::filesystem::path& model_dir, const ModelSetOptions& opts) {
  ensure_torch_thread_hook();
  if (opts.threads > 0) torch::set_num_threads(opts.threads);
  auto impl = std::make_unique<Impl>();
  impl->budget_bytes = opts.memory_budget_mb << 20;
  const auto manifest_path = model_files::manifest(model_dir).string();
  const nlohmann::json sec = model_manifest_section(model_dir, "temporal");
  check_temporal_section(sec, manifest_path);
  read_training_config(sec, manifest_path, impl->cfg);
  const int folds = sec.value("folds", 0);
  if (folds <= 0) throw ModelError(manifest_path + ": temporal.folds missing or not positive");
  impl->pca = load_projector(model_dir);
  impl->transform = PcaTransform(impl->pca);
  const int dims = sec.value("dims", -1);
  if (dims != impl->pca.dims)
    throw ModelError(manifest_path + ": temporal models take " + std::to_string(dims) + "-d latents but pca.h5 has " +
                     std::to_string(impl->pca.dims) + " dims");
  for (int k = 0; k < folds; ++k) {
    const auto path = temporal_artifacts::fold_weights(model_dir, k);
    if (!std::filesystem::exists(path))
      throw ModelError(path.string() + ": missing (the manifest lists " + std::to_string(folds) + " folds)");
    LoadedTcn l = load_tcn_file(path);
    check_fold_model(l, path, dims, impl->transform, model_dir);
    impl->models.push_back(l.tcn);
    impl->gates.push_back(typicality_gate_of(l.meta, path, dims));
  }
  impl->device = compute_device();
  if (!impl->device.is_cpu()) {  // inference copies on the device (the fused CPU engine keeps the originals)
    for (const Tcn& m : impl->models) impl->device_models.push_back(tcn_copy_on(*m, impl->device));
    impl->device_transform = impl->transform.to(impl->device);
  }
  auto pad = impl->transform.padding_pc().contiguous();
  impl->padding.assign(pad.data_ptr<float>(), pad.data_ptr<float>() + pad.numel());
  impl->folds = read_fold_record(model_dir, folds);
  return ModelSet(std::move(impl));
}

int ModelSet::num_models() const { return static_cast<int>(impl_->models.size()); }
int ModelSet::max_len() const { return impl_->cfg.max_len; }
int ModelSet::dims() const { return impl_->pca.dims; }
const TemporalConfig& ModelSet::config() const { return impl_->cfg; }
const Pca& ModelSet::pca() const { return impl_->pca; }
int ModelSet::fold_of(std::int64_t id) const {
  auto it = impl_->folds.find(id);
  return it == impl_->folds.end() ? -1 : it->second;
}
const std::unordered_map<std::int64_t, int>& ModelSet::folds() const { return impl_->folds; }

namespace {
std::int64_t rows_of(const std::vector<float>& x, int T, int D) {
  const std::int64_t per = static_cast<std::int64_t>(T) * D;
  if (x.size() % per != 0)
    throw DataError("model input has " + std::to_string(x.size()) + " values, not a multiple of max_len*dims = " +
                    std::to_string(per));
  return static_cast<std::int64_t>(x.size()) / per;
}
}  // namespace

std::vector<float> ModelSet::predict(int model, const float* x, std::int64_t n, std::vector<float>* ungated) const {
  return impl_->run(model, x, n, true, true, nullptr, ungated);
}
std::vector<float> ModelSet::predict(int model, const std::vector<float>& x) const {
  return predict(model, x.data(), rows_of(x, max_len(), dims()));
}
std::vector<float> ModelSet::predict_pc(int model, const float* pcs, std::int64_t n) const {
  return impl_->run(model, pcs, n, false, true);
}
std::vector<float> ModelSet::predict_pc(int model, const float* pcs, std::int64_t n, const std::uint8_t* real,
                                        std::vector<float>* ungated) const {
  return impl_->run(model, pcs, n, false, true, real, ungated);
}
const TypicalityGate& ModelSet::gate(int model) const {
  impl_->check_model(model);
  return impl_->gates[static_cast<std::size_t>(model)];
}
std::vector<float> ModelSet::predict_pc(int model, const std::vector<float>& pcs) const {
  return predict_pc(model, pcs.data(), rows_of(pcs, max_len(), dims()));
}
std::vector<float> ModelSet::logits_pc(int model, const float* pcs, std::int64_t n) const {
  return impl_->run(model, pcs, n, false, false);
}

std::vector<float> ModelSet::to_pc(const std::vector<float>& raw) const {
  const int D = dims();
  if (raw.size() % D != 0) throw DataError("to_pc: input size is not a multiple of dims");
  c10::InferenceMode guard;
  auto in = torch::from_blob(const_cast<float*>(raw.data()), {static_cast<std::int64_t>(raw.size()) / D, D},
                             torch::kFloat32);
  auto out = impl_->transform.forward(in).contiguous();
  return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

bool ModelSet::on_device() const { return !impl_->device.is_cpu(); }

const TcnImpl& ModelSet::tcn(int model) const {
  impl_->check_model(model);
  return *impl_->models[static_cast<std::size_t>(model)];
}

std::vector<float> ModelSet::padding_pc() const { return impl_->padding; }

}  // namespace taupe
