#include "taupe/io/weights.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/h5file.h"

namespace fs = std::filesystem;

namespace taupe::io {
namespace {

const h5::FormatTag kTag{"taupe.weights", 1};

/// Opens (creating) the nested group "a/b/c" below `g`.
H5::Group nested(H5::Group& g, const std::string& path) {
  const auto slash = path.find('/');
  H5::Group child = h5::group(g, path.substr(0, slash));
  if (slash == std::string::npos || slash + 1 == path.size()) return child;
  return nested(child, path.substr(slash + 1));
}

}  // namespace

void write_weights_h5(const fs::path& path, const std::vector<NamedArray>& arrays, const std::vector<GroupMeta>& meta) {
  std::set<std::string> seen, groups;
  for (const auto& a : arrays) {
    const std::string full = a.group + "/" + a.name;
    if (a.name.empty() || a.name.find('/') != std::string::npos)
      throw DataError(path.string() + ": tensor '" + full + "': names must be non-empty and contain no '/'");
    if (!seen.insert(full).second) throw DataError(path.string() + ": tensor '" + full + "': duplicate name");
    groups.insert(a.group);
    std::size_t n = 1;
    for (auto d : a.shape) n *= static_cast<std::size_t>(d);
    if (n != a.values.size())
      throw DataError(path.string() + ": tensor '" + full + "': " + std::to_string(a.values.size()) +
                      " values do not fill its shape");
  }
  for (const auto& m : meta)
    if (m.group.empty() || !groups.count(m.group))
      throw DataError(path.string() + ": record for group '" + m.group + "': the group holds no tensor");
  write_atomic(path, [&](const fs::path& tmp) {
    H5::H5File f = h5::create(tmp, kTag);
    for (const auto& a : arrays) {
      H5::Group root = f.openGroup("/");
      H5::Group g = a.group.empty() ? root : nested(root, a.group);
      std::vector<hsize_t> shape(a.shape.begin(), a.shape.end());
      const bool scalar = shape.empty();
      if (scalar) shape = {1};
      h5::write<float>(g, a.name, a.values, shape, 0, 4);
      H5::DataSet ds = g.openDataSet(a.name);
      h5::write_attr(ds, "dtype", a.dtype);
      h5::write_attr(ds, "scalar", std::int64_t{scalar ? 1 : 0});
    }
    for (const auto& m : meta) {
      H5::Group g = f.openGroup("/" + m.group);
      h5::write_attr(g, "meta", m.json);
    }
  });
}

std::vector<NamedArray> read_weights_h5(const fs::path& path) {
  H5::H5File f = h5::open(path, kTag);
  std::vector<NamedArray> out;
  // Depth-first walk: datasets are tensors, groups are sources.
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    const std::string gp = stack.back();
    stack.pop_back();
    H5::Group g = f.openGroup(gp.empty() ? "/" : gp);
    for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
      const std::string name = g.getObjnameByIdx(i);
      const std::string child = gp + "/" + name;
      if (g.childObjType(name) == H5O_TYPE_GROUP) {
        stack.push_back(child);
        continue;
      }
      NamedArray a;
      a.group = gp.empty() ? "" : gp.substr(1);
      a.name = name;
      std::vector<hsize_t> shape;
      a.values = h5::read<float>(g, name, &shape);
      H5::DataSet ds = g.openDataSet(name);
      a.dtype = h5::read_attr_string(ds, "dtype");
      if (h5::read_attr_int(ds, "scalar") == 0) a.shape.assign(shape.begin(), shape.end());
      out.push_back(std::move(a));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const NamedArray& a, const NamedArray& b) { return a.group != b.group ? a.group < b.group : a.name < b.name; });
  return out;
}

std::vector<GroupMeta> read_weights_meta(const fs::path& path) {
  H5::H5File f = h5::open(path, kTag);
  std::vector<GroupMeta> out;
  std::vector<std::string> stack{""};  // group paths, depth first; no dataset is read
  while (!stack.empty()) {
    const std::string gp = stack.back();
    stack.pop_back();
    H5::Group g = f.openGroup(gp.empty() ? "/" : gp);
    if (!gp.empty() && g.attrExists("meta")) out.push_back({gp.substr(1), h5::read_attr_string(g, "meta")});
    for (hsize_t i = 0; i < g.getNumObjs(); ++i) {
      const std::string name = g.getObjnameByIdx(i);
      if (g.childObjType(name) == H5O_TYPE_GROUP) stack.push_back(gp + "/" + name);
    }
  }
  std::sort(out.begin(), out.end(), [](const GroupMeta& a, const GroupMeta& b) { return a.group < b.group; });
  return out;
}

}  // namespace taupe::io
