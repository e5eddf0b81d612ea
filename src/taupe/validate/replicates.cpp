// Seed replicates of one dataset combined into one verdict per experiment (replicates.h).
#include "taupe/validate/replicates.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

#include "taupe/core/json_number.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/stats.h"
#include "taupe/perturb/verdict.h"
#include "taupe/perturb/verdict_config.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe::validate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The t interval of the mean of `x` at 1 − alpha, with the 1 − 2·alpha bounds for the
/// equivalence side; zero_spread when every value is equal.
perturb::Interval mean_interval(const std::vector<double>& x, double alpha) {
  perturb::Interval iv;
  const double n = static_cast<double>(x.size());
  iv.estimate = stats::mean(x);
  const double sd = stats::sd(x);
  iv.se = sd / std::sqrt(n);
  iv.zero_spread = !(sd > 0);
  const double t = stats::t_quantile(1 - alpha / 2, n - 1), t_eq = stats::t_quantile(1 - alpha, n - 1);
  iv.lo = iv.estimate - t * iv.se;
  iv.hi = iv.estimate + t * iv.se;
  iv.eq_lo = iv.estimate - t_eq * iv.se;
  iv.eq_hi = iv.estimate + t_eq * iv.se;
  iv.p = iv.zero_spread ? (iv.estimate == 0 ? 1.0 : 0.0) : perturb::student_t_p(iv.estimate / iv.se, n - 1);
  return iv;
}

/// Whether some run's estimate lies outside another run's own interval.
bool disagree(const std::vector<const VerdictRecord*>& read) {
  for (const auto* a : read)
    for (const auto* b : read)
      if (a != b && std::isfinite(b->ci_lo) && std::isfinite(b->ci_hi) &&
          (a->estimate < b->ci_lo || a->estimate > b->ci_hi))
        return true;
  return false;
}

/// The fewest runs (more than `r`, at most kMaxRunsNeeded) at which the same mean and spread
/// would decide: towards "effect" when |mean| ≥ margin (the 1 − α interval clears 0), else towards
/// "no effect" (the 1 − 2α interval inside ±margin); both quantiles follow the runs' degrees of
/// freedom. -1 when no number of runs up to the cap would.
std::int64_t runs_needed(double mean, double sd, double margin, double alpha, int r) {
  constexpr int kMaxRunsNeeded = 1000;
  const double a = std::fabs(mean);
  const bool towards_effect = a >= margin;
  const double room = towards_effect ? a : margin - a;
  if (!(sd > 0) || !(room > 0)) return -1;
  for (int n = r + 1; n <= kMaxRunsNeeded; ++n) {
    const double t = stats::t_quantile(towards_effect ? 1 - alpha / 2 : 1 - alpha, n - 1);
    if (t * sd / std::sqrt(static_cast<double>(n)) < room) return n;
  }
  return -1;
}

/// The single-run skill gate applied across runs: an effect needs skill shown in every run;
/// skill absent in every run means no effect.
void gate_by_skill(ReplicateVerdict& v, const std::vector<std::string>& skill_states) {
  const auto all = [&](const char* s) {
    return !skill_states.empty() &&
           std::all_of(skill_states.begin(), skill_states.end(), [&](const std::string& x) { return x == s; });
  };
  if (all("absent")) {
    v.outcome = kNoEffect;
    v.direction = 0;
    v.runs_needed = -1;
    v.reason = "the models do not predict fate in any run (skill absent)";
  } else if (v.outcome == kEffect && !all("shown")) {
    v.outcome = kInconclusive;
    v.direction = 0;
    v.reason = "a response, but the models' skill is not shown in every run";
  }
}

}  // namespace

ReplicateVerdict combine_verdict(const std::string& experiment, const std::vector<const VerdictRecord*>& runs,
                                 const std::vector<std::string>& skill_states, double alpha) {
  ReplicateVerdict v;
  v.experiment = experiment;
  v.interval = {kNaN, kNaN, kNaN, kNaN, 1.0};
  std::vector<const VerdictRecord*> read;
  std::vector<double> half_widths;
  for (const auto* r : runs) {
    ++v.runs;
    ++v.outcomes[r->outcome];
    if (std::isfinite(r->margin)) v.margin = r->margin;
    if (!r->statistic_read || !std::isfinite(r->estimate)) continue;
    read.push_back(r);
    v.estimates.push_back(r->estimate);
    if (std::isfinite(r->ci_lo) && std::isfinite(r->ci_hi)) half_widths.push_back((r->ci_hi - r->ci_lo) / 2);
  }
  v.read = static_cast<int>(read.size());
  if (v.read >= 2) {
    v.sd_between = stats::sd(v.estimates);
    v.runs_disagree = disagree(read);
    v.interval = mean_interval(v.estimates, alpha);
  }
  v.mean_half_width = half_widths.empty() ? kNaN : stats::mean(half_widths);
  if (v.read == 0 && v.runs >= 2 && std::none_of(runs.begin(), runs.end(), [](const VerdictRecord* r) {
        return std::isfinite(r->estimate);
      })) {
    // A verdict without a single statistic ("any effect"): the runs' common outcome, if they agree.
    const bool agree = std::all_of(runs.begin(), runs.end(), [&](const VerdictRecord* r) {
      return r->outcome == runs.front()->outcome && r->direction == runs.front()->direction;
    });
    v.outcome = agree && runs.front()->outcome != kMissing ? runs.front()->outcome : kInconclusive;
    v.direction = v.outcome == kInconclusive ? 0 : runs.front()->direction;
    v.reason = agree ? "no single statistic to combine; every run says so" : "no single statistic to combine, and the runs differ";
  } else if (v.read < v.runs || v.read < 2) {
    v.reason = v.read < 2 ? "fewer than two runs read the statistic"
                          : std::to_string(v.runs - v.read) + " of " + std::to_string(v.runs) +
                                " runs could not read the statistic (realistic range or PC range)";
  } else {
    const perturb::Decision d = perturb::decide(v.interval, v.margin, alpha, v.read);
    v.outcome = perturb::to_string(d.outcome);
    v.direction = d.direction;
    v.reason = d.reason;
    if (d.outcome == perturb::Outcome::kInconclusive)
      v.runs_needed = runs_needed(v.interval.estimate, v.sd_between, v.margin, alpha, v.read);
  }
  gate_by_skill(v, skill_states);
  return v;
}

