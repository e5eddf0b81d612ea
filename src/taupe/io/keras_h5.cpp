#include "taupe/io/keras_h5.h"

#include <H5Cpp.h>

#include "taupe/core/errors.h"
#include "taupe/dataset/h5file.h"
#include "taupe/dataset/input_file.h"

namespace fs = std::filesystem;

namespace taupe::io {

std::string KerasWeight::variable() const {
  std::string v = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
  const auto colon = v.rfind(':');
  return colon == std::string::npos ? v : v.substr(0, colon);
}

std::string KerasWeight::path() const { return layer + "/" + name; }

namespace {

KerasWeight read_weight(const H5::Group& layer_group, const std::string& layer, const std::string& name,
                        const std::string& file) {
  if (!h5::exists(layer_group, name))
    throw DataError(file + ": layer '" + layer + "': weight '" + name + "' is listed in weight_names but missing");
  const H5::DataSet ds = h5::open_dataset(layer_group, name);
  const H5T_class_t cls = ds.getDataType().getClass();
  if (cls != H5T_FLOAT && cls != H5T_INTEGER && cls != H5T_ENUM)
    throw DataError(file + ": layer '" + layer + "': weight '" + name + "' is not numeric");
  KerasWeight w;
  w.layer = layer;
  w.name = name;
  const H5::DataSpace space = ds.getSpace();
  std::vector<hsize_t> dims(static_cast<std::size_t>(space.getSimpleExtentNdims()));
  space.getSimpleExtentDims(dims.data());
  std::size_t n = 1;
  for (hsize_t d : dims) {
    w.shape.push_back(static_cast<std::int64_t>(d));
    n *= static_cast<std::size_t>(d);
  }
  w.values.resize(n);
  if (cls == H5T_ENUM) {  // h5py's bool: an int8 enum {FALSE, TRUE}
    std::vector<std::int8_t> b(n);
    ds.read(b.data(), H5::PredType::NATIVE_INT8);
    for (std::size_t i = 0; i < n; ++i) w.values[i] = b[i] ? 1.f : 0.f;
  } else if (n > 0) {
    ds.read(w.values.data(), H5::PredType::NATIVE_FLOAT);
  }
  return w;
}

}  // namespace

std::vector<KerasWeight> read_keras_weights(const fs::path& path) {
  h5::quiet();
  check_input_file(path, InputFormat::kHdf5, "Keras HDF5 weight file");
  const std::string file = path.string();
  try {
    H5::H5File f(file, H5F_ACC_RDONLY);
    H5::Group root = f.openGroup("/");
    if (h5::exists(root, "model_weights")) root = root.openGroup("model_weights");
    if (!h5::has_attr(root, "layer_names"))
      throw DataError(file + ": attribute 'layer_names' is missing: not a Keras weight file (model.save_weights)");
    std::vector<KerasWeight> out;
    for (const std::string& layer : h5::read_attr_strings(root, "layer_names")) {
      if (!h5::exists(root, layer))
        throw DataError(file + ": layer '" + layer + "' is listed in layer_names but has no group");
      const H5::Group g = root.openGroup(layer);
      if (!h5::has_attr(g, "weight_names"))
        throw DataError(file + ": layer '" + layer + "': attribute 'weight_names' is missing");
      for (const std::string& name : h5::read_attr_strings(g, "weight_names"))
        out.push_back(read_weight(g, layer, name, file));
    }
    return out;
  } catch (const H5::Exception& e) {
    throw IoError(file + ": cannot read the Keras weight file: " + e.getDetailMsg());
  }
}

}  // namespace taupe::io
