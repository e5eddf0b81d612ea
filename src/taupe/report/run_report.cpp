// report.html + summary.json from a run directory (run_report.h).
#include "taupe/report/run_report.h"

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <tuple>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/config_io.h"
#include "taupe/core/errors.h"
#include "taupe/core/log.h"
#include "taupe/core/run_dir.h"
#include "taupe/core/stats.h"
#include "taupe/core/version.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/patches.h"
#include "taupe/simulate/artifacts.h"
#include "taupe/report/csv.h"
#include "taupe/report/html.h"
#include "taupe/report/image.h"
#include "taupe/report/plot.h"
#include "taupe/report/run_layout.h"
#include "taupe/report/svg.h"
#include "taupe/report/views.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace taupe {

using report::BarChart;
using report::BarSeries;
using report::CsvTable;
using report::HtmlReport;
using report::LinePlot;
using report::Matrix;
using report::RunSummary;
using report::Series;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kCls[3] = {"mitosis", "apoptosis", "synthetic"};

int class_index(const std::string& name) {
  for (int c = 0; c < 3; ++c)
    if (name == kCls[c]) return c;
  return -1;
}

json read_json(const fs::path& f) {
  try {
    return json::parse(read_text_file(f));
  } catch (const json::exception& e) {
    throw DataError(f.string() + ": not valid JSON: " + e.what());
  }
}

double jnum(const json& j) { return j.is_number() ? j.get<double>() : kNaN; }

/// j[key] or null (never the undefined const operator[] on a missing key).
const json& jget(const json& j, const std::string& key) {
  static const json null_json;
  if (!j.is_object()) return null_json;
  auto it = j.find(key);
  return it == j.end() ? null_json : *it;
}
/// j[i] or null.
const json& jat(const json& j, std::size_t i) {
  static const json null_json;
  return j.is_array() && i < j.size() ? j[i] : null_json;
}

std::string fixed(double v, int d) {
  if (!std::isfinite(v)) return "n/a";
  std::ostringstream s;
  s << std::fixed << std::setprecision(d) << v;
  return s.str();
}

std::pair<double, double> mean_sd(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += x, ++n;
  if (n == 0) return {kNaN, kNaN};
  const double m = s / n;
  double q = 0;
  for (double x : v)
    if (std::isfinite(x)) q += (x - m) * (x - m);
  return {m, n > 1 ? std::sqrt(q / (n - 1)) : 0.0};
}

Matrix zeros3() { return Matrix(3, std::vector<double>(3, 0.0)); }

/// CV confusion from model/temporal/confusion.csv: rows with fold "mean" / "sd" (fraction
/// column); without them, mean ± sd over the per-fold row-normalised matrices.
void read_cv_confusion(const fs::path& csv, Matrix& mean, Matrix& sd, int& folds) {
  const CsvTable t = report::read_csv(csv);
  mean = zeros3();
  sd = zeros3();
  std::map<std::string, Matrix> per_fold;
  bool have_mean = false;
  for (std::size_t r = 0; r < t.size(); ++r) {
    const std::string fold = t.at(r, "fold");
    const int c = class_index(t.at(r, "true_class")), j = class_index(t.at(r, "predicted_class"));
    if (c < 0 || j < 0) continue;
    const double f = t.number(r, "fraction");
    if (fold == "mean") {
      mean[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] = f;
      have_mean = true;
    } else if (fold == "sd") {
      sd[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] = f;
    } else {
      auto& m = per_fold[fold];
      if (m.empty()) m = zeros3();
      m[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)] = f;
    }
  }
  folds = static_cast<int>(per_fold.size());
  if (!have_mean) {
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t j = 0; j < 3; ++j) {
        std::vector<double> v;
        for (const auto& [k, m] : per_fold) v.push_back(m[c][j]);
        const auto ms = mean_sd(v);
        mean[c][j] = ms.first;
        sd[c][j] = ms.second;
      }
  }
}

/// Mean ± sd over models of a tidy (model × condition × true_class) table's fraction columns,
/// for rows where `filter` holds. Returns matrices with rows = true class (mitosis, apoptosis,
/// synthetic when present).
std::pair<Matrix, Matrix> confusion_from_csv(const CsvTable& t, const std::function<bool(std::size_t)>& filter) {
  std::map<int, std::map<int, std::vector<double>>> v;  // [c*3+j][model] -> value
  std::vector<std::vector<std::vector<double>>> vals(3, std::vector<std::vector<double>>(3));
  for (std::size_t r = 0; r < t.size(); ++r) {
    if (!filter(r)) continue;
    const int c = class_index(t.at(r, "true_class"));
    if (c < 0) continue;
    for (int j = 0; j < 3; ++j)
      vals[static_cast<std::size_t>(c)][static_cast<std::size_t>(j)].push_back(
          t.number(r, std::string("fraction_") + kCls[j]));
  }
  Matrix m = zeros3(), s = zeros3();
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t j = 0; j < 3; ++j) {
      const auto ms = mean_sd(vals[c][j]);
      m[c][j] = std::isfinite(ms.first) ? ms.first : 0.0;
      s[c][j] = std::isfinite(ms.second) ? ms.second : 0.0;
    }
  return {m, s};
}

