#include "taupe/pipeline/keras_import.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <torch/nn.h>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/types.h"
#include "taupe/encoder/encode.h"
#include "taupe/encoder/vae.h"
#include "taupe/io/keras_h5.h"
#include "taupe/io/npz.h"
#include "taupe/projector/projector.h"
#include "taupe/temporal/cross_validation.h"
#include "taupe/temporal/tcn.h"

namespace fs = std::filesystem;

namespace taupe {
namespace {

using io::KerasWeight;
using TensorMap = std::map<std::string, torch::Tensor>;

/// Parameters and buffers of a module by their dotted names.
TensorMap tensors_of(torch::nn::Module& m) {
  TensorMap out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value();
  for (const auto& b : m.named_buffers()) out[b.key()] = b.value();
  return out;
}

std::string shape_text(at::IntArrayRef s) {
  std::ostringstream o;
  o << s;
  return o.str();
}

/// The weights of one Keras file; each is mapped at most once, and every weight must be mapped
/// (or explicitly ignored) by the end, so a layout taupe does not understand cannot pass silently.
class WeightPool {
 public:
  explicit WeightPool(const fs::path& file) : file_(file.string()), w_(io::read_keras_weights(file)), used_(w_.size()) {}

  const std::string& file() const { return file_; }
  /// Indices of the unused weights matching `pred`, in file order.
  std::vector<std::size_t> find(const std::function<bool(const KerasWeight&)>& pred) const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < w_.size(); ++i)
      if (!used_[i] && pred(w_[i])) out.push_back(i);
    return out;
  }
  /// Exactly `n` unused weights matching `pred`; DataError naming `what` otherwise.
  std::vector<std::size_t> find_n(const std::function<bool(const KerasWeight&)>& pred, std::size_t n,
                                  const std::string& what) const {
    const auto found = find(pred);
    if (found.size() != n)
      throw DataError(file_ + ": found " + std::to_string(found.size()) + " " + what + ", expected " + std::to_string(n));
    return found;
  }
  const KerasWeight& at(std::size_t i) const { return w_[i]; }
  const KerasWeight& take(std::size_t i) {
    used_[i] = true;
    return w_[i];
  }
  void ignore(std::size_t i) { used_[i] = true; }
  std::size_t size() const { return w_.size(); }
  void check_all_used() const {
    for (std::size_t i = 0; i < w_.size(); ++i)
      if (!used_[i])
        throw DataError(file_ + ": weight '" + w_[i].path() + "' " + shape_text(w_[i].shape) +
                        " maps to no tensor of taupe's architecture (a layout this importer does not know)");
  }

 private:
  std::string file_;
  std::vector<KerasWeight> w_;
  std::vector<bool> used_;
};

/// Copies `w` into `dst` after permuting its axes from Keras' layout (`perm` as torch's permute;
/// empty = as is). DataError naming the file, the weight and both shapes if they disagree.
void assign(torch::Tensor dst, const KerasWeight& w, const std::vector<std::int64_t>& perm, const std::string& file,
            const std::string& target) {
  torch::Tensor t = torch::from_blob(const_cast<float*>(w.values.data()), w.shape, torch::kFloat32);
  if (!perm.empty()) t = t.permute(perm);
  if (t.sizes() != dst.sizes())
    throw DataError(file + ": weight '" + w.path() + "' " + shape_text(w.shape) + " does not fit taupe's '" + target +
                    "' " + shape_text(dst.sizes()));
  torch::NoGradGuard no_grad;
  dst.copy_(t);
}

/// True when `name` is one component of the weight's path ("z_mean" in "z_mean/kernel:0").
bool in_layer(const KerasWeight& w, const std::string& name) {
  return ("/" + w.path() + "/").find("/" + name + "/") != std::string::npos;
}

