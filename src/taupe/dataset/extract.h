#pragma once
// Glimpse and patch extraction (`taupe extract`, `[extract]` in configs/*.toml).
//
// Works on any source of image windows: a movie container on disk (real or simulated data)
// or the simulator's renderer (simulate/render.h), so both paths share every geometric rule:
//  - a glimpse is 64 x 64 x 2, centred on the track point (x, y) with sub-pixel precision:
//    glimpse pixel (i, j) samples the image at (x + j - 31.5, y + i - 31.5) by bilinear
//    interpolation, so the cell centre lies at glimpse coordinate (31.5, 31.5);
//  - outside the image, images are REFLECT-padded (mirror about the edge pixel, "reflect-101")
//    and masks are ZERO-padded (background); mask pixels take the label of the nearest pixel;
//  - the cutoff is the last frame before the fate's morphology begins, minus `lead_frames`:
//    cutoff = event_onset - 1 - lead_frames (event_onset unknown: end - unknown_onset_frames);
//  - a trajectory keeps at most `max_frames_before_cutoff` frames up to and including the
//    cutoff, plus (optionally) every frame after the cutoff to the end of the track, so
//    montages can show the event; GlimpseTrajectory::cutoff indexes the cutoff frame.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "taupe/core/config.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/dataset/patches.h"
#include "taupe/dataset/tracks.h"
#include "taupe/dataset/types.h"

namespace taupe {

struct ExtractConfig {
  static constexpr const char* kSection = "extract";
  int max_frames_before_cutoff = 64;  ///< frames kept up to the cutoff (the TCN reads the last <= 128)
  int min_frames_before_cutoff = 8;   ///< shorter trajectories are skipped
  int lead_frames = 0;                ///< extra frames dropped between the cutoff and the event onset
  int unknown_onset_frames = 8;       ///< tracks without event_onset: onset = end - this + 1
  bool frames_after_cutoff = true;    ///< also keep the frames after the cutoff (event visible)
  std::string glimpse_types = "scrib";///< central cell types given trajectories: scrib | wt | both
  int patch_frame_stride = 10;        ///< patches are sampled every this many frames
  int patches_per_frame = 220;        ///< patches per sampled frame and movie
  /// Central cell types that patches are centred on: both (the reference: every segmented
  /// nucleus) | scrib | wt. "scrib" trains the encoder on the population the TCN predicts.
  std::string patch_types = "both";
  int frame_cache = 128;              ///< movie frames held in memory while extracting from a movie