// ---- PNG files as inline SVG (numbered figures; decoded by the page's self-check) -------------
bool png_size(const std::string& bytes, int& w, int& h) {
  if (bytes.size() < 24 || bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0) return false;
  auto be = [&](std::size_t o) {
    return (static_cast<int>(static_cast<unsigned char>(bytes[o])) << 24) |
           (static_cast<int>(static_cast<unsigned char>(bytes[o + 1])) << 16) |
           (static_cast<int>(static_cast<unsigned char>(bytes[o + 2])) << 8) |
           static_cast<int>(static_cast<unsigned char>(bytes[o + 3]));
  };
  w = be(16);
  h = be(20);
  return w > 0 && h > 0;
}

/// An <svg> embedding a PNG file, displayed `scale` times its pixel size (capped to max_width).
std::string png_svg(const fs::path& file, double scale = 1.0, double max_width = 960) {
  const std::string bytes = read_text_file(file);
  int w = 0, h = 0;
  if (!png_size(bytes, w, h)) throw DataError(file.string() + ": not a PNG file");
  double dw = w * scale, dh = h * scale;
  if (dw > max_width) dh *= max_width / dw, dw = max_width;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << std::lround(dw) << "\" height=\"" << std::lround(dh)
    << "\" viewBox=\"0 0 " << w << ' ' << h << "\" role=\"img\"><image href=\"data:image/png;base64,"
    << report::base64_encode(bytes) << "\" width=\"" << w << "\" height=\"" << h
    << "\" style=\"image-rendering:pixelated\"/></svg>";
  return s.str();
}

void png_figure(HtmlReport& r, const fs::path& file, const std::string& caption, double scale = 1.0) {
  if (!fs::exists(file)) {
    r.note("(" + file.filename().string() + " not found: " + caption + ")");
    return;
  }
  r.figure_svg(png_svg(file, scale), caption);
}

// ---- images from glimpses / decoded latents -----------------------------------------------------
report::Image glimpse_image(const std::uint16_t* img, const std::array<float, 2>& lo, const std::array<float, 2>& hi) {
  const int n = kGlimpseSize * kGlimpseSize;
  std::vector<float> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    a[static_cast<std::size_t>(i)] = (img[i] - lo[0]) / std::max(1e-3f, hi[0] - lo[0]);
    b[static_cast<std::size_t>(i)] = (img[n + i] - lo[1]) / std::max(1e-3f, hi[1] - lo[1]);
  }
  return report::composite_from_float(a.data(), b.data(), kGlimpseSize, kGlimpseSize, 0.f, 1.f);
}

/// Per-channel display range of a trajectory: 1st and 99.5th percentiles of its frames.
std::pair<std::array<float, 2>, std::array<float, 2>> display_range(const GlimpseTrajectory& tr) {
  std::array<float, 2> lo{}, hi{};
  const std::size_t n = static_cast<std::size_t>(kGlimpseSize) * kGlimpseSize;
  for (int ch = 0; ch < 2; ++ch) {
    std::vector<double> v;
    for (int t = 0; t < tr.num_frames(); ++t) {
      const std::uint16_t* p = tr.images.data() + (static_cast<std::size_t>(t) * 2 + static_cast<std::size_t>(ch)) * n;
      for (std::size_t i = 0; i < n; i += 7) v.push_back(p[i]);
    }
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    lo[static_cast<std::size_t>(ch)] = static_cast<float>(stats::quantile_sorted(v, 0.01));
    hi[static_cast<std::size_t>(ch)] = static_cast<float>(stats::quantile_sorted(v, 0.995));
  }
  return {lo, hi};
}

void glimpse_montage(HtmlReport& r, const fs::path& glimpses, const ReportConfig& cfg) {
  GlimpseReader reader(glimpses);
  const int before = std::max(2, cfg.montage_max_frames * 2 / 3), after = std::max(1, cfg.montage_max_frames - before);
  const int stride = 2;
  report::ImageMontage m;
  m.title = "Glimpse trajectories up to the cutoff and the event";
  m.col_title = "frames relative to the cutoff (4 min each)";
  m.cell = cfg.montage_cell_px;
  m.marker_after_col = before - 1;
  m.marker_label = "cutoff";
  for (int k = -(before - 1); k <= after; ++k) m.col_labels.push_back((k > 0 ? "+" : "") + std::to_string(k * stride));
  for (Fate want : {Fate::kMitosis, Fate::kApoptosis}) {
    // the labelled trajectory of this fate with the most frames around the cutoff
    int best = -1, best_score = -1;
    const auto& infos = reader.infos();
    for (std::size_t i = 0; i < infos.size(); ++i) {
      if (infos[i].fate != want) continue;
      const int score = std::min(infos[i].cutoff + 1, (before - 1) * stride + 1) +
                        std::min(infos[i].num_frames - 1 - infos[i].cutoff, after * stride) * 4;
      if (score > best_score) best_score = score, best = static_cast<int>(i);
    }
    if (best < 0) continue;
    const GlimpseTrajectory tr = reader.read(static_cast<std::size_t>(best));
    const auto range = display_range(tr);
    std::vector<report::Image> row;
    const std::size_t px = static_cast<std::size_t>(2) * kGlimpseSize * kGlimpseSize;
    for (int k = -(before - 1); k <= after; ++k) {
      const int t = tr.cutoff + k * stride;
      if (t < 0 || t >= tr.num_frames()) row.emplace_back();
      else row.push_back(glimpse_image(tr.images.data() + static_cast<std::size_t>(t) * px, range.first, range.second));
    }
    m.row_labels.push_back(to_string(want) + " (track " + std::to_string(tr.track_id) + ")");
    m.images.push_back(row);
  }
  if (m.images.empty()) {
    r.note("No labelled trajectory to show.");
    return;
  }
  r.figure_svg(report::render(m),
               "Glimpses (64 × 64 px, GFP wild type green, RFP scribble magenta) of one mitotic and one apoptotic "
               "trajectory, every 2nd frame. The dashed line marks the cutoff: the TCN sees only frames up to it; the "
               "frames after it show the event's morphology.");
}

