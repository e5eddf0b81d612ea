// `taupe export <what>`: taupe containers back to the field's formats (src/taupe/io).
//   cellx    glimpses -> cellx-predict layout (data/<label>/*.tif + metadata/<label>/*.npz [+ masks/])
//   tracks   tracks container -> napari tracks.csv + graph.json
//   tiff     any glimpse container (e.g. perturbed) -> TIFF stacks with masks for napari/Fiji
//   weights  model directory -> one HDF5 file of named float32 arrays (pipeline/model_weights.h)
//   napari   run directory -> movie, track-id labels and tracks with per-track results (pipeline/napari_export.h)
#include <algorithm>
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/io/cellx.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/core/errors.h"
#include "taupe/io/export.h"
#include "taupe/pipeline/model_weights.h"
#include "taupe/pipeline/napari_export.h"

namespace taupe::cli {

void register_export(CLI::App& app) {
  auto* exp = app.add_subcommand("export", "export glimpses (cellx-predict layout, TIFF stacks), tracks (napari CSV), model weights or a run's results for napari");
  exp->require_subcommand(1);
  struct Args {
    std::filesystem::path in, out;
    bool overwrite = false;
    bool no_masks = false;
  };
  {
    auto* sub = exp->add_subcommand("cellx", "glimpses -> cellx-predict layout (TIFF (T, 2, 64, 64) + .npz with cutoff)");
    auto a = std::make_shared<Args>();
    sub->add_option("glimpses", a->in, "glimpse container (.h5)")->required();
    sub->add_option("-o,--out", a->out, "output folder (gets data/, metadata/, masks/)")->required();
    sub->add_flag("--no-masks", a->no_masks, "do not write masks/");
    sub->add_flag("--overwrite", a->overwrite, "write into an existing non-empty folder");
    set_action(sub, [a] {
      io::CellxExportOptions o;
      o.masks = !a->no_masks;
      o.overwrite = a->overwrite;
      std::cout << io::export_cellx(a->in, a->out, o).brief() << '\n';
    });
  }
  {
    auto* sub = exp->add_subcommand("tracks", "tracks container -> napari tracks.csv (ID,t,y,x,...) + graph.json");
    auto a = std::make_shared<Args>();
    sub->add_option("tracks", a->in, "tracks container (.h5)")->required();
    sub->add_option("-o,--out", a->out, "output folder")->required();
    sub->add_flag("--overwrite", a->overwrite, "replace existing files");
    set_action(sub, [a] { std::cout << io::export_tracks_csv(a->in, a->out, a->overwrite).brief() << '\n'; });
  }
  {
    auto* sub = exp->add_subcommand("tiff", "any glimpse container (e.g. perturbed) -> TIFF stacks + masks for napari/Fiji");
    auto a = std::make_shared<Args>();
    sub->add_option("glimpses", a->in, "glimpse container (.h5)")->required();
    sub->add_option("-o,--out", a->out, "output folder")->required();
    sub->add_flag("--overwrite", a->overwrite, "replace existing files");
    set_action(sub, [a] { std::cout << io::export_glimpse_tiffs(a->in, a->out, a->overwrite).brief() << '\n'; });
  }
  {
    auto* sub = exp->add_subcommand("weights", "model directory -> HDF5 of named float32 arrays (load with h5py; docs/import-export.md)");
    auto a = std::make_shared<Args>();
    sub->add_option("model", a->in, "model directory (encoder.pt, decoder.pt, pca.h5, temporal/)")->required();
    sub->add_option("-o,--out", a->out, "output .h5 file")->required();
    set_action(sub, [a] { std::cout << export_model_weights(a->in, a->out).brief() << '\n'; });
  }
  {
    auto* sub = exp->add_subcommand(
        "napari", "run directory -> napari layers: movie and track-id labels (OME-TIFF), tracks with per-track "
                  "predictions and perturbation effects, predictions.csv, load_napari.py");
    auto o = std::make_shared<NapariExportOptions>();
    auto no_images = std::make_shared<bool>(false);
    sub->add_option("run", o->run_dir, "run directory (after the encode, temporal and perturb stages)")->required();
    sub->add_option("-o,--out", o->out_dir, "output folder (default: RUN/napari)");
    sub->add_flag("--no-images", *no_images, "tracks and tables only (no image.ome.tif / labels.ome.tif)");
    sub->add_option("--max-movie-mb", o->max_movie_mb, "largest movie converted in memory")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
    sub->add_flag("--overwrite", o->overwrite, "replace an existing export");
    set_action(sub, [o, no_images] {
      NapariExportOptions opts = *o;
      opts.images = !*no_images;
      // The run directory's lock: the export reads the run (and by default writes inside it) while
      // no other taupe changes it. The output itself is replaced in one rename.
      const auto lock = lock_output(opts.run_dir);
      std::cout << export_napari(opts).brief() << '\n';
    });
  }
}

}  // namespace taupe::cli