/// Conv 3x3 + BatchNorm blocks "block<i>.conv" / "block<i>.bn", in file order. `exclude`: a
/// layer whose 4-d kernel is not a block's (the decoder's 1x1 output conv).
void map_conv_blocks(WeightPool& pool, TensorMap& t, int blocks, const std::string& exclude) {
  const auto kernels = pool.find_n(
      [&](const KerasWeight& w) { return w.shape.size() == 4 && w.variable() == "kernel" && !in_layer(w, exclude); },
      static_cast<std::size_t>(blocks), "Conv2D kernels of ConvBlocks");
  for (int i = 0; i < blocks; ++i) {
    const std::string name = "block" + std::to_string(i) + ".conv.weight";
    assign(t.at(name), pool.take(kernels[static_cast<std::size_t>(i)]), {3, 2, 0, 1}, pool.file(), name);
  }
  const std::pair<const char*, const char*> bn[] = {
      {"gamma", "weight"}, {"beta", "bias"}, {"moving_mean", "running_mean"}, {"moving_variance", "running_var"}};
  for (const auto& [keras, ours] : bn) {
    const auto found = pool.find_n([&](const KerasWeight& w) { return w.variable() == keras; },
                                   static_cast<std::size_t>(blocks), std::string("BatchNormalization ") + keras + " arrays");
    for (int i = 0; i < blocks; ++i) {
      const std::string name = "block" + std::to_string(i) + ".bn." + ours;
      assign(t.at(name), pool.take(found[static_cast<std::size_t>(i)]), {}, pool.file(), name);
    }
  }
}

/// A Keras layer named `layer` with a kernel and a bias -> taupe's `ours`.weight / .bias, the kernel
/// permuted by `kernel_perm` (Dense (in, out) -> (out, in) by default).
void map_dense(WeightPool& pool, TensorMap& t, const std::string& layer, const std::string& ours,
               const std::vector<std::int64_t>& kernel_perm = {1, 0}) {
  for (const char* var : {"kernel", "bias"}) {
    const auto found = pool.find_n([&](const KerasWeight& w) { return in_layer(w, layer) && w.variable() == var; }, 1,
                                   "'" + layer + "' " + var + "s");
    const bool kernel = std::string(var) == "kernel";
    const std::string name = ours + (kernel ? ".weight" : ".bias");
    assign(t.at(name), pool.take(found[0]), kernel ? kernel_perm : std::vector<std::int64_t>{}, pool.file(), name);
  }
}

void map_encoder(const fs::path& file, EncoderImpl& enc, const EncoderConfig& cfg) {
  WeightPool pool(file);
  TensorMap t = tensors_of(enc);
  map_conv_blocks(pool, t, static_cast<int>(cfg.layers.size()), "");
  map_dense(pool, t, "intermediate_FC1", "fc_mean");
  map_dense(pool, t, "intermediate_FC2", "fc_log_var");
  map_dense(pool, t, "z_mean", "z_mean");
  map_dense(pool, t, "z_log_var", "z_log_var");
  pool.check_all_used();
}

void map_decoder(const fs::path& file, DecoderImpl& dec, const EncoderConfig& cfg) {
  WeightPool pool(file);
  TensorMap t = tensors_of(dec);
  map_dense(pool, t, "reshape_FC", "reshape_fc");
  map_conv_blocks(pool, t, static_cast<int>(cfg.layers.size()), "output");
  map_dense(pool, t, "output", "output", {3, 2, 0, 1});  // the 1x1 Conv2D (1, 1, in, out)
  pool.check_all_used();
}

/// Where a weight of keras-tcn's residual blocks goes: taupe tensor name, or "" to ignore it.
/// Names carry `residual_block_<b>` and `conv1D_<c>` / `norm_<c>` (the weight-normalised convs)
/// or `matching_conv1D` (block 0's 1x1 shortcut).
std::string tcn_target(const KerasWeight& w, std::vector<std::int64_t>& perm) {
  static const std::regex block_re("residual_block_(\\d+)"), conv_re("(?:conv1D|norm)_(\\d+)");
  std::smatch b, c;
  const std::string path = w.path();
  if (!std::regex_search(path, b, block_re)) return "";
  const std::string block = "block" + b[1].str();
  const std::string var = w.variable();
  perm = var == "kernel" ? std::vector<std::int64_t>{2, 1, 0} : std::vector<std::int64_t>{};
  if (path.find("matching_conv1D") != std::string::npos)
    return var == "kernel" ? block + ".shortcut_weight" : var == "bias" ? block + ".shortcut_bias" : "";
  if (!std::regex_search(path, c, conv_re)) return "";
  const std::string conv = block + ".conv" + c[1].str() + ".";
  if (var == "kernel") return conv + "v";
  if (var == "g" || var == "bias") return conv + var;
  return "";
}