/// Stage names in the order the manifest records them (the order they ran).
std::vector<std::string> manifest_stage_order(const json& manifest) {
  std::vector<std::string> order;
  if (manifest.contains("stages") && manifest["stages"].is_array())
    for (const auto& st : manifest["stages"])
      if (st.is_object() && st.contains("name")) order.push_back(st.value("name", ""));
  return order;
}

/// Stage -> peak resident memory (MiB) recorded by the pipeline (its own peak where the kernel
/// allows resetting it, else the process's peak so far).
std::map<std::string, double> manifest_stage_peaks(const json& manifest) {
  std::map<std::string, double> out;
  if (!manifest.contains("stages") || !manifest["stages"].is_array()) return out;
  for (const auto& st : manifest["stages"]) {
    if (!st.is_object() || st.value("status", "") != "done") continue;
    for (const char* key : {"peak_rss_mb", "process_peak_rss_mb"})
      if (st.contains(key) && st[key].is_number()) out[st.value("name", "?")] = st[key].get<double>();
  }
  return out;
}

std::vector<std::string> perturb_pngs(const fs::path& pdir, const json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& f : list)
    if (f.is_string()) out.push_back(f.get<std::string>());
  (void)pdir;
  return out;
}

fs::path resolve_in(const fs::path& dir, const std::string& name) {
  const fs::path p(name);
  if (p.is_absolute()) return p;
  if (fs::exists(dir / p)) return dir / p;
  return dir / p.filename();
}

}  // namespace

// ---- summary ----------------------------------------------------------------------------------------
RunSummary build_run_summary(const fs::path& run_dir, const json& manifest_in,
                             const std::map<std::string, double>& extra_timings) {
  const RunLayout L(run_dir);
  RunSummary s;
  const fs::path part = L.summary_part();
  if (!fs::exists(part))
    throw IoError(part.string() + ": missing (the perturb stage did not finish)", "rerun `taupe run` on this directory");
  report::from_json(read_json(part), s);

  // Preset and seed as the run recorded them: config.toml's [run] preset, the manifest's seed.
  const json manifest = manifest_in.is_object() ? manifest_in : RunDir::read_manifest(run_dir);
  const fs::path config_file = run_dir / RunDir::kConfigName;
  s.taupe_version = kVersion;
  s.preset = peek_toml_string(read_text_file(config_file), config_file.string(), "run", "preset");
  s.seed = manifest.value("seed", std::uint64_t{0});

  GlimpseReader glimpses(L.glimpses());
  // A --data run never claims ground truth, even when the imported glimpses carry a world
  // (e.g. simulated data exported and re-imported): the planted mechanism is not this run's.
  const std::string world = L.real_data() ? std::string() : glimpses.file_info().world;
  if (world.empty()) {
    s.world.reset();
    s.ground_truth.reset();
  } else {
    s.world = world;
    if (s.ground_truth) s.ground_truth->world = world;
  }
  s.data = {};
  for (const auto& info : glimpses.infos()) {
    if (info.fate == Fate::kMitosis) ++s.data.trajectories_mitosis;
    if (info.fate == Fate::kApoptosis) ++s.data.trajectories_apoptosis;
  }
  s.data.patches = static_cast<std::int64_t>(PatchReader(L.patches()).size());

  s.cv = {};
  read_cv_confusion(temporal_artifacts::confusion_csv(L.model()), s.cv.confusion_mean, s.cv.confusion_std, s.cv.folds);
  if (fs::exists(temporal_artifacts::cv_summary_json(L.model()))) {
    const json cvj = read_json(temporal_artifacts::cv_summary_json(L.model()));
    if (cvj.contains("folds") && cvj["folds"].is_number_integer()) s.cv.folds = cvj["folds"].get<int>();
    else if (cvj.contains("folds") && cvj["folds"].is_array()) s.cv.folds = static_cast<int>(cvj["folds"].size());
    if (cvj.contains("confusion_mean_raw")) s.cv.confusion_mean_raw = cvj["confusion_mean_raw"].get<report::Matrix>();
    if (cvj.contains("typicality_gate")) s.cv.typicality_gate = cvj["typicality_gate"].get<report::TypicalityGateSummary>();
  }

  s.timings_s.clear();
  if (manifest.contains("stages"))
    for (const auto& st : manifest["stages"])
      if (st.contains("seconds") && st["seconds"].is_number() && st.value("status", "") == "done")
        s.timings_s[st.value("name", "?")] = st["seconds"].get<double>();
  for (const auto& [k, v] : extra_timings) s.timings_s[k] = v;
  return s;
}

