#pragma once
// Memory available to this process and the pre-stage memory check (docs/reliability.md).
#include <cstdint>
#include <string>

namespace taupe {

struct AvailableMemory {
  std::uint64_t bytes = 0;  ///< 0 = unknown (no /proc/meminfo)
  std::string source;       ///< "MemAvailable", "cgroup memory.max - memory.current", "run.memory_limit_mb"
};

/// MemAvailable of /proc/meminfo, lowered to the room left under this process's cgroup limit
/// (v2 memory.max - memory.current, or v1 memory.limit_in_bytes - memory.usage_in_bytes) when one
/// is set; `limit_mb` > 0 caps it further (the run.memory_limit_mb setting).
AvailableMemory available_memory(std::int64_t limit_mb = 0);

/// What a stage is expected to need at its peak (a cost model from the configuration).
struct MemoryEstimate {
  double bytes = 0;
  std::string setting;  ///< the setting that lowers it most, "section.key"
  std::string what;     ///< what dominates, e.g. "12,000 encoder patches held in memory"
};

/// Throws ResourceError when `need` exceeds `available` (known): the message names the stage,
/// both amounts, what dominates and the setting to lower.
void check_memory(const std::string& stage, const MemoryEstimate& need, const AvailableMemory& available);

/// Resident memory of this process now (VmRSS of /proc/self/status); 0 = unknown.
double resident_bytes();
/// Peak resident memory of this process so far (VmHWM of /proc/self/status); 0 = unknown.
double peak_rss_bytes();
/// Starts a new peak: resets VmHWM to the current resident size (Linux: "5" written to
/// /proc/self/clear_refs). Returns false where that is not possible; peak_rss_bytes() is then
/// the peak since the process started.
bool reset_peak_rss();

/// "1.5 GiB", "320 MiB".
std::string format_bytes(double bytes);

}  // namespace taupe