/// Output rows of the reference's last Dense layer in taupe's class order: row i of taupe's
/// head_w2 is the reference's output index[i].
std::vector<std::int64_t> class_rows(const std::vector<std::string>& order) {
  std::vector<std::int64_t> rows(kNumClasses, -1);
  if (order.size() != static_cast<std::size_t>(kNumClasses))
    throw ConfigError("--class-order: " + std::to_string(order.size()) + " names, expected 3 (mitosis, apoptosis, synthetic in the reference's output order)");
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto* it = std::find_if(std::begin(kClassNames), std::end(kClassNames), [&](const char* n) { return order[i] == n; });
    if (it == std::end(kClassNames) || rows[static_cast<std::size_t>(it - std::begin(kClassNames))] >= 0)
      throw ConfigError("--class-order: '" + order[i] + "' is not one of mitosis, apoptosis, synthetic, or is repeated");
    rows[static_cast<std::size_t>(it - std::begin(kClassNames))] = static_cast<std::int64_t>(i);
  }
  return rows;
}

/// The head: the two Dense layers outside the residual blocks, in file order.
void map_tcn_head(WeightPool& pool, TensorMap& t, const std::vector<std::string>& class_order) {
  const auto kernels = pool.find_n([](const KerasWeight& w) { return w.shape.size() == 2 && w.variable() == "kernel"; },
                                   2, "Dense kernels of the prediction head");
  const auto biases = pool.find_n([](const KerasWeight& w) { return w.shape.size() == 1 && w.variable() == "bias"; }, 2,
                                  "Dense biases of the prediction head");
  assign(t.at("head_w1"), pool.take(kernels[0]), {1, 0}, pool.file(), "head_w1");
  assign(t.at("head_b1"), pool.take(biases[0]), {}, pool.file(), "head_b1");
  const auto rows = torch::tensor(class_rows(class_order), torch::kLong);
  torch::Tensor w2 = torch::empty({t.at("head_w2").size(1), t.at("head_w2").size(0)});
  torch::Tensor b2 = torch::empty({t.at("head_b2").size(0)});
  assign(w2, pool.take(kernels[1]), {}, pool.file(), "head_w2 (before reordering the classes)");
  assign(b2, pool.take(biases[1]), {}, pool.file(), "head_b2 (before reordering the classes)");
  torch::NoGradGuard no_grad;
  t.at("head_w2").copy_(w2.t().index_select(0, rows));
  t.at("head_b2").copy_(b2.index_select(0, rows));
}

void map_tcn(const fs::path& file, TcnImpl& tcn, const std::vector<std::string>& class_order) {
  WeightPool pool(file);
  TensorMap t = tensors_of(tcn);
  std::set<std::string> done;
  for (std::size_t i = 0; i < pool.size(); ++i) {
    std::vector<std::int64_t> perm;
    const std::string target = tcn_target(pool.at(i), perm);
    if (target.empty()) {
      // tfa's `initialized` flag, or a non-block weight (the head, mapped below).
      if (pool.at(i).path().find("residual_block_") != std::string::npos) pool.ignore(i);
      continue;
    }
    if (!done.insert(target).second) {  // tfa's data-init clone of an already mapped kernel/bias
      pool.ignore(i);
      continue;
    }
    assign(t.at(target), pool.take(i), perm, pool.file(), target);
  }
  for (const auto& [name, tensor] : t) {
    const bool flag = name.size() > 12 && name.compare(name.size() - 12, 12, ".initialized") == 0;
    if (flag) {
      torch::NoGradGuard no_grad;
      tensor.fill_(1);
    } else if (name.rfind("block", 0) == 0 && !done.count(name)) {
      throw DataError(file.string() + ": no weight for taupe's '" + name + "' " + shape_text(tensor.sizes()));
    }
  }
  map_tcn_head(pool, t, class_order);
  pool.check_all_used();
}

/// projector_components.npz -> Pca (components transposed: the npz holds PC j in column j).
Pca read_reference_pca(const fs::path& file, int dims) {
  const io::NpzArrays a = io::read_npz(file);
  const std::string where = file.string();
  const io::NpyArray& comp = io::npz_member(a, "components", where);
  const io::NpyArray& mean = io::npz_member(a, "mean", where);
  const std::vector<std::size_t> square{static_cast<std::size_t>(dims), static_cast<std::size_t>(dims)};
  if (comp.shape != square)
    throw DataError(where + ": member 'components.npy' is not (" + std::to_string(dims) + ", " + std::to_string(dims) + ")");
  if (mean.shape != std::vector<std::size_t>{static_cast<std::size_t>(dims)})
    throw DataError(where + ": member 'mean.npy' is not (" + std::to_string(dims) + ",)");
  Pca p;
  p.dims = dims;
  p.mean = mean.values<double>(where + ": mean");
  const std::vector<double> c = comp.values<double>(where + ": components");
  p.components.resize(c.size());
  for (int i = 0; i < dims; ++i)
    for (int j = 0; j < dims; ++j) p.components[static_cast<std::size_t>(j * dims + i)] = c[static_cast<std::size_t>(i * dims + j)];
  p.explained_variance.assign(static_cast<std::size_t>(dims), std::nan(""));
  p.explained_variance_ratio.assign(static_cast<std::size_t>(dims), std::nan(""));
  return p;
}

