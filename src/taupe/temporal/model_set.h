#pragma once
// A trained temporal model set for downstream use (prediction, virtual perturbation): the K fold
// TCNs, the PCA they were trained with and the record of which model tested which trajectory.
// Torch-free interface (pimpl); arrays are row-major float32.
//
//   ModelSet ms = ModelSet::load(model_dir);          // checks format/version/shapes (ModelError)
//   int k = ms.fold_of(trajectory_id);                 // the model that held this trajectory out
//   auto p = ms.predict(k, x, n);                      // x (n, max_len, D) raw latent -> (n, 3) probs
//   auto q = ms.predict_pc(k, pcs, n);                 // pcs (n, max_len, D) PC space -> (n, 3) probs
//
// Prediction uses the pruned last-step forward in inference mode, batched so that activations
// stay within the memory budget, then the typicality gate (typicality.h) of the model. Class
// order: mitosis, apoptosis, synthetic.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "taupe/projector/pca.h"
#include "taupe/temporal/temporal_config.h"
#include "taupe/temporal/typicality.h"

namespace taupe {

class TcnImpl;

struct ModelSetOptions {
  std::int64_t memory_budget_mb = CvConfig{}.predict_memory_mb;  ///< activation budget of one prediction chunk
  int threads = 0;                       ///< 0 = leave LibTorch's setting alone
};

class ModelSet {
 public:
  /// Loads <model_dir>/temporal (manifest.json, fold_XX.pt, folds.csv). Throws ModelError naming
  /// the file and what is wrong (missing fold, format/version, shapes, PCA mismatch).
  static ModelSet load(const std::filesystem::path& model_dir, const ModelSetOptions& opts = {});
  ModelSet(ModelSet&&) noexcept;
  ModelSet& operator=(ModelSet&&) noexcept;
  ~ModelSet();

  int num_models() const;
  int max_len() const;
  int dims() const;                       ///< latent dims D
  const TemporalConfig& config() const;
  const Pca& pca() const;                 ///< the PCA the TCNs were trained with

  /// Fold (= model index) that held out this trajectory id; -1 if it was in no fold.
  int fold_of(std::int64_t trajectory_id) const;
  /// trajectory id -> fold, for every trajectory of the cross-validation.
  const std::unordered_map<std::int64_t, int>& folds() const;

  /// x: (n, max_len, D) raw latent (padding frames = raw 0) -> (n, 3) softmax probabilities.
  /// `ungated` (optional) receives the TCN's own probabilities (n, 3), before the gate.
  std::vector<float> predict(int model, const float* x, std::int64_t n, std::vector<float>* ungated = nullptr) const;
  std::vector<float> predict(int model, const std::vector<float>& x) const;
  /// pcs: (n, max_len, D) PC coordinates (padding frames = padding_pc()) -> (n, 3) probabilities.
  std::vector<float> predict_pc(int model, const float* pcs, std::int64_t n) const;
  std::vector<float> predict_pc(int model, const std::vector<float>& pcs) const;
  /// Same with the real-frame mask (n, max_len) the typicality gate needs (without it, padding
  /// frames are recognised as copies of padding_pc()).
  /// `ungated` (optional) receives the TCN's own probabilities (n, 3), before the gate.
  std::vector<float> predict_pc(int model, const float* pcs, std::int64_t n, const std::uint8_t* real,
                                std::vector<float>* ungated = nullptr) const;
  /// Same, logits (the TCN alone: no typicality gate).
  std::vector<float> logits_pc(int model, const float* pcs, std::int64_t n) const;

  /// Raw latent (n*max_len, D) -> PC coordinates, as the TCN input sees them.
  std::vector<float> to_pc(const std::vector<float>& raw) const;
  /// PC coordinates of a padding frame (D,) = -mean Cᵀ.
  std::vector<float> padding_pc() const;
  /// The typicality gate of a model (temporal/typicality.h; disabled for models trained without
  /// one). predict / predict_pc apply it: rejected inputs get probabilities (0, 0, 1).
  const TypicalityGate& gate(int model) const;
  /// Whether predictions run on an accelerator (compute_device() at load, e.g. `--device cuda`);
  /// then the batched forward_last path serves every experiment, not the fused CPU engine.
  bool on_device() const;
  /// The fold TCN (eval mode, CPU weights), for engines that run their own inference on its weights (the
  /// perturbation sweep). Read-only use; its forward_last plan cache is not thread-safe.
  const TcnImpl& tcn(int model) const;

 private:
  struct Impl;
  explicit ModelSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