// ---- report.html -----------------------------------------------------------------------------------
namespace {

/// What every section of report.html reads.
struct ReportInputs {
  const fs::path& run_dir;
  const RunLayout& layout;
  const RunSummary& summary;
  const ReportConfig& cfg;
  bool real;        ///< --data run: no ground truth
  json perturb;     ///< perturb/perturb.json (empty object when absent)
  int max_pcs;      ///< PCs shown in per-PC figures
};

/// 1 Run: configuration, versions, machine, timings.
void run_section(HtmlReport& r, const ReportInputs& in) {
  const fs::path& run_dir = in.run_dir;
  const RunSummary& s = in.summary;
  const bool real = in.real;
  r.section("Run", 2, "run");
  {
    json m = json::object();
    try {
      m = RunDir::read_manifest(run_dir);
    } catch (const Error&) {
    }
    std::vector<std::pair<std::string, std::string>> kv = {
        {"preset", s.preset.empty() ? "(defaults)" : s.preset},
        {"world", real ? "real data (no planted mechanism)" : *s.world},
        {"seed", std::to_string(s.seed)},
        {"taupe", s.taupe_version}};
    if (m.contains("versions") && m["versions"].is_object())
      for (const auto& [k, v] : m["versions"].items())
        if (k != "taupe") kv.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    if (m.contains("host")) kv.emplace_back("machine", m.value("host", "") + ", " + std::to_string(m.value("threads", 0)) + " threads");
    if (m.contains("blas") && m["blas"].is_object()) kv.emplace_back("BLAS", m["blas"].value("name", ""));
    if (m.contains("command_line")) kv.emplace_back("command line", m.value("command_line", ""));
    if (m.contains("started") && m["started"].is_string()) kv.emplace_back("started (UTC)", m["started"].get<std::string>());
    kv.emplace_back("run directory", fs::absolute(run_dir).string());
    r.key_values(kv, "Run: configuration, versions and machine.");
    r.table(report::timings_table(s.timings_s, manifest_stage_order(m), manifest_stage_peaks(m)));
    const fs::path cfg_file = run_dir / RunDir::kConfigName;
    if (fs::exists(cfg_file))
      r.raw_html("<details><summary>Resolved configuration (config.toml)</summary><pre>" +
                 report::xml_escape(read_text_file(cfg_file)) + "</pre></details>\n");
  }
}

/// 2 Data: a frame, a glimpse montage, counts, ground truth.
void data_section(HtmlReport& r, const ReportInputs& in) {
  const RunLayout& L = in.layout;
  const RunSummary& s = in.summary;
  const ReportConfig& cfg = in.cfg;
  const bool real = in.real;
  r.section("Data", 2, "data");
  if (real) r.paragraph("Imported glimpse dataset: " + L.glimpses().string() + ".");
  const fs::path pics = simulate_artifacts::pictures(L.data());
  if (!real) png_figure(r, pics / simulate_artifacts::kFramePng, "One full simulated frame (GFP wild type green, RFP scribble magenta).");
  glimpse_montage(r, L.glimpses(), cfg);
  r.table(report::data_table(s.data));
  if (!real) {
    r.section("Ground truth of the simulated world", 3);
    for (const auto& [f, cap] : std::vector<std::pair<std::string, std::string>>{
             {simulate_artifacts::kApoptosisVsCompressionPng, "Scribble apoptosis rate against compression (ground truth)."},
             {simulate_artifacts::kApoptosisVsWtContactPng, "Scribble apoptosis rate against the number of wild-type neighbours in contact (ground truth)."},
             {simulate_artifacts::kPopulationPng, "Population fractions over time (ground truth)."}})
      png_figure(r, pics / f, cap);
  }
}

/// The encoder's training loss and its last reconstruction montage.
void encoder_figures(HtmlReport& r, const ReportInputs& in) {
  const RunLayout& L = in.layout;
  const ReportConfig& cfg = in.cfg;
  const fs::path loss = encoder_artifacts::loss_csv(L.encoder_work());
  if (fs::exists(loss)) {
    const CsvTable t = report::read_csv(loss);
    LinePlot p;
    p.title = "β-VAE training loss";
    p.x = {"optimiser step"};
    p.y = {"loss per image", "summed squared error / nats"};
    const auto steps = t.numbers("step");
    const std::size_t every = std::max<std::size_t>(1, steps.size() / 400);
    for (const std::string col : {"loss", "reconstruction", "kl", "capacity"}) {
      if (!t.has_column(col)) continue;
      const auto v = t.numbers(col);
      Series se;
      se.name = col == "kl" ? "KL (nats)" : col == "capacity" ? "capacity C (nats)" : col;
      for (std::size_t i = 0; i < v.size(); i += every) se.x.push_back(steps[i]), se.y.push_back(v[i]);
      se.markers = false;
      p.series.push_back(se);
    }
    p.width = cfg.figure_width;
    r.figure_svg(report::render(p), "β-VAE loss components per step (loss = reconstruction + γ·|KL − C|).");
  }
  fs::path montage;
  if (fs::exists(L.encoder_work()))
    for (const auto& e : fs::directory_iterator(L.encoder_work()))
      if (encoder_artifacts::is_montage(e.path()) &&
          (montage.empty() || e.path().filename() > montage.filename()))
        montage = e.path();
  if (!montage.empty())
    png_figure(r, montage, "Reconstructions after the last epoch: inputs beside their reconstructions (" +
                               montage.filename().string() + ").", 2.0);
}

/// PCA explained variance and what each PC means (model/pc_meaning.csv).
void pca_figures(HtmlReport& r, const ReportInputs& in) {
  const RunLayout& L = in.layout;
  const RunSummary& s = in.summary;
  const ReportConfig& cfg = in.cfg;
  const int max_pcs = in.max_pcs;
  const fs::path meaning = model_files::pc_meaning_csv(L.model());
  if (fs::exists(meaning)) {
    const CsvTable t = report::read_csv(meaning);
    BarChart ev;
    ev.title = "PCA explained variance";
    ev.x_label = "principal component";
    ev.y = {"explained variance ratio"};
    BarSeries es{"explained variance", {}, {}, {}, "#0072B2"};
    for (std::size_t i = 0; i < t.size() && static_cast<int>(i) < max_pcs; ++i) {
      ev.categories.push_back(t.at(i, "pc"));
      es.values.push_back(t.number(i, "explained_variance_ratio"));
    }
    ev.series.push_back(es);
    ev.legend = false;
    ev.width = cfg.wide_figure_width;
    r.figure_svg(report::render(ev), "Fraction of the latent variance (z_mean of all patches) explained by each PC.");

    BarChart b;
    b.title = "What the PCs mean";
    b.x_label = "principal component";
    b.y = {"Spearman ρ", "", -1.0, 1.0};
    BarSeries area{"ρ with nuclear area", {}, {}, {}, "#D55E00"}, type{"ρ with cell type (scrib = 1)", {}, {}, {}, "#009E73"};
    for (std::size_t i = 0; i < t.size() && static_cast<int>(i) < max_pcs; ++i) {
      b.categories.push_back(t.at(i, "pc"));
      area.values.push_back(t.number(i, "rho_nuclear_area"));
      type.values.push_back(t.number(i, "rho_cell_type"));
    }
    b.series = {area, type};
    b.highlight = {s.pc_shift.top_pc};
    b.highlight_note = "top PC of the pc-shift experiment";
    b.width = cfg.wide_figure_width;
    r.figure_svg(report::render(b), "Per-PC Spearman correlation (over patches) with the central cell's nuclear area "
                                    "and with its cell type.");
  }
}

/// 3 Models: VAE loss and reconstructions, PCA, PC meaning, latent traversal, CV confusion.
void models_section(HtmlReport& r, const ReportInputs& in) {
  const RunSummary& s = in.summary;
  r.section("Models", 2, "models");
  encoder_figures(r, in);
  pca_figures(r, in);
  const fs::path traversal = report_artifacts::latent_traversal_svg(in.run_dir);
  if (fs::exists(traversal))
    r.figure_svg(read_text_file(traversal),
                 "Latent traversal: for each PC, the PC coordinate is set to k standard deviations (all other PCs "
                 "at their mean), mapped back to the latent space by the inverse PCA (eq. 3) and decoded by the VAE "
                 "decoder (standardised units, shown from −1 to 3).");
  else
    r.note("Latent traversal unavailable: " + traversal.string() + " was not written.");
  r.figure_svg(report::render(report::cv_confusion(s.cv)),
               "Cross-validated confusion matrix (rows: true class, row-normalised; mean ± sd over " +
                   std::to_string(s.cv.folds) + " folds, each model tested on its held-out fold).");
  r.paragraph(report::model_and_gate_text(s.cv));
}

/// 4 Neighbour switching (Figs 3, 4) and the central-cell control.
void switch_section(HtmlReport& r, const ReportInputs& in) {
  const RunLayout& L = in.layout;
  const RunSummary& s = in.summary;
  const ReportConfig& cfg = in.cfg;
  const json& perturb = in.perturb;
  r.section("Neighbour switching (Figs 3, 4)", 2, "switch");
  {
    const json sn = perturb.value("switch_neighbours", json::object());
    for (const auto& f : perturb_pngs(L.perturb(), sn.value("examples", json::array())))
      png_figure(r, resolve_in(L.perturb(), f),
                 "Neighbour switching example (paper Fig 3): rows original, reconstruction, mask, neighbours switched, "
                 "reconstruction of the switched glimpses.", 1.0);
    const fs::path csv = L.perturb() / perturb_artifacts::kSwitchNeighboursCsv;
    if (fs::exists(csv)) {
      const CsvTable t = report::read_csv(csv);
      const auto before = confusion_from_csv(t, [&](std::size_t i) { return t.at(i, "condition") == "unperturbed"; });
      const auto normal = confusion_from_csv(t, [&](std::size_t i) { return t.at(i, "condition") == "normalised"; });
      r.figure_row({report::render(report::confusion_heatmap(before.first, before.second, report::summary_class_names(),
                                                              "Unperturbed")),
                    report::render(report::confusion_heatmap(normal.first, normal.second, report::summary_class_names(),
                                                              "Normalised, not switched")),
                    report::render(report::switch_confusion(s.switch_neighbours))},
                   "Confusion matrices (mean ± sd over models) before and after switching the neighbours' identity "
                   "(eq. 7); the normalised condition isolates the effect of the normalisation.");
      r.figure_svg(report::render(report::confusion_difference(s.switch_neighbours.confusion_mean, normal.first,
                                                                "Switched − normalised")),
                   "Change of the mean confusion matrix caused by switching.");
    }
    r.figure_svg(report::render(report::delta_recall_chart(s.switch_neighbours, cfg)),
                 "Change in recall per class after neighbour switching (switched − normalised), with " +
                     std::string("bootstrap confidence intervals over trajectories."));
    r.section("Central-cell control", 3);
    r.paragraph(report::switch_centre_text(s.switch_centre));
    const fs::path csvc = L.perturb() / perturb_artifacts::kSwitchCentreCsv;
    if (fs::exists(csvc)) {
      const CsvTable t = report::read_csv(csvc);
      const auto sw = confusion_from_csv(t, [&](std::size_t i) { return t.at(i, "condition") == "switched"; });
      r.figure_svg(report::render(report::confusion_heatmap(sw.first, sw.second, report::summary_class_names(),
                                                             "Central cell switched")),
                   "Confusion matrix after switching the central cell (mean ± sd over models).");
    }
  }
}

/// Small multiples of the predicted fractions against the shift, one panel per PC (Fig 6).
void pc_shift_curves(HtmlReport& r, const ReportInputs& in, const json& ps) {
  const RunLayout& L = in.layout;
  const RunSummary& s = in.summary;
  const ReportConfig& cfg = in.cfg;
  const int max_pcs = in.max_pcs;
  const fs::path csv = L.perturb() / perturb_artifacts::kPcShiftCsv;
  if (fs::exists(csv)) {
    const CsvTable t = report::read_csv(csv);
    // (pc, shift, class) -> per-model fractions
    std::map<std::tuple<int, double, int>, std::array<std::vector<double>, 3>> agg;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const int c = class_index(t.at(i, "true_class"));
      if (c < 0) continue;
      auto& a = agg[{static_cast<int>(t.integer(i, "pc")), t.number(i, "shift"), c}];
      for (int j = 0; j < 3; ++j) a[static_cast<std::size_t>(j)].push_back(t.number(i, std::string("fraction_") + kCls[j]));
    }
    std::map<int, std::array<double, 2>> range;
    for (const auto& e : s.pc_shift.per_pc) range[e.pc] = e.realistic_range;
    for (int c = 0; c < 2; ++c) {
      report::SmallMultiples sm;
      sm.title = std::string("Predictions of true-") + kCls[c] + " trajectories under PC shifts";
      sm.x = {"shift", ps.value("units", "pc") == "sd" ? "PC sd" : "PC units"};
      sm.y = {"fraction predicted", "", 0.0, 1.0};
      sm.columns = cfg.small_multiple_columns;
      for (const auto& e : s.pc_shift.per_pc) {
        if (e.pc >= max_pcs) continue;
        LinePlot p;
        p.title = "PC " + std::to_string(e.pc);
        for (int j = 0; j < 3; ++j) {
          Series se;
          se.name = kCls[j];
          se.markers = false;
          for (double v : s.pc_shift.shifts) {
            auto it = agg.find({e.pc, v, c});
            if (it == agg.end()) continue;
            const auto ms = mean_sd(it->second[static_cast<std::size_t>(j)]);
            se.x.push_back(v), se.y.push_back(ms.first), se.sd.push_back(std::isfinite(ms.second) ? ms.second : 0.0);
          }
          p.series.push_back(se);
        }
        const auto rg = range[e.pc];
        if (std::isfinite(rg[0]) && std::isfinite(rg[1])) p.shaded.push_back({rg[0], rg[1], "realistic range"});
        if (e.pc == s.pc_shift.top_pc) sm.highlight.push_back(static_cast<int>(sm.panels.size()));
        sm.panels.push_back(p);
      }
      sm.highlight_note = "largest apoptosis slope";
      r.figure_svg(report::render(sm),
                   std::string("Fraction of true-") + kCls[c] +
                       " trajectories predicted as each class when one PC is shifted in every real frame (eq. 8); "
                       "mean ± sd over models; grey: realistic range (< 20 % predicted synthetic).");
    }
  }
}

