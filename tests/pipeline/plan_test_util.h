#pragma once
// Helpers shared by the stage planning tests.
#include <map>
#include <string>
#include <vector>

#include "taupe/pipeline/stage_plan.h"

namespace taupe {

/// Records of an earlier run in which every stage of `hashes` finished.
inline std::map<std::string, StageRecord> all_done(const std::map<std::string, std::string>& hashes) {
  std::map<std::string, StageRecord> prev;
  for (const auto& [name, h] : hashes) prev[name] = StageRecord{StageStatus::kDone, h, 1.0, {}};
  return prev;
}

/// The stages of `plan` that are not skipped, in order.
inline std::vector<std::string> rerun(const std::vector<PlannedStage>& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan)
    if (p.action != StageAction::kSkip) out.push_back(p.name);
  return out;
}

}  // namespace taupe
