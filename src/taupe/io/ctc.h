#pragma once
// Cell Tracking Challenge (CTC) tracking results / ground truth in:
//   <tracks>             man_track.txt or res_track.txt: one line "L B E P" per track segment
//   <masks>/            man_trackTTT.tif / maskTTT.tif: uint16 labels, label value = track L
//   <raw>/ or movie     tTTT.tif raw frames (each (C, Y, X)), or one (T, C, Y, X) TIFF
//   <fates>             CSV "track_id,fate" (mitosis|apoptosis|...): CTC itself has no fates
// Checks (traccuracy's): L > 0 and unique; P = 0 or an existing track; parent E < child B;
// B <= E inside the movie; in every frame of [B, E] the mask contains label L; every label in
// a mask belongs to a track alive in that frame. A track with >= 2 children divided (mitosis)
// unless the fate table says otherwise (apoptosis for a dividing track is an error).
#include <filesystem>
#include <string>

#include "taupe/io/movie_import.h"

namespace taupe::io {

struct CtcImportOptions {
  std::filesystem::path tracks;    ///< man_track.txt / res_track.txt
  std::filesystem::path masks;     ///< mask folder (default: the folder of `tracks`)
  std::filesystem::path raw;       ///< folder of tTTT.tif raw frames, or a (T, C, Y, X) TIFF
  std::filesystem::path fates;     ///< optional side table track_id,fate
  MovieImportOptions movie;
};

IoSummary import_ctc(const CtcImportOptions& opts, const std::filesystem::path& out_dir);

/// Parses "L B E P" lines into tracks (no points); DataError "<file>: line <n>: <rule>".
TrackSet parse_ctc_tracks(const std::string& text, const std::string& where);
/// Parses a fate side table "track_id,fate" (header optional; ',' or whitespace separated).
std::map<std::int64_t, Fate> parse_fate_table(const std::string& text, const std::string& where);

}  // namespace taupe::io
