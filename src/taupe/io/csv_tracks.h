#pragma once
// Plain tracks tables in and out:
//  - napari / btrack-examples `tracks.csv`: comma-separated with a header, columns ID, t, y, x
//    (any order, case-insensitive; `track_id`/`frame` accepted), optional z and any property
//    columns; `parent` (parent == ID or 0 = root) and `fate` are used when present;
//  - btrack's `export_CSV`: the same but space-delimited (`ID t x y z parent root state ...`);
//  - optional `graph.json` {"child": [parent]} (napari tracks graph) and a fate side table.
// Checks: header has ID, t, x, y; every row has the header's field count; numbers are finite;
// ID > 0 integer, t >= 0 integer; one row per (ID, t); parent/fate constant within a track;
// parents exist, end before their children start, no cycles. A track with >= 2 children
// is a mitosis unless a fate is given.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "taupe/io/movie_import.h"

namespace taupe::io {

/// Parses a tracks table; DataError "<where>: line <n>: <rule>".
TrackSet parse_tracks_csv(const std::string& text, const std::string& where);
/// Parses a napari graph {"child": [parent] or parent}; DataError naming `where`.
std::map<std::int64_t, std::int64_t> parse_graph_json(const std::string& text, const std::string& where);

struct CsvImportOptions {
  std::filesystem::path tracks;     ///< tracks.csv (comma) or btrack export (space)
  std::filesystem::path graph;      ///< optional graph.json
  std::filesystem::path fates;      ///< optional side table track_id,fate
  std::filesystem::path movie;      ///< (T, C, Y, X) TIFF; empty: tracks only (write_tracks_dataset)
  std::filesystem::path segmentation;   ///< optional (T, Y, X) label TIFF; else derived
  MovieImportOptions movie_opts;
};

IoSummary import_csv(const CsvImportOptions& opts, const std::filesystem::path& out_dir);

/// taupe tracks container -> `<out>/tracks.csv` (ID,t,y,x,parent,fate,label) + `<out>/graph.json`.
IoSummary export_tracks_csv(const std::filesystem::path& tracks, const std::filesystem::path& out_dir,
                            bool overwrite = false);

}  // namespace taupe::io
