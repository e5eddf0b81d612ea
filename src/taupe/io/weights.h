#pragma once
// Language-neutral model weights: one HDF5 file ("taupe.weights" v1) with one float32 dataset
// per named tensor, grouped by source (`/encoder/<name>`, `/decoder/<name>`, `/pca/<name>`,
// `/temporal/fold_00/<name>`, ...). Tensor names keep LibTorch's dotted form
// ("blocks.0.conv.weight"); shapes are the tensors' shapes (0-d tensors are stored as (1,) with
// attribute `scalar` = 1). Each dataset has attribute `dtype` = the tensor's original dtype.
// A group may carry a JSON record as its string attribute `meta` (a fold's TCN architecture,
// max_len and typicality gate: what a reader needs besides the tensors to reproduce predictions).
// Reading needs only h5py + numpy (python/taupe/model.py loads a model set into PyTorch).
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

/// JSON text stored as the string attribute `meta` of `group`.
struct GroupMeta {
  std::string group;
  std::string json;
};

/// Writes all arrays (and the group records) atomically; DataError if a name is duplicated,
/// contains '/', or its value count does not match its shape, or a record names a group that
/// holds no array.
void write_weights_h5(const std::filesystem::path& path, const std::vector<NamedArray>& arrays,
                      const std::vector<GroupMeta>& meta = {});
/// Reads a file written by write_weights_h5 (sorted by group, then name).
std::vector<NamedArray> read_weights_h5(const std::filesystem::path& path);
/// The group records of such a file, sorted by group.
std::vector<GroupMeta> read_weights_meta(const std::filesystem::path& path);

}  // namespace taupe::io