/// Confusion matrices at both ends of the top PC's realistic range.
void range_confusion_figure(HtmlReport& r, const ReportInputs& in, const json& ps) {
  const RunSummary& s = in.summary;
  const json rc = ps.value("range_confusion", json::array());
  const int tp = s.pc_shift.top_pc;
  if (rc.is_array() && tp >= 0 && tp < static_cast<int>(rc.size())) {
    auto mat = [](const json& j) {
      Matrix m = zeros3();
      for (std::size_t c = 0; c < 3; ++c)
        for (std::size_t k = 0; k < 3; ++k) {
          const double v = jnum(jat(jat(j, c), k));
          m[c][k] = std::isfinite(v) ? v : 0.0;
        }
      return m;
    };
    const json& e = rc[static_cast<std::size_t>(tp)];
    const auto& per = s.pc_shift.per_pc;
    std::array<double, 2> rg{kNaN, kNaN};
    for (const auto& x : per)
      if (x.pc == tp) rg = x.realistic_range;
    r.figure_row({report::render(report::confusion_heatmap(mat(jget(jget(e, "low"), "mean")), mat(jget(jget(e, "low"), "sd")),
                                                            report::summary_class_names(),
                                                            "PC " + std::to_string(tp) + " at " + fixed(rg[0], 1))),
                  report::render(report::confusion_heatmap(mat(jget(jget(e, "high"), "mean")), mat(jget(jget(e, "high"), "sd")),
                                                            report::summary_class_names(),
                                                            "PC " + std::to_string(tp) + " at " + fixed(rg[1], 1)))},
                 "Confusion matrices at both ends of the realistic range of the top PC (mean ± sd over models).");
  }
}

