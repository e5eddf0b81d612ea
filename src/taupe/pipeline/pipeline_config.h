#pragma once
// Small helpers around RunConfig for `taupe run` (pipeline-owned).
#include <type_traits>
#include <utility>

#include "taupe/pipeline/run_config.h"
#include "taupe/report/report_config.h"

namespace taupe {

namespace detail {
template <class T, class = void>
struct HasReportSection : std::false_type {};
template <class T>
struct HasReportSection<T, std::void_t<decltype(std::declval<T&>().report)>> : std::true_type {};
}  // namespace detail

/// The [report] section of `cfg` when RunConfig carries one, else ReportConfig's defaults.
template <class RC = RunConfig>
ReportConfig run_report_config(const RC& cfg) {
  if constexpr (detail::HasReportSection<RC>::value) {
    return cfg.report;
  } else {
    (void)cfg;
    return ReportConfig{};
  }
}

}  // namespace taupe
