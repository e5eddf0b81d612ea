#pragma once
// `taupe export napari RUN`: a run's results on its cells, in files napari opens directly.
//
//   <out>/predictions.csv            the long table of `taupe predict` (movie, track_id, ... probability)
//   <out>/<movie>/tracks.csv         napari tracks table: ID, t, y, x, parent, fate, label, then per
//                                    track: p_mitosis, p_apoptosis, p_synthetic (mean over the models,
//                                    unrotated trajectory), held_out_by, delta_p_apoptosis_switch
//                                    (neighbour switch, mean over the switched copies), nuclear_pc_response
//                                    (apoptosis per sd of nuclear shrinkage); "nan" where not measured
//   <out>/<movie>/graph.json         napari tracks graph {"child": [parent]}
//   <out>/<movie>/image.ome.tif      (T, C, Y, X) uint16 with µm and seconds, when the movie was kept
//   <out>/<movie>/labels.ome.tif     (T, Y, X) uint16 instance labels relabelled to track ids
//   <out>/load_napari.py             numpy + tifffile: layers(<out>) -> napari layer-data tuples
//
// The run's movie is found next to its glimpse file (<dataset>/<movie>/movie.h5, as `taupe
// simulate --movies` and `taupe import` write it); without it only the tracks are exported.
#include <filesystem>
#include <string>

#include "taupe/io/common.h"

namespace taupe {

struct NapariExportOptions {
  std::filesystem::path run_dir;
  std::filesystem::path out_dir;   ///< empty: <run>/napari
  bool images = true;              ///< write image.ome.tif / labels.ome.tif when the movie exists
  bool overwrite = false;
  /// Largest movie (all frames and channels, uint16) converted in memory.
  std::int64_t max_movie_mb = 4096;
};

/// Where the export goes: out_dir, else <run>/napari.
std::filesystem::path napari_out_dir(const NapariExportOptions& options);

/// Writes the export; throws IoError / DataError naming the file and field.
io::IoSummary export_napari(const NapariExportOptions& options);

/// The Python module written as load_napari.py (also python/taupe/napari_layers.py).
const std::string& napari_loader_script();

}  // namespace taupe
