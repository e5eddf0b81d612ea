#pragma once
// TrackMate (Fiji) XML in (TrackMate v3-v7 files, parsed with pugixml):
//   <TrackMate version="...">
//     <Model spatialunits="micron" timeunits="sec">
//       <AllSpots nspots="N"><SpotsInFrame frame="F"><Spot ID="i" name=".." FRAME="F"
//                 POSITION_X=".." POSITION_Y=".." .../></SpotsInFrame>...</AllSpots>
//       <AllTracks><Track name=".." TRACK_ID="k"><Edge SPOT_SOURCE_ID="a" SPOT_TARGET_ID="b" .../>
//                 ...</Track>...</AllTracks>
//       <FilteredTracks><TrackID TRACK_ID="k"/>...</FilteredTracks>
//     </Model>
//     <Settings><ImageData width=".." height=".." nframes=".." pixelwidth=".." pixelheight=".."
//               timeinterval=".."/>...</Settings>
//   </TrackMate>
// A TrackMate track is a graph of spots; taupe cuts it at divisions: each chain of spots
// between divisions becomes one taupe track, the two (or more) chains after a division
// become children of the chain before it (parent links), and a chain that divides is a
// mitosis. Edges are oriented by FRAME; a spot with two predecessors (a merge) is refused.
// Only the tracks listed in FilteredTracks are read (all tracks when the element is absent).
// Positions are in `spatialunits`; they are divided by ImageData's pixelwidth / pixelheight
// (or by --xml-pixel-size) to give pixels. taupe track ids are 1, 2, ... in the order of TRACK_ID,
// then start frame, then first spot ID.
#include <cstdint>
#include <filesystem>
#include <string>

#include "taupe/io/movie_import.h"

namespace taupe::io {

struct TrackMateReadOptions {
  double pixel_size = 0;   ///< spatial units per pixel; 0: ImageData pixelwidth/pixelheight
};

struct TrackMateData {
  TrackSet tracks;
  std::string version;             ///< the TrackMate version attribute
  std::string spatial_units;       ///< Model spatialunits
  double pixel_width = 1, pixel_height = 1;   ///< spatial units per pixel used
  double frame_interval = 0;       ///< ImageData timeinterval (in timeunits; 0 if absent)
  std::string time_units;
  int width = 0, height = 0, frames = 0;      ///< ImageData (0 if absent)
  std::size_t trackmate_tracks = 0;           ///< TrackMate tracks read
  std::size_t divisions = 0;
  std::size_t spots_outside_tracks = 0;       ///< spots of no (filtered) track: not imported
};

/// Parses TrackMate XML text; DataError "<where>: <element path>: <rule>" (XML syntax errors
/// name the line).
TrackMateData parse_trackmate_xml(const std::string& text, const std::string& where,
                                  const TrackMateReadOptions& opts = {});

struct TrackMateImportOptions {
  std::filesystem::path xml;
  std::filesystem::path movie;          ///< (T, C, Y, X) TIFF; empty: tracks only
  std::filesystem::path segmentation;   ///< optional (T, Y, X) labels; else derived
  std::filesystem::path fates;          ///< optional CSV track_id,fate (taupe track ids)
  TrackMateReadOptions read;
  MovieImportOptions movie_opts;
};

IoSummary import_trackmate(const TrackMateImportOptions& opts, const std::filesystem::path& out_dir);

}  // namespace taupe::io
