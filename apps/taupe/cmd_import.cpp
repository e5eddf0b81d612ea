// `taupe import <format>`: brings the field's formats into taupe containers (src/taupe/io).
//   cellx   cellx-predict glimpses (data/<label>/*.tif + metadata/<label>/*.npz) -> glimpses.h5
//   btrack  btrack HDF5 + movie TIFF (+ segmentation)        -> <out>/<name>/{movie,tracks}.h5
//   ctc     Cell Tracking Challenge tracks + masks + raw     -> <out>/<name>/{movie,tracks}.h5
//   csv     napari/btrack/TrackMate/any CSV tracks (+ movie)  -> <out>/<name>/{movie,tracks}.h5
//   trackmate TrackMate XML (+ movie)                         -> <out>/<name>/{movie,tracks}.h5
//   keras-weights  the reference implementation's weights     -> a taupe model directory
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/io/btrack.h"
#include "taupe/io/cellx.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/io/ctc.h"
#include "taupe/io/movie_import.h"
#include "taupe/io/trackmate.h"
#include "taupe/pipeline/keras_import.h"

namespace taupe::cli {
namespace {

void add_movie_options(CLI::App* sub, io::MovieImportOptions& m) {
  sub->add_option("--channels", m.channels, "which input channel is GFP (WT) and which RFP (scrib), e.g. gfp=0,rfp=1")
      ->delimiter(',');
  sub->add_option("--pixel-size", m.pixel_size_um, "µm per pixel (default: TIFF metadata, else " + config_value_text(io::kFallbackPixelSizeUm) + ")");
  sub->add_option("--frame-interval", m.frame_interval_min, "minutes between frames (default: TIFF metadata, else 4)");
  sub->add_option("--type-ratio", m.type_ratio, "cell-type rule: WT if GFP > ratio*RFP, scrib if RFP > ratio*GFP")
      ->capture_default_str();
  sub->add_option("--name", m.name, "output sub-folder name (default: from the input file)");
  sub->add_flag("--overwrite", m.overwrite, "replace existing outputs");
}

/// --movie (optional: tracks alone are imported without it) and --segmentation.
void add_movie_files(CLI::App* sub, std::filesystem::path& movie, std::filesystem::path& segmentation,
                     const std::string& segmentation_default) {
  sub->add_option("--movie", movie,
                  "movie TIFF with axes (T, C, Y, X) (default: tracks only; `taupe extract` joins a movie later)");
  sub->add_option("--segmentation", segmentation, "label TIFF (T, Y, X) (default: " + segmentation_default + ")");
}

void report(const io::IoSummary& s) { std::cout << s.brief() << '\n'; }

void add_cellx(CLI::App* imp) {
  auto* sub = imp->add_subcommand("cellx", "cellx-predict glimpses: data/<label>/*.tif + metadata/<label>/*.npz -> glimpses.h5");
  struct Args {
    std::filesystem::path root, out;
    std::vector<std::string> label_map;
    io::CellxImportOptions opts;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("root", a->root, "folder holding data/ and metadata/ (or training/glimpses/)")->required();
  sub->add_option("-o,--out", a->out, "output glimpse container (e.g. DIR/glimpses.h5)")->required();
  sub->add_option("--label-map", a->label_map, "map a folder name to a fate, e.g. dividing=mitosis")->delimiter(',');
  sub->add_option("--masks", a->opts.masks, "auto (masks/ if present, else derive) | derive | none")->capture_default_str();
  sub->add_option("--type-ratio", a->opts.segment.type_ratio, "cell-type channel-ratio threshold")->capture_default_str();
  sub->add_option("--frame-interval", a->opts.frame_interval_min, "minutes between frames")->capture_default_str();
  sub->add_flag("--overwrite", a->opts.overwrite, "replace an existing output");
  set_action(sub, [a] {
    a->opts.label_map = io::parse_label_map(a->label_map);
    report(io::import_cellx(a->root, a->out, a->opts));
  });
}

void add_btrack(CLI::App* imp) {
  auto* sub = imp->add_subcommand("btrack", "btrack HDF5 tracks (0.4.x / 0.6.x) + movie TIFF (T, C, Y, X)");
  struct Args {
    io::BtrackImportOptions opts;
    std::filesystem::path out;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("file", a->opts.file, "btrack .h5 file")->required();
  add_movie_files(sub, a->opts.movie, a->opts.segmentation, "the file's segmentation/images, else derived");
  sub->add_option("--object-type", a->opts.read.object_type, "obj_type_N group (default: the only one)");
  sub->add_flag("--swap-xy", a->opts.read.swap_xy, "swap x and y once more than the version attribute implies");
  sub->add_option("-o,--out", a->out, "output dataset folder")->required();
  add_movie_options(sub, a->opts.movie_opts);
  set_action(sub, [a] { report(io::import_btrack(a->opts, a->out)); });
}

void add_ctc(CLI::App* imp) {
  auto* sub = imp->add_subcommand("ctc", "Cell Tracking Challenge: man_track.txt/res_track.txt + masks + raw frames");
  struct Args {
    io::CtcImportOptions opts;
    std::filesystem::path out;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("tracks", a->opts.tracks, "man_track.txt or res_track.txt")->required();
  sub->add_option("--masks", a->opts.masks, "folder of man_trackTTT.tif / maskTTT.tif (default: folder of the tracks file)");
  sub->add_option("--raw", a->opts.raw, "folder of tTTT.tif raw frames (C, Y, X) or one (T, C, Y, X) TIFF")->required();
  sub->add_option("--fates", a->opts.fates, "CSV track_id,fate (mitosis|apoptosis); divisions are found from the lineage");
  sub->add_option("-o,--out", a->out, "output dataset folder")->required();
  add_movie_options(sub, a->opts.movie);
  set_action(sub, [a] { report(io::import_ctc(a->opts, a->out)); });
}

void add_csv(CLI::App* imp) {
  auto* sub = imp->add_subcommand("csv", "napari/btrack CSV tracks (ID,t,y,x + properties) + movie TIFF");
  struct Args {
    io::CsvImportOptions opts;
    std::filesystem::path out;
    std::vector<std::string> columns;
    double units_per_pixel = 1;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("tracks", a->opts.tracks, "tracks.csv (comma) or btrack CSV export (space-delimited)")->required();
  add_movie_files(sub, a->opts.movie, a->opts.segmentation, "derived");
  sub->add_option("--graph", a->opts.graph, "napari graph.json {child: [parent]}");
  sub->add_option("--columns", a->columns,
                  "which header gives each role, e.g. id=TRACK_ID,t=FRAME,x=POSITION_X,y=POSITION_Y (roles: id, t, x, "
                  "y, parent, fate)")
      ->delimiter(',');
  sub->add_option("--units-per-pixel", a->units_per_pixel,
                  "x and y are divided by this (e.g. µm per pixel for a TrackMate spots table)")
      ->capture_default_str();
  sub->add_option("--fates", a->opts.fates, "CSV track_id,fate");
  sub->add_option("-o,--out", a->out, "output dataset folder")->required();
  add_movie_options(sub, a->opts.movie_opts);
  set_action(sub, [a] {
    a->opts.columns = io::parse_csv_columns(a->columns, a->units_per_pixel);
    report(io::import_csv(a->opts, a->out));
  });
}

void add_trackmate(CLI::App* imp) {
  auto* sub = imp->add_subcommand("trackmate", "TrackMate XML (spots, edges, tracks; divisions become parent links)");
  struct Args {
    io::TrackMateImportOptions opts;
    std::filesystem::path out;
  };
  auto a = std::make_shared<Args>();
  sub->add_option("xml", a->opts.xml, "TrackMate .xml file")->required();
  add_movie_files(sub, a->opts.movie, a->opts.segmentation, "derived");
  sub->add_option("--fates", a->opts.fates, "CSV track_id,fate (taupe track ids, as `import` prints them)");
  sub->add_option("--xml-pixel-size", a->opts.read.pixel_size,
                  "spatial units per pixel of the XML's positions (default: its ImageData pixelwidth)");
  sub->add_option("-o,--out", a->out, "output dataset folder")->required();
  add_movie_options(sub, a->opts.movie_opts);
  set_action(sub, [a] { report(io::import_trackmate(a->opts, a->out)); });
}

void add_keras_weights(CLI::App* imp) {
  auto* sub = imp->add_subcommand(
      "keras-weights", "the reference implementation's Keras weights (encoder_weights.h5, decoder_weights.h5, "
                       "temporal_weights.h5, projector_components.npz) -> a taupe model directory");
  auto o = std::make_shared<KerasImportOptions>();
  sub->add_option("dir", o->dir, "folder holding the four reference files")->required()->check(CLI::ExistingDirectory);
  sub->add_option("-m,--model-dir", o->model_dir, "model directory to write")->required();
  sub->add_option("--class-order", o->class_order,
                  "class of each output of the reference's last layer, in order (its data folders' os.listdir order)")
      ->delimiter(',')
      ->expected(3)
      ->capture_default_str();
  sub->add_option("--patches", o->patches,
                  "patch container to measure the PCs' variance on (needed for shifts in sd units)");
  sub->add_flag("--overwrite", o->overwrite, "replace an existing model directory");
  set_action(sub, [o] { report(import_keras_weights(*o)); });
}

}  // namespace

void register_import(CLI::App& app) {
  auto* imp = app.add_subcommand("import", "import cellx-predict glimpses, btrack HDF5, Cell Tracking Challenge, CSV or TrackMate tracks, or the reference's Keras weights");
  imp->require_subcommand(1);
  add_cellx(imp);
  add_btrack(imp);
  add_ctc(imp);
  add_csv(imp);
  add_trackmate(imp);
  add_keras_weights(imp);
}

}  // namespace taupe::cli
