#pragma once
// Typicality gate: the out-of-distribution check in front of the TCN (not in the reference;
// docs/models.md, "Typicality gate").
//
// The reference's synthetic class is learned from random walks. On our encodings a classifier
// trained that way tells walks from real trajectories by their smoothness, and says nothing
// useful about inputs that are far from every real trajectory but rough (a WT cell in the centre
// of the glimpse: 0 % synthetic, docs/models.md). The gate adds what the synthetic class was
// meant to provide, with a calibrated false-alarm rate:
//
//   score(x) = (1 / n) Σ_{t real} Σ_d (x_td / sd_d)²        x: (L, D) PC coordinates
//
// the mean over the trajectory's real frames of the squared whitened distance from the data's
// centre (Mahalanobis under the PCA's diagonal Gaussian; ≈ D for typical frames). Padding frames
// do not count (sd_d: the root mean square of component d over the training frames). A model's threshold is the `quantile` of the scores of its own training
// trajectories (so about 1 − quantile of real trajectories are rejected); an input scoring above
// it is out of distribution and its prediction becomes synthetic with probabilities (0, 0, 1).
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace taupe {

struct TypicalityGate {
  std::vector<double> inv_var;  ///< (D) 1 / sd_d² of the PCA components
  double threshold = std::numeric_limits<double>::infinity();  ///< +inf = gate off
  double quantile = 0;          ///< the training-score quantile the threshold was set at (record)

  bool enabled() const { return threshold < std::numeric_limits<double>::infinity() && !inv_var.empty(); }
  /// seq (L, D) PC coordinates, real (L) 1 = real frame. A trajectory without real frames scores 0.
  double score(const float* seq, const std::uint8_t* real, int L) const;
  /// Same, with padding frames recognised as equal to `padding` (D) within 1e-4 (relative): for
  /// inputs that come without a mask (padding frames are exact copies of the padding row).
  double score_unmasked(const float* seq, const float* padding, int L) const;
  bool rejects(double score) const { return enabled() && score > threshold; }
};

/// Calibrates a gate on a model's training inputs, pcs (n, L, D) and real (n, L): inv_var_d = 1 /
/// the mean of x_d² over the real frames (PC coordinates are centred; a component that is 0
/// everywhere gets inv_var 0), threshold = the `quantile` of the n training scores.
TypicalityGate calibrate_gate(const float* pcs, const std::uint8_t* real, std::int64_t n, int L, int D,
                              double quantile);

/// One chunk of training inputs: pcs (n, L, D) and real (n, L).
using GateChunkVisitor = std::function<void(const float* pcs, const std::uint8_t* real, std::int64_t n)>;
/// Calls the visitor once per chunk, the same chunks in the same order on every call.
using GateChunks = std::function<void(const GateChunkVisitor&)>;

/// The same calibration over inputs that arrive in chunks (two passes: moments, then scores), so
/// no (n, L, D) array of the whole training set is held. Equal to calibrate_gate on the
/// concatenated chunks.
TypicalityGate calibrate_gate_chunked(const GateChunks& chunks, int L, int D, double quantile);

/// The q-quantile (linear interpolation, 0 ≤ q ≤ 1) of the scores; NaN-free input required.
double score_quantile(std::vector<double> scores, double q);

/// Sets the rows of probs (n, 3) whose score the gate rejects to (0, 0, 1); returns how many.
std::int64_t apply_gate(const TypicalityGate& gate, const std::vector<double>& scores, float* probs);

}  // namespace taupe