/// 5 PC shifts (Figs 5, 6).
void pc_shift_section(HtmlReport& r, const ReportInputs& in) {
  const RunLayout& L = in.layout;
  const RunSummary& s = in.summary;
  const ReportConfig& cfg = in.cfg;
  const bool real = in.real;
  const json& perturb = in.perturb;
  r.section("PC shifts (Figs 5, 6)", 2, "pc-shift");
  {
    const json ps = perturb.value("pc_shift", json::object());
    for (const auto& f : perturb_pngs(L.perturb(), ps.value("decoded", json::array())))
      png_figure(r, resolve_in(L.perturb(), f),
                 "Decoded images of one trajectory's frame while shifting a single PC (paper Fig 5a,b): inverse PCA → "
                 "decoder. " + fs::path(f).filename().string());
    pc_shift_curves(r, in, ps);
    range_confusion_figure(r, in, ps);
    r.figure_svg(report::render(report::slope_chart(s.pc_shift, cfg)),
                 "Slopes of the mitosis and apoptosis fractions against the shift inside each PC's realistic range "
                 "(apoptosis with bootstrap CI), for every PC.");
    if (!real)
      r.figure_svg(report::render(report::rho_chart(s.pc_shift, cfg)),
                   "Spearman ρ of each PC with the central cell's ground-truth nuclear area (glimpse frames up to the cutoff).");
    r.table(report::pc_table(s.pc_shift));
  }
}

