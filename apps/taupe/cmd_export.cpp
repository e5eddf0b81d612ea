// `taupe export <what>`: taupe containers back to the field's formats (src/taupe/io).
//   cellx    glimpses -> cellx-predict layout (data/<label>/*.tif + metadata/<label>/*.npz [+ masks/])
//   tracks   tracks container -> napari tracks.csv + graph.json
//   tiff     any glimpse container (e.g. perturbed) -> TIFF stacks with masks for napari/Fiji
//   weights  model directory -> one HDF5 file of named float32 arrays (io/weights.h)
//   napari   run directory -> movie, track-id labels and tracks with per-track results (pipeline/napari_export.h)
#include <torch/serialize.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cli.h"
#include "commands.h"
#include "taupe/io/cellx.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/h5file.h"
#include "taupe/io/export.h"
#include "taupe/io/weights.h"
#include "taupe/pipeline/napari_export.h"

namespace taupe::cli {
namespace {

/// Every tensor of a LibTorch archive (parameters and buffers; non-tensor entries such as a
/// JSON "meta" string are skipped) as float32 arrays in `group`.
void add_archive(const std::filesystem::path& path, const std::string& group, std::vector<io::NamedArray>& out) {
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path.string());
  } catch (const c10::Error& e) {
    throw ModelError(path.string() + ": not a readable LibTorch archive (" + std::string(e.what_without_backtrace()) + ")");
  }
  std::vector<std::string> keys = ar.keys();
  std::sort(keys.begin(), keys.end());
  for (const auto& key : keys) {
    torch::Tensor t;
    bool ok = false;
    try {
      ok = ar.try_read(key, t, /*is_buffer=*/false) || ar.try_read(key, t, /*is_buffer=*/true);
    } catch (const c10::Error&) {
      ok = false;
    }
    if (!ok || !t.defined()) continue;
    io::NamedArray a;
    a.group = group;
    a.name = key;
    a.dtype = std::string(c10::toString(t.scalar_type()));
    a.shape.assign(t.sizes().begin(), t.sizes().end());
    const torch::Tensor f = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
    a.values.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    out.push_back(std::move(a));
  }
}

io::IoSummary export_weights(const std::filesystem::path& model_dir, const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  std::vector<io::NamedArray> arrays;
  for (const char* part : {"encoder", "decoder"})
    if (fs::exists(model_dir / (std::string(part) + ".pt"))) add_archive(model_dir / (std::string(part) + ".pt"), part, arrays);
  if (fs::exists(model_dir / "pca.h5")) {
    H5::H5File f((model_dir / "pca.h5").string(), H5F_ACC_RDONLY);
    H5::Group root = f.openGroup("/");
    for (const char* name : {"mean", "components", "explained_variance", "explained_variance_ratio"}) {
      if (!h5::exists(root, name)) continue;
      std::vector<hsize_t> shape;
      io::NamedArray a;
      a.group = "pca";
      a.name = name;
      const std::vector<double> v = h5::read<double>(root, name, &shape);   // pca.h5 stores float64
      a.values.assign(v.begin(), v.end());
      a.dtype = "float64";
      a.shape.assign(shape.begin(), shape.end());
      arrays.push_back(std::move(a));
    }
  }
  if (fs::is_directory(model_dir / "temporal"))
    for (const auto& e : fs::directory_iterator(model_dir / "temporal"))
      if (e.path().extension() == ".pt") add_archive(e.path(), "temporal/" + e.path().stem().string(), arrays);
  if (arrays.empty()) throw IoError(model_dir.string() + ": no encoder.pt, decoder.pt, pca.h5 or temporal/*.pt to export");
  io::write_weights_h5(out, arrays);
  io::IoSummary s;
  s.what = "export weights";
  s.outputs = {out};
  s.counts["tensors"] = arrays.size();
  return s;
}

}  // namespace

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
    set_action(sub, [a] { std::cout << export_weights(a->in, a->out).brief() << '\n'; });
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