std::vector<ReplicateGroup> combine_replicates(const std::vector<ReplicateRun>& runs, double alpha) {
  std::vector<ReplicateGroup> groups;
  std::vector<std::string> order;  // data sources in first-seen order
  std::map<std::string, std::vector<const ReplicateRun*>> by_data;
  for (const auto& r : runs) {
    if (r.data.empty() || !r.run || r.run->status != "done") continue;
    if (!by_data.count(r.data)) order.push_back(r.data);
    by_data[r.data].push_back(&r);
  }
  for (const auto& data : order) {
    const auto& members = by_data[data];
    if (members.size() < 2) continue;
    ReplicateGroup g;
    g.data = data;
    g.alpha = alpha;
    std::vector<std::string> experiments;
    for (const auto* m : members) {
      g.members.push_back(m->name);
      g.skill_states.push_back(m->run->skill_state);
      for (const auto& v : m->run->verdicts)
        if (std::find(experiments.begin(), experiments.end(), v.experiment) == experiments.end())
          experiments.push_back(v.experiment);
    }
    for (const auto& e : experiments) {
      std::vector<const VerdictRecord*> rs;
      for (const auto* m : members)
        for (const auto& v : m->run->verdicts)
          if (v.experiment == e) rs.push_back(&v);
      g.verdicts.push_back(combine_verdict(e, rs, g.skill_states, alpha));
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

double run_alpha(const fs::path& run_dir) {
  const double fallback = VerdictConfig{}.alpha;
  try {
    const toml::table t = toml::parse_file((run_dir / RunDir::kConfigName).string());
    return t["verdict"]["alpha"].value_or(fallback);
  } catch (const std::exception&) {
    return fallback;
  }
}

json ReplicateGroup::to_json() const {
  json vs = json::array();
  for (const auto& v : verdicts)
    vs.push_back({{"experiment", v.experiment},
                  {"runs", v.runs},
                  {"read", v.read},
                  {"outcomes", v.outcomes},
                  {"estimates", v.estimates},
                  {"margin", v.margin},
                  {"sd_between", json_number(v.sd_between)},
                  {"mean_half_width", json_number(v.mean_half_width)},
                  {"runs_disagree", v.runs_disagree},
                  {"estimate", json_number(v.interval.estimate)},
                  {"ci", json::array({json_number(v.interval.lo), json_number(v.interval.hi)})},
                  {"outcome", v.outcome},
                  {"direction", v.direction},
                  {"runs_needed", v.runs_needed >= 0 ? json(v.runs_needed) : json(nullptr)},
                  {"reason", v.reason}});
  return {{"data", data}, {"members", members}, {"skill", skill_states}, {"alpha", alpha}, {"verdicts", vs}};
}

std::string ReplicateGroup::brief() const {
  std::ostringstream o;
  o << "replicates of " << data << " (" << members.size() << " runs, seeds differ):\n";
  for (const auto& v : verdicts) {
    o << "  " << v.experiment << ": ";
    if (v.read >= 2)
      o << "mean " << perturb::format_interval(v.interval) << " over " << v.read << " runs, between-run sd "
        << std::fixed << std::setprecision(3) << v.sd_between << " (a run's own half-width " << v.mean_half_width
        << ") → ";
    o << v.outcome << direction_mark(v.outcome, v.direction) << " (" << v.reason;
    if (v.outcome == kInconclusive && v.runs_needed > 0) o << "; ≈ " << v.runs_needed << " runs would decide";
    o << "); runs:";
    for (const auto& [k, n] : v.outcomes) o << " " << n << " " << k;
    if (v.runs_disagree) o << "; the runs' own intervals do not hold each other's estimates";
    o << "\n";
  }
  return o.str();
}

}  // namespace taupe::validate
