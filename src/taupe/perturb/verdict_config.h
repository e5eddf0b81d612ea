#pragma once
// Configuration of the verdicts (`[verdict]` in configs/*.toml): the error rate of every test,
// the margins that separate "effect" from "no effect", and the skill gate. These numbers define
// what a verdict claims; docs/perturbation.md ("Verdicts") gives the reason for each. They were
// fixed before the validation study (`taupe validate`) and are not tuned on it.
#include "taupe/core/config.h"

namespace taupe {

struct VerdictConfig {
  static constexpr const char* kSection = "verdict";
  /// Error rate of each test: an effect needs the (1 − alpha) interval to exclude 0; "no effect"
  /// needs the equivalence test (TOST) at alpha, i.e. the (1 − 2 alpha) interval inside ±margin.
  double alpha = 0.05;
  /// Neighbour switch: |class-balanced Δ P(apoptosis)| that matters. Switching the identity of
  /// every neighbour is the largest intervention on a cell's surroundings the images allow; a
  /// change of the expected predicted-apoptosis fraction by less than 1 in 10 is below what a
  /// biologist would act on.
  double switch_margin = 0.10;
  /// Nuclear-size PC: |change of the class-balanced apoptosis fraction per standard deviation of
  /// the PC| that matters. Chosen on the same scale as switch_margin: moving a cell across the
  /// central ±2 sd of the PC (95 % of cells) changes at most 0.10 of its predicted fates.
  double slope_margin = 0.025;
  /// Skill gate: held-out informedness J = recall(mitosis) + recall(apoptosis) − 1 below which a
  /// model does not predict fate usefully (0.10 = balanced accuracy 0.55). Skill is "shown" when
  /// the permutation test rejects J = 0 and J ≥ this; "absent" when the upper end of the
  /// (1 − 2 alpha) interval of J is below this; otherwise uncertain.
  double min_informedness = 0.10;

  template <class V>
  void visit(V& v) {
    v("alpha", alpha, "error rate of each verdict test (effect: (1-alpha) CI excludes 0; no effect: TOST at alpha)",
      in_range(0.001, 0.25));
    v("switch_margin", switch_margin,
      "neighbour switch: |class-balanced delta P(apoptosis)| below this is no effect", in_range(0.001, 1.0));
    v("slope_margin", slope_margin,
      "nuclear-size PC: |apoptosis fraction change per PC sd| below this is no effect", in_range(1e-6, 1.0));
    v("min_informedness", min_informedness,
      "skill gate: held-out informedness (recall mitosis + recall apoptosis - 1) a useful model reaches",
      in_range(0.0, 1.0));
  }
  void validate() const { check_fields(*this); }
  /// Level of the two-sided intervals the verdicts read (1 − alpha).
  double level() const { return 1.0 - alpha; }
};

}  // namespace taupe
