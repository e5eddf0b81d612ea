#include "taupe/pipeline/model_weights.h"

#include <algorithm>
#include <string>
#include <vector>

#include <torch/serialize.h>

#include "taupe/core/errors.h"
#include "taupe/dataset/h5file.h"
#include "taupe/encoder/artifacts.h"
#include "taupe/io/weights.h"
#include "taupe/projector/model_dir.h"
#include "taupe/temporal/artifacts.h"

namespace fs = std::filesystem;

namespace taupe {
namespace {

struct Collected {
  std::vector<io::NamedArray> arrays;
  std::vector<io::GroupMeta> meta;
};

/// Every tensor of a LibTorch archive (parameters and buffers) as float32 arrays in `group`; a
/// JSON string entry "meta" (a fold file's record) becomes the group's record.
void add_archive(const fs::path& path, const std::string& group, Collected& out) {
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
    if (!ok || !t.defined()) {
      c10::IValue v;
      if (key == "meta" && ar.try_read(key, v) && v.isString()) out.meta.push_back({group, v.toStringRef()});
      continue;
    }
    io::NamedArray a;
    a.group = group;
    a.name = key;
    a.dtype = std::string(c10::toString(t.scalar_type()));
    a.shape.assign(t.sizes().begin(), t.sizes().end());
    const torch::Tensor f = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
    a.values.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
    out.arrays.push_back(std::move(a));
  }
}

/// The PCA's arrays (pca.h5 stores float64; exported as float32 with dtype "float64").
void add_pca(const fs::path& path, Collected& out) {
  H5::H5File f(path.string(), H5F_ACC_RDONLY);
  H5::Group root = f.openGroup("/");
  for (const char* name : {"mean", "components", "explained_variance", "explained_variance_ratio"}) {
    if (!h5::exists(root, name)) continue;
    std::vector<hsize_t> shape;
    io::NamedArray a;
    a.group = "pca";
    a.name = name;
    const std::vector<double> v = h5::read<double>(root, name, &shape);
    a.values.assign(v.begin(), v.end());
    a.dtype = "float64";
    a.shape.assign(shape.begin(), shape.end());
    out.arrays.push_back(std::move(a));
  }
}

}  // namespace

io::IoSummary export_model_weights(const fs::path& model_dir, const fs::path& out) {
  Collected c;
  if (fs::exists(encoder_artifacts::encoder_weights(model_dir))) add_archive(encoder_artifacts::encoder_weights(model_dir), "encoder", c);
  if (fs::exists(encoder_artifacts::decoder_weights(model_dir))) add_archive(encoder_artifacts::decoder_weights(model_dir), "decoder", c);
  if (fs::exists(model_files::pca(model_dir))) add_pca(model_files::pca(model_dir), c);
  for (int k = 0; fs::exists(temporal_artifacts::fold_weights(model_dir, k)); ++k)
    add_archive(temporal_artifacts::fold_weights(model_dir, k), "temporal/" + temporal_artifacts::fold_name(k), c);
  if (c.arrays.empty())
    throw IoError(model_dir.string() + ": no encoder.pt, decoder.pt, pca.h5 or temporal/fold_XX.pt to export");
  io::write_weights_h5(out, c.arrays, c.meta);
  io::IoSummary s;
  s.what = "export weights";
  s.outputs = {out};
  s.counts["tensors"] = c.arrays.size();
  s.counts["records"] = c.meta.size();
  return s;
}

}  // namespace taupe