/// Variance of each PC (ddof 1) over the z_mean of every patch, encoded with the imported encoder.
void measure_pc_variance(Pca& pca, const VaeModel& vae, const fs::path& patches) {
  const PatchEncodings e = encode_patch_file(vae, patches);
  if (e.enc.n < 2) throw DataError(patches.string() + ": fewer than 2 patches to measure the PCs' variance on");
  const std::vector<float> pcs = pca.forward(e.enc.z_mean);
  const auto D = static_cast<std::size_t>(pca.dims);
  std::vector<double> sum(D, 0.0), sq(D, 0.0);
  for (std::size_t r = 0; r < static_cast<std::size_t>(e.enc.n); ++r)
    for (std::size_t d = 0; d < D; ++d) {
      const double v = pcs[r * D + d];
      sum[d] += v;
      sq[d] += v * v;
    }
  const double n = static_cast<double>(e.enc.n);
  double total = 0;
  for (std::size_t d = 0; d < D; ++d) {
    pca.explained_variance[d] = (sq[d] - sum[d] * sum[d] / n) / (n - 1);
    total += pca.explained_variance[d];
  }
  for (std::size_t d = 0; d < D; ++d) pca.explained_variance_ratio[d] = pca.explained_variance[d] / total;
  pca.samples = e.enc.n;
}

}  // namespace

io::IoSummary import_keras_weights(const KerasImportOptions& opts) {
  class_rows(opts.class_order);  // validates before any work
  if (fs::exists(opts.model_dir) && !opts.overwrite)
    throw ConfigError(opts.model_dir.string() + ": exists (give --overwrite to replace it)");
  const EncoderConfig ecfg;    // the reference architecture is taupe's default one
  const TemporalConfig tcfg;
  VaeModel vae(ecfg);
  map_encoder(keras_files::encoder(opts.dir), *vae.encoder(), ecfg);
  map_decoder(keras_files::decoder(opts.dir), *vae.decoder(), ecfg);
  vae.encoder()->eval();
  vae.decoder()->eval();
  Tcn tcn(TcnOptions::from_config(tcfg, ecfg.latent_dims));
  map_tcn(keras_files::temporal(opts.dir), *tcn, opts.class_order);
  tcn->eval();
  Pca pca = read_reference_pca(keras_files::projector(opts.dir), ecfg.latent_dims);
  if (!opts.patches.empty()) measure_pc_variance(pca, vae, opts.patches);

  nlohmann::json provenance{{"imported_from", fs::absolute(opts.dir).lexically_normal().string()},
                            {"format", "Keras 2 HDF5 weights (reference implementation)"}};
  write_directory_atomic(opts.model_dir, [&](const fs::path& stage) {
    save_vae_model_files(*vae.encoder(), *vae.decoder(), ecfg, stage, provenance);
    nlohmann::json pca_source = provenance;
    pca_source["variance_from"] = opts.patches.empty() ? nlohmann::json(nullptr) : nlohmann::json(opts.patches.string());
    save_projector(pca, stage, pca_source, "as in the reference's projector_components.npz");
    nlohmann::json tcn_source = provenance;
    tcn_source["class_order"] = opts.class_order;
    write_single_model_set(stage, *tcn, pca, tcfg, tcn_source);
  });
  io::IoSummary s;
  s.what = "import keras-weights";
  s.outputs = {opts.model_dir};
  s.counts["models"] = 1;
  s.counts["latent dims"] = static_cast<std::size_t>(ecfg.latent_dims);
  if (opts.patches.empty())
    s.notes.push_back("PC variances unknown (the npz holds none): give --patches to measure them; "
                      "perturbation shifts in sd units need them");
  s.notes.push_back("class order of the reference's outputs: " + opts.class_order[0] + ", " + opts.class_order[1] +
                    ", " + opts.class_order[2]);
  return s;
}

}  // namespace taupe