  template <class V>
  void visit(V& v) {
    v("max_frames_before_cutoff", max_frames_before_cutoff, "glimpse frames kept up to and including the cutoff", in_range(1, 4096));
    v("min_frames_before_cutoff", min_frames_before_cutoff, "trajectories with fewer frames before the cutoff are skipped");
    v("lead_frames", lead_frames, "frames dropped between the cutoff and the event onset", at_least(0));
    v("unknown_onset_frames", unknown_onset_frames, "for tracks without event onset: onset = end - this + 1", at_least(1));
    v("frames_after_cutoff", frames_after_cutoff, "keep the frames after the cutoff (event visible, for montages)");
    v("glimpse_types", glimpse_types, "central cell types that get trajectories: scrib | wt | both", one_of({"scrib", "wt", "both"}));
    v("patch_frame_stride", patch_frame_stride, "sample encoder patches every this many frames", at_least(1));
    v("patches_per_frame", patches_per_frame, "patches per sampled frame and movie", at_least(0));
    v("patch_types", patch_types, "central cell types that patches are centred on: both | scrib | wt", one_of({"both", "scrib", "wt"}));
    v("frame_cache", frame_cache, "movie frames cached while extracting from a movie", at_least(1), speed_only);
  }
  void validate() const {
    check_fields(*this);
    check_range("extract.min_frames_before_cutoff", min_frames_before_cutoff, 1, max_frames_before_cutoff);
  }
};

/// A rectangle of one frame: images (2, h, w) uint16, labels (h, w) and label types.
struct ImageWindow {
  int x0 = 0, y0 = 0, w = 0, h = 0;
  std::vector<std::uint16_t> images;
  std::vector<std::uint32_t> labels;
  std::map<std::uint32_t, CellType> label_types;
};

/// Where windows come from: a movie file or the simulator's renderer.
class WindowSource {
 public:
  virtual ~WindowSource() = default;
  virtual int width() const = 0;
  virtual int height() const = 0;
  virtual double pixel_size_um() const = 0;
  /// Fills `out` with pixels [x0, x0 + w) x [y0, y0 + h) of frame t (the rectangle lies inside
  /// the image).
  virtual void window(int t, int x0, int y0, int w, int h, ImageWindow& out) = 0;
};

/// Movie-file source (frames cached, FIFO).
class MovieWindowSource : public WindowSource {
 public:
  MovieWindowSource(const std::filesystem::path& movie, int cache_frames = 128);
  ~MovieWindowSource() override;
  int width() const override;
  int height() const override;
  double pixel_size_um() const override;
  int frames() const;
  void window(int t, int x0, int y0, int w, int h, ImageWindow& out) override;
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One 64 x 64 x 2 crop: images (2, 64, 64), mask codes (64, 64), and the measured area of
/// the central instance in the crop (µm²; 0 if the label is absent).
struct GlimpseCrop {
  std::vector<std::uint16_t> images;
  std::vector<std::uint8_t> masks;
  double central_area_um2 = 0;
};
/// Crops around (cx, cy) (pixels) with the rules in the header comment. `central_label` marks
/// the central instance (0 = none).
GlimpseCrop crop_glimpse(WindowSource& src, int t, double cx, double cy, std::uint32_t central_label);

/// Which frames one trajectory uses.
struct GlimpsePlan {
  std::int64_t track_id = 0;
  std::int64_t lineage = 0;  ///< root track of track_id's lineage (parents followed to a root)
  Fate fate = Fate::kCensored;
  CellType type = CellType::kScrib;
  std::int32_t first = 0;    ///< first frame kept
  std::int32_t cutoff = 0;   ///< cutoff frame (absolute)
  std::int32_t last = 0;     ///< last frame kept
};
/// Plans one trajectory per track of the selected type(s) that ends in mitosis or apoptosis
/// and has at least `min_frames_before_cutoff` frames up to its cutoff. Sorted by track id.
std::vector<GlimpsePlan> plan_glimpses(const TrackSet& tracks, const ExtractConfig& cfg);

/// Per-frame extra features for a trajectory (e.g. simulator ground truth); called with
/// (track_id, frame) and returns name -> value. May be empty.
using FrameFeatures = std::function<std::map<std::string, float>(std::int64_t track_id, std::int32_t t)>;

/// Builds one trajectory: crops every planned frame. Feature "nuclear_area_um2" is the
/// central instance's mask area in the crop; `extra` adds more per-frame features.
GlimpseTrajectory extract_trajectory(WindowSource& src, const TrackSet& tracks, const GlimpsePlan& plan,
                                     std::int64_t id, const std::string& movie_name,
                                     const FrameFeatures& extra = {});

/// One encoder patch to cut.
struct PatchPlan {
  std::int32_t t = 0;
  std::int64_t track_id = 0;
  double x = 0, y = 0;
  std::uint32_t label = 0;
  CellType type = CellType::kUnknown;
};
/// Samples `patches_per_frame` cells (of the `patch_types`, without replacement) every
/// `patch_frame_stride` frames (starting at stride / 2). Deterministic in `seed`; sorted by t.
std::vector<PatchPlan> plan_patches(const TrackSet& tracks, const ExtractConfig& cfg, std::uint64_t seed);

/// Cuts the planned patches into a batch (feature "nuclear_area_um2" = central mask area;
/// `extra` adds more, keyed by (track_id, t)).
PatchBatch extract_patches(WindowSource& src, const std::vector<PatchPlan>& plans, const FrameFeatures& extra = {});

struct ExtractCounts {
  std::size_t trajectories = 0;
  std::size_t patches = 0;
  std::size_t mitosis = 0, apoptosis = 0;
};

/// `taupe extract` for one movie: glimpses (appended to `glimpses`, ids from `next_id`) and
/// patches (appended to `patches`); either writer may be null.
ExtractCounts extract_movie(const std::filesystem::path& movie, const std::filesystem::path& tracks,
                            const ExtractConfig& cfg, std::uint64_t seed, const std::string& movie_name,
                            GlimpseWriter* glimpses, PatchWriter* patches, std::int64_t& next_id);

/// One movie with its tracks and the name its trajectories are recorded under.
struct MovieWithTracks {
  std::filesystem::path movie, tracks;
  std::string name;
};

/// The <dir>/<name>/movie.h5 + tracks.h5 pairs under `dir` (`taupe simulate --movies`), sorted
/// by name. IoError when `dir` is not a directory or holds none.
std::vector<MovieWithTracks> find_movies_with_tracks(const std::filesystem::path& dir);

/// `taupe extract`: glimpses.h5 and patches.h5 in `out_dir` from every input (input i draws its
/// patches from derive_seed(seed, 0x9A7C0000 + i)). Returns the totals.
ExtractCounts extract_dataset(const std::vector<MovieWithTracks>& inputs, const ExtractConfig& cfg,
                              std::uint64_t seed, const std::filesystem::path& out_dir);

}  // namespace taupe
