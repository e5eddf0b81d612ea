// validation.html (validation_html.h).
#include "taupe/validate/validation_html.h"

#include <algorithm>
#include <cmath>

#include "taupe/report/html.h"
#include "taupe/report/svg.h"
#include "taupe/simulate/artifacts.h"
#include "taupe/simulate/model.h"
#include "taupe/simulate/sim_config.h"
#include "taupe/validate/validate.h"

namespace taupe::validate {

namespace {

using report::Font;
using report::Paint;
using report::Svg;
using report::Status;
using report::TableCell;

/// Outcome colours: effect vermillion, no effect blue, inconclusive grey (Okabe-Ito).
std::string outcome_color(const std::string& outcome) {
  if (outcome == kEffect) return "#D55E00";
  if (outcome == kNoEffect) return "#0072B2";
  return "#999999";
}

const VerdictRecord* find_verdict(const RunRecord& r, const std::string& experiment) {
  for (const auto& v : r.verdicts)
    if (v.experiment == experiment) return &v;
  return nullptr;
}

std::vector<std::string> experiments_of(const Validation& v) {
  std::vector<std::string> out;
  for (const auto& c : v.cells)
    if (std::find(out.begin(), out.end(), c.experiment) == out.end()) out.push_back(c.experiment);
  return out;
}

std::string proportion_text(const Proportion& p) {
  return std::to_string(p.k) + "/" + std::to_string(p.n) + " [" + report::fmt_fixed(p.lo, 2) + ", " +
         report::fmt_fixed(p.hi, 2) + "]";
}

Font font(double size, const char* anchor = "start", bool bold = false, const char* fill = "#222222") {
  Font f;
  f.size = size;
  f.anchor = anchor;
  f.bold = bold;
  f.fill = fill;
  return f;
}

std::string direction_text(int d) { return d > 0 ? "+" : d < 0 ? "\u2212" : ""; }

/// Ticks of a panel's x axis: over every finite estimate, interval end and margin, and zero.
report::Ticks panel_ticks(const Validation& v, const std::string& experiment) {
  double lo = 0, hi = 0;
  for (const auto& r : v.runs)
    if (const VerdictRecord* vr = find_verdict(r, experiment))
      for (double x : {vr->estimate, vr->ci_lo, vr->ci_hi, vr->margin, -vr->margin})
        if (std::isfinite(x)) {
          lo = std::min(lo, x);
          hi = std::max(hi, x);
        }
  return report::nice_ticks(lo, hi, 4);
}

/// The legend of a panel from (4, ly): the outcome colours and the margin's dash.
void panel_legend(Svg& s, double ly) {
  double lx = 4;
  for (const char* o : {kEffect, kNoEffect, kInconclusive}) {
    s.circle(lx + 4, ly - 4, 3.5, Paint::filled(outcome_color(o)));
    s.text(lx + 11, ly, o, font(11));
    lx += 16 + report::text_width(o, 11);
  }
  s.line(lx, ly - 4, lx + 14, ly - 4, Paint::stroked("#777777", 1, "4 3"));
  s.text(lx + 18, ly, "\u00b1margin", font(11));
}

std::string panel(const Validation& v, const std::string& experiment) {
  const report::Ticks t = panel_ticks(v, experiment);
  const double row_h = 15, label_w = 96, plot_w = 260, right_w = 22, top = 30, axis_h = 44;
  std::size_t rows = 0;
  for (const auto& w : v.spec.worlds) {
    rows += 1;  // world heading
    for (const auto& r : v.runs) rows += r.member.world == w;
  }
  const double plot_h = row_h * static_cast<double>(rows);
  const double width = label_w + plot_w + right_w + 8, height = top + plot_h + axis_h + 22;
  Svg s(width, height, experiment + ": effect size per seed");
  const double x0 = label_w;
  auto X = [&](double x) { return x0 + (x - t.lo) / (t.hi - t.lo) * plot_w; };
  s.text(width / 2, 16, experiment, font(13, "middle", true));
  s.rect(x0, top, plot_w, plot_h, Paint::stroked("#cccccc"));
  for (double tv : t.values) {
    s.line(X(tv), top + plot_h, X(tv), top + plot_h + 4, Paint::stroked("#555555"));
    s.text(X(tv), top + plot_h + 16, report::fmt_label(tv, t.decimals), font(11, "middle"));
  }
  s.text(x0 + plot_w / 2, top + plot_h + 34, "estimate with its interval", font(11, "middle"));
  s.line(X(0), top, X(0), top + plot_h, Paint::stroked("#333333", 1.2));
  double y = top;
  for (const auto& w : v.spec.worlds) {
    const double group_top = y;
    s.text(4, y + row_h - 4, w, font(11, "start", true));
    y += row_h;
    double margin = std::nan("");
    for (const auto& r : v.runs) {
      if (r.member.world != w) continue;
      s.text(label_w - 6, y + row_h - 4, "seed " + std::to_string(r.member.seed), font(11, "end"));
      const VerdictRecord* vr = find_verdict(r, experiment);
      const double cy = y + row_h / 2;
      if (!vr || vr->outcome == kMissing) {
        s.text(x0 + 4, y + row_h - 4, r.status == "done" ? "missing" : r.status, font(10, "start", false, "#999999"));
      } else {
        if (!std::isfinite(margin) && std::isfinite(vr->margin)) margin = vr->margin;
        const std::string col = outcome_color(vr->outcome);
        if (std::isfinite(vr->ci_lo) && std::isfinite(vr->ci_hi))
          s.line(X(vr->ci_lo), cy, X(vr->ci_hi), cy, Paint::stroked(col, 2));
        if (std::isfinite(vr->estimate)) s.circle(X(vr->estimate), cy, 3.5, Paint::filled(col));
        if (!vr->expected_outcome.empty())
          s.text(x0 + plot_w + 6, y + row_h - 4, vr->correct ? "\u2713" : "\u2717",
                 font(11, "start", true, vr->correct ? "#009E73" : "#D55E00"));
      }
      y += row_h;
    }
    if (std::isfinite(margin) && margin > 0)
      for (double m : {-margin, margin})
        s.line(X(m), group_top + row_h, X(m), y, Paint::stroked("#777777", 1, "4 3"));
  }
  panel_legend(s, top + plot_h + axis_h + 10);
  return s.str();
}

}  // namespace

std::vector<std::string> effect_size_panels(const Validation& v) {
  std::vector<std::string> out;
  for (const auto& e : experiments_of(v)) out.push_back(panel(v, e));
  return out;
}

namespace {
/// Headline: runs read, verdicts correct, run times.
void add_headline(report::HtmlReport& h, const Validation& v) {
  std::size_t done = 0;
  for (const auto& r : v.runs) done += r.status == "done";
  std::int64_t correct = 0, total = 0;
  for (const auto& c : v.cells) {
    correct += c.correct;
    total += c.seeds;
  }
  std::vector<report::HeadlineItem> head = {
      {"runs read", std::to_string(done) + "/" + std::to_string(v.runs.size()),
       done == v.runs.size() ? Status::Good : Status::Warn},
      {"verdicts correct", std::to_string(correct) + "/" + std::to_string(total)},
      {"longest run", report::fmt_fixed(v.run_max_s, 0) + " s"},
      {"runs in all", report::fmt_fixed(v.runs_sum_s / 60, 1) + " min"}};
  if (v.elapsed_s) head.push_back({"study wall time", report::fmt_fixed(*v.elapsed_s / 60, 1) + " min"});
  h.headline(head, "Accuracy = correct / K seeds with a Wilson 95 % interval; inconclusive and missing verdicts are "
                   "never correct.");
}

/// One row per world × verdict: outcome counts, accuracy and the false-effect rate or power.
report::Table verdict_table(const Validation& v) {
  report::Table t;
  t.caption = "Each world \u00d7 verdict over the study's seeds: outcome counts, accuracy, and the false-effect rate "
              "(no effect planted) or the power (effect found with the planted direction).";
  t.header = {"world", "verdict", "expected", "effect", "no effect", "inconclusive", "missing", "wrong direction",
              "accuracy [95% CI]", "false effect / power [95% CI]"};
  for (const auto& c : v.cells) {
    const std::string expected =
        c.expected_outcome.empty() ? "?" : c.expected_outcome + direction_text(c.expected_direction);
    std::string rate = "\u2014";
    if (c.false_effect_rate) rate = "false effect " + proportion_text(*c.false_effect_rate);
    if (c.power) rate = "power " + proportion_text(*c.power);
    const bool all_right = c.correct == c.seeds && c.seeds > 0;
    t.add_row({c.world, c.experiment, expected, TableCell(std::to_string(c.counts.at(kEffect)), Status::Neutral, true),
               TableCell(std::to_string(c.counts.at(kNoEffect)), Status::Neutral, true),
               TableCell(std::to_string(c.counts.at(kInconclusive)),
                         c.counts.at(kInconclusive) ? Status::Warn : Status::Neutral, true),
               TableCell(std::to_string(c.counts.at(kMissing)), c.counts.at(kMissing) ? Status::Bad : Status::Neutral,
                         true),
               TableCell(std::to_string(c.wrong_direction), c.wrong_direction ? Status::Bad : Status::Neutral, true),
               TableCell(proportion_text(c.accuracy), all_right ? Status::Good : Status::Warn), rate});
  }
  return t;
}

/// One row per world: what the simulator planted and what its ground truth shows over the runs.
report::Table world_table(const Validation& v) {
  namespace sa = simulate_artifacts;
  const std::vector<std::pair<std::string, std::string>> columns = {
      {sa::kAucCompression, "AUC compression"},     {sa::kAucWtNeighbours, "AUC WT contact"},
      {sa::kAucSmallNucleus, "AUC smaller nucleus"}, {sa::kLogitCompression, "logit z(compression)"},
      {sa::kLogitWtNeighbours, "logit z(WT contact)"}};
  report::Table t;
  t.caption = "Ground truth of each simulated world, mean [min, max] over its runs (data/simulation.json): the AUC "
              "with which each quantity, averaged over the frames before the cutoff, ranks apoptosis above mitosis "
              "(0.5 = none), and the coefficients of apoptosis ~ z(compression) + z(WT contact). A cause that is not "
              "planted can still predict fate through one that is (an AUC above 0.5 with a coefficient near 0): the "
              "models may use such a proxy, and the verdicts are scored against the planted causes.";
  t.header = {"world", "planted"};
  for (const auto& c : columns) t.header.push_back(c.second);
  for (const auto& world : v.spec.worlds) {
    const auto ws = v.world_stats.find(world);
    if (ws == v.world_stats.end()) continue;
    std::string planted = "?";
    if (std::find(kSimWorlds.begin(), kSimWorlds.end(), world) != kSimWorlds.end()) {
      const PlantedCauses pc = planted_causes(world);
      planted = pc.compression.planted && pc.wt_contact.planted ? "compression, WT contact"
                : pc.compression.planted                         ? "compression"
                : pc.wt_contact.planted                          ? "WT contact"
                                                                 : "none";
    }
    std::vector<TableCell> row = {world, planted};
    for (const auto& c : columns) {
      const auto it = ws->second.find(c.first);
      if (it == ws->second.end()) {
        row.emplace_back("\u2014");
        continue;
      }
      const WorldStat& w = it->second;
      row.emplace_back(report::fmt_fixed(w.mean, 2) + " [" + report::fmt_fixed(w.min, 2) + ", " +
                           report::fmt_fixed(w.max, 2) + "]",
                       Status::Neutral, true);
    }
    t.add_row(row);
  }
  return t;
}

/// One row per run: status, CV recalls, each verdict's outcome and the wall time.
report::Table runs_table(const Validation& v) {
  report::Table rt;
  rt.caption = "Per run: status, CV recall (gated; raw when the run reports it), outcomes and wall time (sum of stage timings).";
  rt.header = {"world", "seed", "status", "recall mitosis", "recall apoptosis", "raw mitosis", "raw apoptosis"};
  const auto experiments = experiments_of(v);
  for (const auto& e : experiments) rt.header.push_back(e);
  rt.header.push_back("seconds");
  auto recall = [](const RunRecord& r, const char* k) -> TableCell {
    const auto it = r.cv_recall.find(k);
    return it == r.cv_recall.end() ? TableCell("\u2014") : report::num_cell(it->second, 2);
  };
  for (const auto& r : v.runs) {
    std::vector<TableCell> row = {r.member.world, TableCell(std::to_string(r.member.seed), Status::Neutral, true),
                                  TableCell(r.status + (r.problem.empty() ? "" : " (" + r.problem + ")"),
                                            r.status == "done" ? Status::Neutral : Status::Bad),
                                  recall(r, "mitosis"), recall(r, "apoptosis"), recall(r, "mitosis_raw"),
                                  recall(r, "apoptosis_raw")};
    for (const auto& e : experiments) {
      const VerdictRecord* vr = find_verdict(r, e);
      if (!vr) {
        row.emplace_back(kMissing, Status::Bad);
        continue;
      }
      row.emplace_back(vr->outcome + direction_text(vr->direction), vr->correct ? Status::Good : Status::Bad);
    }
    row.push_back(report::num_cell(r.seconds(), 0));
    rt.add_row(row);
  }
  return rt;
}
}  // namespace

void write_validation_html(const Validation& v, const std::filesystem::path& path) {
  report::HtmlReport h("taupe validation study", "preset " + v.spec.preset + " \u00b7 " +
                                                     std::to_string(v.spec.worlds.size()) + " worlds \u00d7 " +
                                                     std::to_string(v.spec.seeds.size()) + " seeds");
  add_headline(h, v);
  h.section("Verdicts by world");
  h.table(verdict_table(v));
  h.section("Effect sizes across seeds");
  h.figure_row(effect_size_panels(v),
               "Each verdict's effect size with its interval, one row per seed, grouped by world; colour = outcome, "
               "solid line = 0, dashed = \u00b1margin; \u2713/\u2717 = scored correct or not against the planted truth.");
  if (!v.world_stats.empty()) {
    h.section("Ground truth of the worlds");
    h.table(world_table(v));
  }
  h.section("Runs");
  h.table(runs_table(v));
  h.write(path);
}

}  // namespace taupe::validate
