// `taupe export <what>`: taupe containers back to the field's formats (src/taupe/io).
//   cellx    glimpses -> cellx-predict layout (data/<label>/*.tif + metadata/<label>/*.npz [+ masks/])
//   tracks   tracks container -> napari tracks.csv + graph.json
//   tiff     any glimpse container (e.g. perturbed) -> TIFF stacks with masks for napari/Fiji
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/io/cellx.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/io/export.h"

namespace taupe::cli {

void register_export(CLI::App& app) {
  auto* exp = app.add_subcommand("export", "export glimpses (cellx-predict layout, TIFF stacks) or tracks (napari CSV)");
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
    sub->add_option("--out", a->out, "output folder (gets data/, metadata/, masks/)")->required();
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
    sub->add_option("--out", a->out, "output folder")->required();
    sub->add_flag("--overwrite", a->overwrite, "replace existing files");
    set_action(sub, [a] { std::cout << io::export_tracks_csv(a->in, a->out, a->overwrite).brief() << '\n'; });
  }
  {
    auto* sub = exp->add_subcommand("tiff", "any glimpse container (e.g. perturbed) -> TIFF stacks + masks for napari/Fiji");
    auto a = std::make_shared<Args>();
    sub->add_option("glimpses", a->in, "glimpse container (.h5)")->required();
    sub->add_option("--out", a->out, "output folder")->required();
    sub->add_flag("--overwrite", a->overwrite, "replace existing files");
    set_action(sub, [a] { std::cout << io::export_glimpse_tiffs(a->in, a->out, a->overwrite).brief() << '\n'; });
  }
}

}  // namespace taupe::cli
