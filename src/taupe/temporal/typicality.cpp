// Typicality gate (see typicality.h).
#include "taupe/temporal/typicality.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "taupe/core/errors.h"
#include "taupe/core/stats.h"

namespace taupe {

double TypicalityGate::score(const float* seq, const std::uint8_t* real, int L) const {
  const std::size_t D = inv_var.size();
  double sum = 0;
  int n = 0;
  for (int t = 0; t < L; ++t) {
    if (!real[t]) continue;
    const float* x = seq + static_cast<std::size_t>(t) * D;
    for (std::size_t d = 0; d < D; ++d) sum += static_cast<double>(x[d]) * x[d] * inv_var[d];
    ++n;
  }
  return n > 0 ? sum / n : 0.0;
}

double TypicalityGate::score_unmasked(const float* seq, const float* padding, int L) const {
  const std::size_t D = inv_var.size();
  std::vector<std::uint8_t> real(static_cast<std::size_t>(L), 1);
  for (int t = 0; t < L; ++t) {
    const float* x = seq + static_cast<std::size_t>(t) * D;
    bool pad = true;
    for (std::size_t d = 0; d < D && pad; ++d)
      pad = std::fabs(x[d] - padding[d]) <= 1e-4f * (1.0f + std::fabs(padding[d]));
    real[static_cast<std::size_t>(t)] = pad ? 0 : 1;
  }
  return score(seq, real.data(), L);
}

TypicalityGate calibrate_gate_chunked(const GateChunks& chunks, int L, int D, double quantile) {
  TypicalityGate g;
  g.quantile = quantile;
  std::vector<double> m2(static_cast<std::size_t>(D), 0.0);
  double frames = 0;
  const std::size_t seq = static_cast<std::size_t>(L) * static_cast<std::size_t>(D);
  chunks([&](const float* pcs, const std::uint8_t* real, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
      for (int t = 0; t < L; ++t) {
        if (!real[static_cast<std::size_t>(i) * L + t]) continue;
        const float* x = pcs + static_cast<std::size_t>(i) * seq + static_cast<std::size_t>(t) * D;
        for (int d = 0; d < D; ++d) m2[static_cast<std::size_t>(d)] += static_cast<double>(x[d]) * x[d];
        frames += 1;
      }
  });
  if (frames == 0) throw DataError("typicality gate: the training trajectories have no real frame");
  g.inv_var.assign(static_cast<std::size_t>(D), 0.0);
  for (int d = 0; d < D; ++d) {
    const double v = m2[static_cast<std::size_t>(d)] / frames;
    g.inv_var[static_cast<std::size_t>(d)] = v > 0 ? 1.0 / v : 0.0;
  }
  std::vector<double> scores;
  chunks([&](const float* pcs, const std::uint8_t* real, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i)
      scores.push_back(g.score(pcs + static_cast<std::size_t>(i) * seq, real + static_cast<std::size_t>(i) * L, L));
  });
  g.threshold = score_quantile(std::move(scores), quantile);
  return g;
}

TypicalityGate calibrate_gate(const float* pcs, const std::uint8_t* real, std::int64_t n, int L, int D,
                              double quantile) {
  return calibrate_gate_chunked([&](const GateChunkVisitor& visit) { visit(pcs, real, n); }, L, D, quantile);
}

double score_quantile(std::vector<double> scores, double q) {
  if (scores.empty()) throw DataError("typicality gate: no training trajectory to calibrate the threshold on");
  if (!(q >= 0 && q <= 1)) throw ConfigError("typicality quantile " + std::to_string(q) + " is not in [0, 1]");
  return stats::quantile(std::move(scores), q);
}

std::int64_t apply_gate(const TypicalityGate& gate, const std::vector<double>& scores, float* probs) {
  std::int64_t rejected = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!gate.rejects(scores[i])) continue;
    probs[i * 3] = 0.f;
    probs[i * 3 + 1] = 0.f;
    probs[i * 3 + 2] = 1.f;
    ++rejected;
  }
  return rejected;
}

}  // namespace taupe
