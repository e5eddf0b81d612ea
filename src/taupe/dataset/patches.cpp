#include "taupe/dataset/patches.h"

#include <algorithm>
#include <mutex>

#include "taupe/core/errors.h"
#include "taupe/dataset/detail.h"
#include "taupe/dataset/h5file.h"

namespace taupe {
namespace fs = std::filesystem;
namespace {

const h5::FormatTag kTag{"taupe.patches", 1};
constexpr hsize_t kG = kGlimpseSize;
constexpr hsize_t kC = kGlimpseChannels;
constexpr std::size_t kImage = kC * kG * kG;
constexpr hsize_t kChunkPatches = 16;  // 256 KiB of images per chunk

}  // namespace

struct PatchWriter::Impl {
  h5::AtomicFile file;
  H5::Group features_group;
  h5::RowAppender<std::uint16_t> images;
  h5::RowAppender<std::int8_t> types;
  std::map<std::string, std::unique_ptr<h5::RowAppender<float>>> features;
  bool features_fixed = false;

  explicit Impl(const fs::path& path)
      : file(path, kTag),
        features_group(h5::group(file.file(), "features")),
        images(file.file(), "images", {kC, kG, kG}, kChunkPatches, detail::kGzipLevel),
        types(file.file(), "types", {}, 4096, detail::kGzipLevel) {}
};

PatchWriter::PatchWriter(const fs::path& path) : impl_(std::make_unique<Impl>(path)) {}
PatchWriter::~PatchWriter() = default;

void PatchWriter::append(const PatchBatch& batch) {
  if (!impl_) throw DataError("PatchWriter: append() after close()");
  Impl& m = *impl_;
  const std::size_t n = batch.types.size();
  const std::string where = m.file.final_path().string() + ": patches [" + std::to_string(m.types.rows()) + ", " +
                            std::to_string(m.types.rows() + n) + ")";
  if (batch.images.size() != n * kImage)
    throw DataError(where + ": images has " + std::to_string(batch.images.size()) + " values, expected n*2*64*64 = " +
                    std::to_string(n * kImage) + " for n = " + std::to_string(n));
  std::vector<std::int8_t> codes(n);
  for (std::size_t i = 0; i < n; ++i) {
    codes[i] = static_cast<std::int8_t>(batch.types[i]);
    detail::cell_type_from_code(codes[i], where);
  }
  if (n == 0) return;
  for (const auto& [name, col] : batch.features) {
    detail::check_feature_name(name, where);
    if (col.size() != n)
      throw DataError(where + ": feature '" + name + "' has " + std::to_string(col.size()) + " values, expected " +
                      std::to_string(n));
  }
  if (m.features_fixed &&
      (batch.features.size() != m.features.size() ||
       !std::equal(batch.features.begin(), batch.features.end(), m.features.begin(),
                   [](const auto& a, const auto& b) { return a.first == b.first; })))
    throw DataError(where + ": feature columns differ from the first batch's");
  if (!m.features_fixed) {
    for (const auto& kv : batch.features)
      m.features.emplace(kv.first, std::make_unique<h5::RowAppender<float>>(m.features_group, kv.first,
                                                                              std::vector<hsize_t>{}, 4096,
                                                                              detail::kGzipLevel));
    m.features_fixed = true;
  }
  m.images.append(batch.images);
  m.types.append(codes);
  for (const auto& [name, col] : batch.features) m.features.at(name)->append(col);
}

void PatchWriter::close() {
  if (!impl_) return;
  Impl& m = *impl_;
  m.images.flush();
  m.types.flush();
  for (auto& kv : m.features) kv.second->flush();
  h5::write_attr(m.file.file(), "count", static_cast<std::int64_t>(m.types.rows()));
  m.file.commit();
  impl_.reset();
}

struct PatchReader::Impl {
  fs::path path;
  H5::H5File file;
  std::size_t size = 0;
  std::vector<std::string> feature_names;
  H5::DataSet images, types;
  std::vector<H5::DataSet> features;
  mutable std::mutex mu;
  explicit Impl(const fs::path& p) : path(p), file(h5::open(p, kTag)) {}
};

PatchReader::PatchReader(const fs::path& path) : impl_(std::make_unique<Impl>(path)) {
  Impl& m = *impl_;
  const auto dims = h5::check<std::uint16_t>(m.file, "images", {-1, static_cast<long long>(kC),
                                                               static_cast<long long>(kG), static_cast<long long>(kG)});
  const long long n = static_cast<long long>(dims[0]);
  h5::check<std::int8_t>(m.file, "types", {n});
  m.size = static_cast<std::size_t>(n);
  if (h5::exists(m.file, "features")) {
    const H5::Group fg = h5::open_group(m.file, "features");
    m.feature_names = h5::members(fg);
    for (const auto& name : m.feature_names) {
      h5::check<float>(fg, name, {n});
      m.features.push_back(h5::open_dataset(fg, name));
    }
  }
  m.images = h5::open_dataset(m.file, "images");
  m.types = h5::open_dataset(m.file, "types");
}

PatchReader::~PatchReader() = default;
std::size_t PatchReader::size() const { return impl_->size; }
std::vector<std::string> PatchReader::feature_names() const { return impl_->feature_names; }

void PatchReader::read_images(std::size_t first, std::size_t count, std::uint16_t* out) const {
  const Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  h5::read_rows_into<std::uint16_t>(m.images, first, count, out, count * kC * kG * kG);
}

std::size_t PatchReader::chunk_rows() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return static_cast<std::size_t>(h5::chunk_rows(impl_->images));
}

PatchBatch PatchReader::read(std::size_t first, std::size_t count) const {
  const Impl& m = *impl_;
  if (first > m.size || count > m.size - first)
    throw DataError(m.path.string() + ": patches [" + std::to_string(first) + ", " + std::to_string(first + count) +
                    ") out of range (file holds " + std::to_string(m.size) + ")");
  PatchBatch b;
  std::lock_guard<std::mutex> lock(m.mu);
  b.images = h5::read_rows<std::uint16_t>(m.images, first, count);
  const auto codes = h5::read_rows<std::int8_t>(m.types, first, count);
  b.types.resize(count);
  for (std::size_t i = 0; i < count; ++i)
    b.types[i] = detail::cell_type_from_code(
        codes[i], m.path.string() + ": dataset '/types' row " + std::to_string(first + i));
  for (std::size_t k = 0; k < m.feature_names.size(); ++k)
    b.features[m.feature_names[k]] = h5::read_rows<float>(m.features[k], first, count);
  return b;
}

}  // namespace taupe
