// PNG pictures written by `taupe simulate` (OpenCV drawing; a biologist's first look).
#include <algorithm>
#include <cmath>
#include <map>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/simulate/artifacts.h"
#include "taupe/simulate/render.h"
#include "taupe/simulate/simulate.h"

namespace taupe {
namespace fs = std::filesystem;

namespace {

void save_png(const fs::path& path, const cv::Mat& img) {
  std::vector<uchar> buf;
  if (!cv::imencode(".png", img, buf)) throw IoError(path.string() + ": PNG encoding failed");
  write_text_atomic(path, std::string(buf.begin(), buf.end()));
}

/// Green (GFP) / magenta (RFP) composite of (2, h, w) uint16 planes, per-channel 1-99.8 %.
cv::Mat composite(const std::uint16_t* img, int h, int w) {
  cv::Mat out(h, w, CV_8UC3);
  double lo[2], hi[2];
  for (int c = 0; c < 2; ++c) {
    std::vector<std::uint16_t> v(img + static_cast<std::size_t>(c) * h * w, img + static_cast<std::size_t>(c + 1) * h * w);
    std::sort(v.begin(), v.end());
    lo[c] = v[v.size() / 100];
    hi[c] = std::max(lo[c] + 1, static_cast<double>(v[std::min(v.size() - 1, v.size() * 998 / 1000)]));
  }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const double g = std::clamp((img[static_cast<std::size_t>(y) * w + x] - lo[0]) / (hi[0] - lo[0]), 0.0, 1.0);
      const double m = std::clamp((img[static_cast<std::size_t>(h) * w + static_cast<std::size_t>(y) * w + x] - lo[1]) / (hi[1] - lo[1]), 0.0, 1.0);
      out.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(255 * m), static_cast<uchar>(255 * g), static_cast<uchar>(255 * m));
    }
  return out;
}

