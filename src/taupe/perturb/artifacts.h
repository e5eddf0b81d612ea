#pragma once
// What the perturb stage writes under <run_dir>/perturb/: the names and formats of its
// artifacts, owned here; every reader asks this header. Dependency-free.
//   switch_neighbours.csv, switch_centre.csv   per model and class: recall before/after (tidy CSV)
//   switch_neighbours_trajectories.csv        per switched trajectory, keyed by (movie, track_id):
//                                             P(apoptosis) normalised / switched, gated and raw
//   pc_shift_nuclear_trajectories.csv         per trajectory: apoptosis slope over the nuclear-size
//                                             PC's realistic range, per sd of shrinkage
//   model_skill.csv                           the skill gate: informedness per model, p-value
//   pc_shift.csv, pc_shift_slopes.csv         response curves per PC and shift; slopes with CIs
//   pc_ablate.csv, pc_window.csv, shrink_nucleus.csv
//   verdicts.csv                              one row per verdict (what / claim / ground truth)
//   perturb.json                              every result's JSON view
//   summary_part.json                         the summary.json sections of the perturb results
//   *.png                                     example and decoded-image figures
#include <filesystem>

namespace taupe::perturb_artifacts {

inline std::filesystem::path dir(const std::filesystem::path& run_dir) { return run_dir / "perturb"; }

inline constexpr const char* kSwitchNeighboursCsv = "switch_neighbours.csv";
inline constexpr const char* kSwitchNeighboursTrajectoriesCsv = "switch_neighbours_trajectories.csv";
inline constexpr const char* kSwitchCentreCsv = "switch_centre.csv";
inline constexpr const char* kModelSkillCsv = "model_skill.csv";
inline constexpr const char* kPcShiftCsv = "pc_shift.csv";
inline constexpr const char* kPcShiftSlopesCsv = "pc_shift_slopes.csv";
inline constexpr const char* kPcShiftNuclearTrajectoriesCsv = "pc_shift_nuclear_trajectories.csv";
inline constexpr const char* kPcAblateCsv = "pc_ablate.csv";
inline constexpr const char* kPcWindowCsv = "pc_window.csv";
inline constexpr const char* kShrinkNucleusCsv = "shrink_nucleus.csv";
inline constexpr const char* kVerdictsCsv = "verdicts.csv";
inline constexpr const char* kResultsJson = "perturb.json";
inline constexpr const char* kSummaryPartJson = "summary_part.json";

}  // namespace taupe::perturb_artifacts