/// 6 Ablation, duration and shrink-nucleus.
void more_section(HtmlReport& r, const ReportInputs& in) {
  const RunSummary& s = in.summary;
  const ReportConfig& cfg = in.cfg;
  const int max_pcs = in.max_pcs;
  r.section("Ablation, duration and shrink-nucleus", 2, "more");
  if (s.extra.contains("pc_ablate")) {
    const json& a = jget(s.extra, "pc_ablate");
    BarChart b;
    b.title = "Recall lost when a PC is replaced by its mean";
    b.x_label = "principal component";
    b.y = {"recall drop (baseline − ablated)"};
    BarSeries mi{"mitosis", {}, {}, {}, ""}, ap{"apoptosis", {}, {}, {}, ""};
    for (const auto& e : a.value("per_pc", json::array())) {
      if (e.value("pc", 0) >= max_pcs) continue;
      b.categories.push_back(std::to_string(e.value("pc", 0)));
      const json& d = jget(e, "recall_drop");
      for (auto* bs : {&mi, &ap}) {
        const json& v = jget(d, bs->name);
        bs->values.push_back(jnum(jat(v, 0)));
        bs->ci_lo.push_back(jnum(jat(v, 1)));
        bs->ci_hi.push_back(jnum(jat(v, 2)));
      }
    }
    b.series = {mi, ap};
    b.width = cfg.wide_figure_width;
    r.figure_svg(report::render(b), "pc-ablate: drop in recall per class when one PC is set to its mean in every real "
                                    "frame (bootstrap CIs).");
  }
  if (s.extra.contains("pc_window")) {
    const json& w = jget(s.extra, "pc_window");
    LinePlot p;
    p.title = "Duration of a PC shift (pc-window, PC " + std::to_string(w.value("pc", -1)) + ")";
    p.x = {"frames shifted before the cutoff (log2 scale)", "log2 frames"};
    p.y = {"apoptosis fraction (class-balanced)", "", 0.0, 1.0};
    const auto lengths = w.value("lengths", std::vector<int>{});
    const auto shifts = w.value("shifts", std::vector<double>{});
    const json& f = jget(w, "apoptosis_fraction");
    for (std::size_t k = 0; k < shifts.size(); ++k) {
      Series se;
      se.name = "shift " + fixed(shifts[k], 1);
      for (std::size_t l = 0; l < lengths.size() && l < f.size(); ++l)
        se.x.push_back(std::log2(static_cast<double>(lengths[l]))), se.y.push_back(jnum(jat(jat(f, l), k)));
      p.series.push_back(se);
    }
    p.width = cfg.figure_width;
    r.figure_svg(report::render(p), "pc-window: the shift applied only to the last L real frames before the cutoff. "
                                    "A rising curve means the duration of the change matters.");
  }
  if (s.extra.contains("shrink_nucleus")) {
    const json& sh = jget(s.extra, "shrink_nucleus");
    LinePlot p;
    p.title = "Shrinking the central nucleus in image space";
    p.x = {"nucleus scale factor"};
    p.y = {"fraction (class-balanced)", "", 0.0, 1.0};
    const auto factors = sh.value("factors", std::vector<double>{});
    for (const std::string key : {"apoptosis_fraction", "synthetic_fraction"}) {
      Series se;
      se.name = key == "apoptosis_fraction" ? "apoptosis" : "synthetic";
      const json& v = jget(sh, key);
      for (std::size_t i = 0; i < factors.size() && i < v.size(); ++i) se.x.push_back(factors[i]), se.y.push_back(jnum(jat(v, i)));
      p.series.push_back(se);
    }
    p.ref_lines.push_back({true, 1.0, "unchanged"});
    p.width = cfg.figure_width;
    r.figure_svg(report::render(p), "shrink-nucleus: the central nucleus (and its mask) rescaled, re-encoded and "
                                    "predicted. Direction compared with the nuclear-size PC shift: " +
                                        sh.value("direction", std::string("n/a")) + ".");
  }
}

