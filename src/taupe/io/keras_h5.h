#pragma once
// Keras 2 HDF5 weight files (`model.save_weights("x.h5")`, or the `model_weights` group of a
// whole-model `model.save("x.h5")`): the root (or `model_weights`) attribute `layer_names` lists
// the layers in order; each layer's group lists its variables in attribute `weight_names`
// ("<scope>/.../kernel:0"), stored as datasets at `<layer>/<weight name>`. Layouts stay Keras'
// own: Conv2D kernels (kh, kw, in, out), Conv1D (k, in, out), Dense (in, out).
//
//   for (const KerasWeight& w : read_keras_weights("encoder_weights.h5")) ... w.layer, w.name, w.shape
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taupe::io {

struct KerasWeight {
  std::string layer;                 ///< entry of `layer_names`
  std::string name;                  ///< entry of the layer's `weight_names`, e.g. "z_mean/kernel:0"
  std::vector<std::int64_t> shape;   ///< Keras layout; empty = scalar
  std::vector<float> values;         ///< C order, converted to float32 (bool/int flags too)

  /// The variable's own name: the last path component without ":0" ("kernel", "gamma", "g").
  std::string variable() const;
  /// layer + "/" + name, for messages and name matching.
  std::string path() const;
};

/// Every weight in file order (layers as listed, weights as listed per layer). IoError when the
/// file is missing or not HDF5 (with check_input_file's reason); DataError naming the file and
/// the attribute or dataset when the Keras layout is broken (no `layer_names`, a listed group or
/// dataset missing, a non-numeric dataset).
std::vector<KerasWeight> read_keras_weights(const std::filesystem::path& path);

}  // namespace taupe::io
