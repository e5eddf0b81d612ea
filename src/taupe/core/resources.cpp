// Available memory (/proc/meminfo, cgroup v1/v2) and the pre-stage memory check (resources.h).
#include "taupe/core/resources.h"

#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <tuple>

#include "taupe/core/errors.h"

namespace taupe {
namespace {

/// First number in a file; false when missing or "max".
bool read_number(const std::string& path, std::uint64_t& out) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return false;
  try {
    out = std::stoull(word);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

/// This process's cgroup directory under /sys/fs/cgroup for `controller` ("" = v2 unified).
std::string cgroup_dir(const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "0::/path" (v2) or "4:memory:/path" (v1)
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string ctl = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controller.empty() ? ctl.empty() : ctl.find(controller) != std::string::npos)
      return "/sys/fs/cgroup" + (controller.empty() ? std::string() : "/" + controller) + (path == "/" ? "" : path);
  }
  return "";
}

}  // namespace

AvailableMemory available_memory(std::int64_t limit_mb) {
  AvailableMemory m;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit)
      if (key == "MemAvailable:") {
        m.bytes = kb * 1024;
        m.source = "MemAvailable";
        break;
      }
  }
  std::uint64_t limit = 0, usage = 0;
  struct Place {
    std::string dir, limit, usage;
  };
  const Place places[] = {{cgroup_dir(""), "memory.max", "memory.current"},
                          {cgroup_dir("memory"), "memory.limit_in_bytes", "memory.usage_in_bytes"},
                          {"/sys/fs/cgroup", "memory.max", "memory.current"}};
  for (const auto& [dir, lim, use] : places) {
    if (dir.empty() || !read_number(dir + "/" + lim, limit)) continue;
    if (limit >= (std::numeric_limits<std::uint64_t>::max() >> 2)) continue;  // v1 "no limit"
    if (!read_number(dir + "/" + use, usage)) usage = 0;
    const std::uint64_t room = limit > usage ? limit - usage : 0;
    if (m.bytes == 0 || room < m.bytes) {
      m.bytes = room;
      m.source = "cgroup limit " + format_bytes(static_cast<double>(limit)) + " (" + dir + "/" + lim + ") minus usage";
    }
    break;
  }
  if (limit_mb > 0) {
    const std::uint64_t cap = static_cast<std::uint64_t>(limit_mb) << 20;
    if (m.bytes == 0 || cap < m.bytes) {
      m.bytes = cap;
      m.source = "run.memory_limit_mb = " + std::to_string(limit_mb);
    }
  }
  return m;
}

namespace {
// A "Vm...:   123 kB" line of /proc/self/status, in bytes; 0 when absent.
double proc_status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) {
      std::istringstream v(line.substr(key.size()));
      double kib = 0;
      if (v >> kib) return kib * 1024.0;
    }
  return 0;
}
}  // namespace

double resident_bytes() { return proc_status_bytes("VmRSS:"); }

double peak_rss_bytes() { return proc_status_bytes("VmHWM:"); }

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

std::string format_bytes(double bytes) {
  char buf[32];
  if (bytes >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  else std::snprintf(buf, sizeof buf, "%.0f MiB", bytes / (1024.0 * 1024));
  return buf;
}

void check_memory(const std::string& stage, const MemoryEstimate& need, const AvailableMemory& available) {
  if (available.bytes == 0 || need.bytes <= static_cast<double>(available.bytes)) return;
  throw ResourceError("stage " + stage + " needs about " + format_bytes(need.bytes) + " of memory (" + need.what +
                          "), but only " + format_bytes(static_cast<double>(available.bytes)) + " is available (" +
                          available.source + ")",
                      "lower " + need.setting + " (or free memory / raise the limit) and run the same command again");
}

}  // namespace taupe
