#pragma once
// Plain tracks tables in and out (any spot/track table with a column mapping: TrackMate,
// CellProfiler, ultrack ... `--columns id=TRACK_ID,t=FRAME,x=POSITION_X,y=POSITION_Y`):
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
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "taupe/dataset/csv.h"
#include "taupe/io/movie_import.h"

namespace taupe::io {

/// Which column gives each role (id, t, x, y, parent, fate): `names` from --columns
/// role=HEADER (exact header name, else case-insensitive); roles not named use the default
/// names above. Positions are divided by `units_per_pixel` (e.g. µm per pixel for a TrackMate
/// spots table, whose POSITION_X/Y are calibrated).
struct CsvColumns {
  std::map<std::string, std::string> names;
  double units_per_pixel = 1;
};
/// --columns id=TRACK_ID,t=FRAME,... -> CsvColumns; ConfigError on an unknown role.
CsvColumns parse_csv_columns(const std::vector<std::string>& items, double units_per_pixel = 1);

/// Parses a tracks table (comma-separated with RFC 4180 quoting, or space-delimited when the
/// first line has no comma; dataset/csv.h). Rows under the header whose id and t are not numbers
/// (TrackMate 7's three further header rows) are skipped before the first data row; rows with an
/// empty id (spots in no track) are skipped; track id 0 shifts every id by one. DataError
/// "<where>: line <n>: <rule>"; `notes` gets what was skipped or converted.
TrackSet parse_tracks_csv(const std::string& text, const std::string& where, const CsvColumns& cols = {},
                          std::vector<std::string>* notes = nullptr);
/// Parses a napari graph {"child": [parent] or parent}; DataError naming `where`.
std::map<std::int64_t, std::int64_t> parse_graph_json(const std::string& text, const std::string& where);

struct CsvImportOptions {
  std::filesystem::path tracks;     ///< tracks.csv (comma) or btrack export (space)
  CsvColumns columns;               ///< --columns / --units-per-pixel
  std::filesystem::path graph;      ///< optional graph.json
  std::filesystem::path fates;      ///< optional side table track_id,fate
  std::filesystem::path movie;      ///< (T, C, Y, X) TIFF; empty: tracks only (write_tracks_dataset)
  std::filesystem::path segmentation;   ///< optional (T, Y, X) label TIFF; else derived
  MovieImportOptions movie_opts;
};

IoSummary import_csv(const CsvImportOptions& opts, const std::filesystem::path& out_dir);

/// napari's tracks table of a track set: one row per point, columns ID, t, y, x, parent, fate,
/// label (point order of the set).
CsvTable napari_tracks_table(const TrackSet& ts);
/// napari's tracks graph {"child": [parent]} (roots left out).
nlohmann::json napari_graph(const TrackSet& ts);

/// taupe tracks container -> `<out>/tracks.csv` (ID,t,y,x,parent,fate,label) + `<out>/graph.json`.
IoSummary export_tracks_csv(const std::filesystem::path& tracks, const std::filesystem::path& out_dir,
                            bool overwrite = false);

}  // namespace taupe::io