/// 7 Verdicts.
void verdicts_section(HtmlReport& r, const ReportInputs& in) {
  const RunLayout& L = in.layout;
  const RunSummary& s = in.summary;
  r.section("Verdicts", 2, "verdicts");
  if (s.extra.contains("model_skill")) {
    const json& k = jget(s.extra, "model_skill");
    r.paragraph("Skill gate (no conclusion is causal unless the models predict fate on held-out trajectories): " +
                k.value("text", std::string("n/a")) + ".");
  }
  r.note("The intervals resample the fold models and, within them, lineages. Every fold model shares this "
         "run's one encoder and projector, so the intervals do not include how much another training of the "
         "encoder would move the estimates. Several seeds of the same data (taupe run --data DIR --seeds 1..5, "
         "then taupe gather) measure that and give one verdict across the trainings.");
  if (s.ground_truth) {
    r.paragraph("Planted mechanism of the simulated world: " + s.ground_truth->world +
                ". Each experiment's conclusion is checked against it.");
    r.table(report::verdict_table(*s.ground_truth));
  } else {
    r.note("Real data: there is no planted mechanism to check the conclusions against.");
    const fs::path v = L.perturb() / perturb_artifacts::kVerdictsCsv;
    if (fs::exists(v)) {
      const CsvTable t = report::read_csv(v);
      report::Table tab;
      tab.caption = "Conclusions of the experiments.";
      tab.header = {"experiment", "conclusion"};
      for (std::size_t i = 0; i < t.size(); ++i) tab.add_row({t.at(i, "experiment"), t.at(i, "conclusion")});
      r.table(tab);
    }
  }
}

}  // namespace

void write_run_html(const fs::path& run_dir, const RunSummary& s, const ReportConfig& cfg) {
  const RunLayout L(run_dir);
  const fs::path results = L.perturb() / perturb_artifacts::kResultsJson;
  const ReportInputs in{run_dir, L, s, cfg, !s.world.has_value(),
                        fs::exists(results) ? read_json(results) : json::object(),
                        cfg.max_pcs > 0 ? cfg.max_pcs : 1 << 20};
  HtmlReport r("taupe report", report::subtitle_of(s));
  report::add_headline(r, s);
  run_section(r, in);
  data_section(r, in);
  models_section(r, in);
  switch_section(r, in);
  pc_shift_section(r, in);
  more_section(r, in);
  verdicts_section(r, in);
  r.write(L.report());
}

RunSummary write_run_report(const fs::path& run_dir, const ReportConfig& cfg, const json& manifest,
                            const std::map<std::string, double>& extra_timings) {
  RunSummary s = build_run_summary(run_dir, manifest, extra_timings);
  report::write_summary(RunLayout(run_dir).summary(), s);
  write_run_html(run_dir, s, cfg);
  return s;
}

}  // namespace taupe
