#pragma once
// Glimpse container ("taupe.glimpses" v1): per trajectory the (T, 2, 64, 64) images, the
// (T, 64, 64) masks (mask codes in types.h), the cutoff, the fate and source ids. Frames of
// all trajectories are concatenated along axis 0 (ragged layout with an offsets table) so the
// reader can stream one trajectory at a time. See docs/formats.md.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "taupe/dataset/types.h"

namespace taupe {

struct GlimpseTrajectory {
  std::int64_t id = 0;               ///< unique within the file
  Fate fate = Fate::kCensored;       ///< kMitosis or kApoptosis for labelled trajectories
  CellType central_type = CellType::kScrib;
  std::int32_t cutoff = 0;           ///< index (into this trajectory's frames) of the last frame to use
  std::string movie;                 ///< source movie / field of view name
  std::int64_t track_id = 0;         ///< source track
  /// Root track of the source track's lineage (sister and mother cells share it); the unit of
  /// grouping for cross-validation folds and the bootstrap. Files without it: the track itself.
  std::int64_t lineage = 0;
  std::vector<std::int32_t> frames;  ///< (T,) source frame number of each glimpse frame
  std::vector<std::uint16_t> images; ///< (T, 2, 64, 64)
  std::vector<std::uint8_t> masks;   ///< (T, 64, 64) mask codes
  /// Optional per-frame ground truth / measurements (each (T,)), e.g. "nuclear_area_um2",
  /// "compression", "local_density", "wt_neighbours", "scrib_neighbours", "hazard_apoptosis".
  std::map<std::string, std::vector<float>> features;

  int num_frames() const { return static_cast<int>(frames.size()); }
};

/// Per-trajectory metadata without pixels (cheap to hold for a whole dataset).
struct GlimpseInfo {
  std::int64_t id = 0;
  Fate fate = Fate::kCensored;
  CellType central_type = CellType::kScrib;
  std::int32_t cutoff = 0;
  std::int32_t num_frames = 0;
  std::string movie;
  std::int64_t track_id = 0;
  std::int64_t lineage = 0;          ///< see GlimpseTrajectory::lineage
};

/// Dataset-level attributes.
struct GlimpseFileInfo {
  std::string world;            ///< planted mechanism for simulated data ("" for real data)
  std::int64_t seed = -1;       ///< simulation seed (-1 for real data)
  std::string source;           ///< provenance
  double frame_interval_min = 4.0;
};

class GlimpseWriter {
 public:
  GlimpseWriter(const std::filesystem::path& path, const GlimpseFileInfo& info);
  ~GlimpseWriter();
  void append(const GlimpseTrajectory& tr);  ///< validates shapes; throws DataError
  void close();                              ///< atomic: file appears only now
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class GlimpseReader {
 public:
  explicit GlimpseReader(const std::filesystem::path& path);
  ~GlimpseReader();
  const GlimpseFileInfo& file_info() const;
  std::size_t size() const;
  const std::vector<GlimpseInfo>& infos() const;
  GlimpseTrajectory read(std::size_t index) const;   ///< streams one trajectory
  std::vector<std::string> feature_names() const;
  const std::filesystem::path& path() const;
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace taupe
