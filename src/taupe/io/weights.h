#pragma once
// Language-neutral model weights: one HDF5 file ("taupe.weights" v1) with one float32 dataset
// per named tensor, grouped by source (`/encoder/<name>`, `/decoder/<name>`, `/pca/<name>`,
// `/temporal/fold_00/<name>`, ...). Tensor names keep LibTorch's dotted form
// ("blocks.0.conv.weight"); shapes are the tensors' shapes (0-d tensors are stored as (1,) with
// attribute `scalar` = 1). Each dataset has attribute `dtype` = the tensor's original dtype.
// Reading needs only h5py + numpy (see docs/import-export.md for a PyTorch snippet).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taupe::io {

struct NamedArray {
  std::string group;                 ///< "encoder", "temporal/fold_00", ...
  std::string name;                  ///< tensor name, no '/'
  std::vector<std::int64_t> shape;   ///< empty = scalar
  std::vector<float> values;         ///< prod(shape) values, C order
  std::string dtype = "float32";     ///< original dtype
};

/// Writes all arrays atomically; DataError if a name is duplicated, contains '/', or its
/// value count does not match its shape.
void write_weights_h5(const std::filesystem::path& path, const std::vector<NamedArray>& arrays);
/// Reads a file written by write_weights_h5 (sorted by group, then name).
std::vector<NamedArray> read_weights_h5(const std::filesystem::path& path);

}  // namespace taupe::io