struct Plot {
  cv::Mat img;
  double x0, x1, y0, y1;
  int L = 70, R = 20, T = 40, B = 50;
  Plot(const std::string& title, const std::string& xl, const std::string& yl, double ax0, double ax1, double ay0, double ay1)
      : img(360, 520, CV_8UC3, cv::Scalar(255, 255, 255)), x0(ax0), x1(ax1), y0(ay0), y1(ay1) {
    cv::rectangle(img, {L, T}, {img.cols - R, img.rows - B}, cv::Scalar(0, 0, 0), 1);
    cv::putText(img, title, {L, 25}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    cv::putText(img, xl, {L + 120, img.rows - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    cv::putText(img, yl, {5, T - 8}, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    for (int k = 0; k <= 4; ++k) {
      char b[32];
      std::snprintf(b, sizeof b, "%.3g", x0 + (x1 - x0) * k / 4);
      cv::putText(img, b, {px(x0 + (x1 - x0) * k / 4) - 12, img.rows - B + 16}, cv::FONT_HERSHEY_SIMPLEX, 0.38, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
      std::snprintf(b, sizeof b, "%.3g", y0 + (y1 - y0) * k / 4);
      cv::putText(img, b, {8, py(y0 + (y1 - y0) * k / 4) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.38, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
  }
  int px(double x) const { return L + static_cast<int>((x - x0) / (x1 - x0) * (img.cols - L - R)); }
  int py(double y) const { return img.rows - B - static_cast<int>((y - y0) / (y1 - y0) * (img.rows - T - B)); }
  void line(const std::vector<double>& xs, const std::vector<double>& ys, cv::Scalar col, const std::string& label, int row) {
    for (std::size_t i = 0; i + 1 < xs.size(); ++i)
      if (std::isfinite(ys[i]) && std::isfinite(ys[i + 1]))
        cv::line(img, {px(xs[i]), py(ys[i])}, {px(xs[i + 1]), py(ys[i + 1])}, col, 2, cv::LINE_AA);
    for (std::size_t i = 0; i < xs.size(); ++i)
      if (std::isfinite(ys[i])) cv::circle(img, {px(xs[i]), py(ys[i])}, 3, col, -1, cv::LINE_AA);
    cv::putText(img, label, {img.cols - R - 190, T + 18 + 16 * row}, cv::FONT_HERSHEY_SIMPLEX, 0.42, col, 1, cv::LINE_AA);
  }
};

/// Scrib apoptosis onsets per cell-hour, binned by `key`.
void rate_by(const std::vector<FovHistory>& fovs, double frame_h, int nb, double lo, double hi,
             const std::function<double(const CellSnap&)>& key, std::vector<double>& xs, std::vector<double>& rate) {
  std::vector<double> n(static_cast<std::size_t>(nb), 0), d(static_cast<std::size_t>(nb), 0);
  for (const auto& h : fovs) {
    std::map<std::int64_t, int> onset;
    for (const Track& t : h.tracks.tracks)
      if (t.type == CellType::kScrib && t.fate == Fate::kApoptosis && t.event_onset > 0) onset[t.id] = t.event_onset;
    for (std::size_t f = 0; f < h.frames.size(); ++f)
      for (const CellSnap& c : h.frames[f]) {
        if (c.type != CellType::kScrib || c.morph != Morph::kInterphase) continue;
        const int b = std::clamp(static_cast<int>((key(c) - lo) / (hi - lo) * nb), 0, nb - 1);
        n[static_cast<std::size_t>(b)] += frame_h;
        auto it = onset.find(c.track_id);
        if (it != onset.end() && it->second == static_cast<int>(f) + 1) d[static_cast<std::size_t>(b)] += 1;
      }
  }
  xs.clear();
  rate.clear();
  for (int b = 0; b < nb; ++b) {
    xs.push_back(lo + (hi - lo) * (b + 0.5) / nb);
    rate.push_back(n[static_cast<std::size_t>(b)] > 20 * frame_h ? d[static_cast<std::size_t>(b)] / n[static_cast<std::size_t>(b)] : NAN);
  }
}

/// A scrib apoptosis rate plot: onsets per cell-hour in `nb` bins of `key` over [lo, hi].
struct RatePlot {
  int bins;
  double lo, hi;
  std::function<double(const CellSnap&)> key;
  std::string title, xlabel;
  cv::Scalar colour;
};

void write_rate_plot(const fs::path& path, const std::vector<FovHistory>& fovs, double frame_h, const RatePlot& rp) {
  std::vector<double> xs, rate;
  rate_by(fovs, frame_h, rp.bins, rp.lo, rp.hi, rp.key, xs, rate);
  double ymax = 0.05;
  for (double v : rate) if (std::isfinite(v)) ymax = std::max(ymax, v * 1.1);
  Plot p(rp.title, rp.xlabel, "per h", rp.lo, rp.hi, 0, ymax);
  p.line(xs, rate, rp.colour, "scrib apoptosis / h", 0);
  save_png(path, p.img);
}

/// Scrib fraction and cell count (relative to frame 0) over time, at most ~60 time points.
void write_population_plot(const fs::path& path, const std::vector<FovHistory>& fovs, double frame_h,
                           const std::string& world) {
  const std::size_t T = fovs[0].frames.size();
  std::vector<double> hrs, frac, total;
  double n0 = 0;
  for (std::size_t t = 0; t < T; t += std::max<std::size_t>(1, T / 60)) {
    double s = 0, n = 0;
    for (const auto& h : fovs)
      for (const CellSnap& c : h.frames[t]) { n += 1; s += c.type == CellType::kScrib; }
    if (t == 0) n0 = n;
    hrs.push_back(t * frame_h);
    frac.push_back(n > 0 ? s / n : 0);
    total.push_back(n0 > 0 ? n / n0 : 0);
  }
  double ymax = 1.0;
  for (double v : total) ymax = std::max(ymax, v * 1.05);
  Plot p("population over time (" + world + " world)", "hours", "fraction", 0, std::max(1.0, T * frame_h), 0, ymax);
  p.line(hrs, frac, cv::Scalar(180, 0, 180), "scrib fraction", 0);
  p.line(hrs, total, cv::Scalar(0, 0, 0), "cells / cells at t=0", 1);
  save_png(path, p.img);
}

constexpr int kMontageZoom = 2, kMontageColumns = 16;

/// One montage row at `row`: the trajectory's frames, enlarged, the cutoff framed in yellow.
void draw_montage_row(cv::Mat& mont, const GlimpseTrajectory& tr, Fate fate, int row) {
  const int S = kGlimpseSize, Z = kMontageZoom;
  const int y0 = 20 + row * (S * Z + 24);
  cv::putText(mont, to_string(fate), {4, y0 + S}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  for (int k = 0; k < tr.num_frames(); ++k) {
    cv::Mat g = composite(tr.images.data() + static_cast<std::size_t>(k) * 2 * S * S, S, S), big;
    cv::resize(g, big, {S * Z, S * Z}, 0, 0, cv::INTER_NEAREST);
    const int x0 = 100 + k * (S * Z + 4);
    big.copyTo(mont(cv::Rect(x0, y0, S * Z, S * Z)));
    if (k == tr.cutoff) cv::rectangle(mont, {x0 - 2, y0 - 2}, {x0 + S * Z + 1, y0 + S * Z + 1}, cv::Scalar(0, 200, 255), 2);
    cv::putText(mont, "t" + std::to_string(tr.frames[static_cast<std::size_t>(k)]), {x0 + 2, y0 + S * Z + 14},
                cv::FONT_HERSHEY_SIMPLEX, 0.35, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
}

/// Montage: one mitotic and one apoptotic trajectory, last 8 frames up to the cutoff (cutoff
/// framed in yellow) and the frames after it (the event).
void write_glimpse_montage(const fs::path& path, const SimConfig& cfg, const ExtractConfig& ex,
                           const std::vector<FovHistory>& fovs) {
  const int S = kGlimpseSize, Z = kMontageZoom, cols = kMontageColumns;
  cv::Mat mont(2 * (S * Z + 24) + 10, cols * (S * Z + 4) + 110, CV_8UC3, cv::Scalar(255, 255, 255));
  int row = 0;
  for (Fate want : {Fate::kMitosis, Fate::kApoptosis}) {
    for (const auto& h : fovs) {
      const auto plans = plan_glimpses(h.tracks, ex);
      auto it = std::find_if(plans.begin(), plans.end(), [&](const GlimpsePlan& p) {
        return p.fate == want && p.cutoff - p.first >= 8 && p.last - p.cutoff >= 4;
      });
      if (it == plans.end()) continue;
      SceneRenderer r(h, cfg);
      GlimpsePlan p = *it;
      p.first = std::max(p.first, p.cutoff - 7);
      p.last = std::min(p.last, p.first + cols - 1);
      draw_montage_row(mont, extract_trajectory(r, h.tracks, p, 0, ""), want, row);
      break;
    }
    ++row;
  }
  save_png(path, mont);
}

}  // namespace

void write_pictures(const fs::path& dir, const SimConfig& cfg, const ExtractConfig& ex, const std::vector<FovHistory>& fovs,
                    SimulateResult& result) {
  (void)result;
  if (fovs.empty()) return;
  fs::create_directories(dir);
  SceneRenderer ren(fovs[0], cfg);
  // 1. One full frame.
  const int tmid = static_cast<int>(fovs[0].frames.size()) / 2;
  const MovieFrame f = ren.frame(tmid);
  save_png(dir / simulate_artifacts::kFramePng, composite(f.images.data(), ren.height(), ren.width()));
  // 2. Glimpse montage.
  write_glimpse_montage(dir / simulate_artifacts::kGlimpseMontagePng, cfg, ex, fovs);
  // 3. Ground truth plots.
  const double frame_h = cfg.frame_interval_min / 60.0;
  write_rate_plot(dir / simulate_artifacts::kApoptosisVsCompressionPng, fovs, frame_h,
                  {12, 0.0, 0.6, [](const CellSnap& c) { return static_cast<double>(c.compression); },
                   "scrib apoptosis rate vs compression (" + cfg.world + " world)", "compression", cv::Scalar(180, 0, 180)});
  write_rate_plot(dir / simulate_artifacts::kApoptosisVsWtContactPng, fovs, frame_h,
                  {9, -0.5, 8.5, [](const CellSnap& c) { return static_cast<double>(c.wt_neighbours); },
                   "scrib apoptosis rate vs WT neighbours (" + cfg.world + " world)", "WT neighbours in contact",
                   cv::Scalar(0, 140, 0)});
  write_population_plot(dir / simulate_artifacts::kPopulationPng, fovs, frame_h, cfg.world);
}

}  // namespace taupe
