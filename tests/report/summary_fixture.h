#pragma once
// A valid RunSummary of a simulated run, shared by the summary, views and browser tests.
#include "taupe/report/summary.h"

namespace taupe::report::testing {

inline RunSummary valid_summary() {
  RunSummary s;
  s.taupe_version = "0.1.0";
  s.preset = "tiny";
  s.world = "mechanical";
  s.seed = 1;
  s.data = {120, 80, 5000};
  s.cv.folds = 3;
  s.cv.confusion_mean = {{0.9, 0.08, 0.02}, {0.1, 0.88, 0.02}, {0.0, 0.01, 0.99}};
  s.cv.confusion_std = {{0.02, 0.02, 0.01}, {0.03, 0.03, 0.01}, {0.0, 0.01, 0.01}};
  s.switch_neighbours.confusion_mean = {{0.91, 0.07, 0.02}, {0.11, 0.86, 0.03}, {0.0, 0.01, 0.99}};
  s.switch_neighbours.confusion_std = s.cv.confusion_std;
  s.switch_neighbours.delta_recall = {{"mitosis", {0.01, -0.02, 0.04}}, {"apoptosis", {-0.02, -0.05, 0.01}}};
  s.switch_centre.synthetic_fraction = 0.87;
  s.pc_shift.shifts = {-1.0, -0.5, 0.0, 0.5, 1.0};
  for (int pc = 0; pc < 4; ++pc) {
    PcShiftEntry e;
    e.pc = pc;
    e.slope_mitosis = pc == 1 ? 0.14 : 0.01;
    e.slope_apoptosis = pc == 1 ? -0.16 : -0.01;
    e.slope_ci_apoptosis = {e.slope_apoptosis - 0.01, e.slope_apoptosis + 0.01};
    e.realistic_range = {-1.0, 0.5};
    e.rho_nuclear_area = pc == 1 ? -0.91 : 0.05;
    s.pc_shift.per_pc.push_back(e);
  }
  s.pc_shift.top_pc = 1;
  auto verdict = [](const char* experiment, const char* outcome, int direction, const char* text) {
    VerdictEntry v;
    v.experiment = experiment;
    v.claim = "what an effect of this perturbation means";
    v.outcome = outcome;
    v.direction = direction;
    v.estimate = direction != 0 ? 0.1 * direction : 0.003;
    v.ci = {v.estimate - 0.04, v.estimate + 0.04};
    v.margin = 0.1;
    v.conclusion = text;
    v.expected_outcome = outcome;
    v.expected_direction = direction;
    v.correct = true;
    return v;
  };
  s.ground_truth = GroundTruthSummary{"mechanical",
                                      {verdict("neighbour identity", "no effect", 0, "neighbour identity: no effect"),
                                       verdict("nuclear size", "effect", +1, "PC 1 (nuclear area): smaller nucleus, more apoptosis")}};
  s.timings_s = {{"simulate", 1.5}, {"encoder", 20.0}};
  return s;
}

}  // namespace taupe::report::testing
