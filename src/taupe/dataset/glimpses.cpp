#include "taupe/dataset/glimpses.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "taupe/core/errors.h"
#include "taupe/dataset/detail.h"
#include "taupe/dataset/h5file.h"

namespace taupe {
namespace fs = std::filesystem;
namespace {

const h5::FormatTag kTag{"taupe.glimpses", 1};
constexpr hsize_t kG = kGlimpseSize;
constexpr hsize_t kC = kGlimpseChannels;
constexpr std::size_t kImageFrame = kC * kG * kG;  // values per frame
constexpr std::size_t kMaskFrame = kG * kG;
constexpr hsize_t kChunkFrames = 16;               // 256 KiB of images per chunk

}  // namespace

// ---- writer -----------------------------------------------------------------------------

struct GlimpseWriter::Impl {
  h5::AtomicFile file;
  GlimpseFileInfo info;
  H5::Group features_group;
  h5::RowAppender<std::uint16_t> images;
  h5::RowAppender<std::uint8_t> masks;
  h5::RowAppender<std::int32_t> frames;
  std::map<std::string, std::unique_ptr<h5::RowAppender<float>>> features;
  bool features_fixed = false;
  std::vector<std::int64_t> ids, track_ids, lineages, offsets{0};
  std::vector<std::int8_t> fates, types;
  std::vector<std::int32_t> cutoffs;
  std::vector<std::string> movies;
  std::unordered_set<std::int64_t> seen;

  Impl(const fs::path& path, const GlimpseFileInfo& i)
      : file(path, kTag),
        info(i),
        features_group(h5::group(file.file(), "features")),
        images(file.file(), "images", {kC, kG, kG}, kChunkFrames, detail::kGzipLevel),
        masks(file.file(), "masks", {kG, kG}, kChunkFrames, detail::kGzipLevel),
        frames(file.file(), "frames", {}, 4096, detail::kGzipLevel) {}
};

GlimpseWriter::GlimpseWriter(const fs::path& path, const GlimpseFileInfo& info)
    : impl_(std::make_unique<Impl>(path, info)) {}

GlimpseWriter::~GlimpseWriter() = default;

void GlimpseWriter::append(const GlimpseTrajectory& tr) {
  if (!impl_) throw DataError("GlimpseWriter: append() after close()");
  Impl& m = *impl_;
  const std::string where = m.file.final_path().string() + ": trajectory " + std::to_string(tr.id);
  const std::size_t T = tr.frames.size();
  if (T == 0) throw DataError(where + ": has no frames");
  if (tr.images.size() != T * kImageFrame)
    throw DataError(where + ": images has " + std::to_string(tr.images.size()) + " values, expected T*2*64*64 = " +
                    std::to_string(T * kImageFrame) + " for T = " + std::to_string(T));
  if (tr.masks.size() != T * kMaskFrame)
    throw DataError(where + ": masks has " + std::to_string(tr.masks.size()) + " values, expected T*64*64 = " +
                    std::to_string(T * kMaskFrame) + " for T = " + std::to_string(T));
  if (tr.cutoff < 0 || static_cast<std::size_t>(tr.cutoff) >= T)
    throw DataError(where + ": cutoff " + std::to_string(tr.cutoff) + " outside [0, " + std::to_string(T - 1) + "]");
  detail::fate_from_code(static_cast<std::int8_t>(tr.fate), where);
  detail::cell_type_from_code(static_cast<std::int8_t>(tr.central_type), where);
  if (m.seen.count(tr.id)) throw DataError(where + ": duplicate trajectory id");
  for (std::size_t i = 0; i < tr.masks.size(); ++i) {
    const std::uint8_t c = tr.masks[i];
    if ((c & ~(kMaskTypeBits | kMaskCentral)) != 0 || (c & kMaskTypeBits) == kMaskTypeBits)
      throw DataError(where + ": mask value " + std::to_string(c) + " at frame " + std::to_string(i / kMaskFrame) +
                      " is not a valid mask code (bits 0-1 type 0..2, bit 2 central)");
  }
  // Feature columns: the first trajectory fixes the set; every later one must match it.
  for (const auto& [name, col] : tr.features) {
    detail::check_feature_name(name, where);
    if (col.size() != T)
      throw DataError(where + ": feature '" + name + "' has " + std::to_string(col.size()) + " values, expected " +
                      std::to_string(T));
  }
  if (m.features_fixed &&
      (tr.features.size() != m.features.size() ||
       !std::equal(tr.features.begin(), tr.features.end(), m.features.begin(),
                   [](const auto& a, const auto& b) { return a.first == b.first; }))) {
    std::string expected;
    for (const auto& kv : m.features) expected += (expected.empty() ? "" : ", ") + kv.first;
    throw DataError(where + ": feature columns differ from the first trajectory's {" + expected + "}");
  }
  if (!m.features_fixed) {
    for (const auto& kv : tr.features)
      m.features.emplace(kv.first, std::make_unique<h5::RowAppender<float>>(m.features_group, kv.first,
                                                                              std::vector<hsize_t>{}, 4096,
                                                                              detail::kGzipLevel));
    m.features_fixed = true;
  }

  m.seen.insert(tr.id);
  m.images.append(tr.images);
  m.masks.append(tr.masks);
  m.frames.append(tr.frames);
  for (const auto& [name, col] : tr.features) m.features.at(name)->append(col);
  m.ids.push_back(tr.id);
  m.fates.push_back(static_cast<std::int8_t>(tr.fate));
  m.types.push_back(static_cast<std::int8_t>(tr.central_type));
  m.cutoffs.push_back(tr.cutoff);
  m.movies.push_back(tr.movie);
  m.track_ids.push_back(tr.track_id);
  m.lineages.push_back(tr.lineage != 0 ? tr.lineage : tr.track_id);
  m.offsets.push_back(m.offsets.back() + static_cast<std::int64_t>(T));
}

void GlimpseWriter::close() {
  if (!impl_) return;
  Impl& m = *impl_;
  m.images.flush();
  m.masks.flush();
  m.frames.flush();
  for (auto& kv : m.features) kv.second->flush();
  H5::H5File& f = m.file.file();
  H5::Group g = h5::group(f, "trajectories");
  const hsize_t n = m.ids.size();
  const int z = detail::kGzipLevel;
  h5::write(g, "id", m.ids, {n}, 0, z);
  h5::write(g, "fate", m.fates, {n}, 0, z);
  h5::write(g, "central_type", m.types, {n}, 0, z);
  h5::write(g, "cutoff", m.cutoffs, {n}, 0, z);
  h5::write(g, "track_id", m.track_ids, {n}, 0, z);
  h5::write(g, "lineage", m.lineages, {n}, 0, z);
  h5::write(g, "offsets", m.offsets, {n + 1}, 0, z);
  h5::write_strings(g, "movie", m.movies);
  h5::write_attr(f, "world", m.info.world);
  h5::write_attr(f, "seed", m.info.seed);
  h5::write_attr(f, "source", m.info.source);
  h5::write_attr(f, "frame_interval_min", m.info.frame_interval_min);
  h5::write_attr(f, "glimpse_size", static_cast<std::int64_t>(kG));
  h5::write_attr(f, "channels", static_cast<std::int64_t>(kC));
  m.file.commit();
  impl_.reset();
}

// ---- reader -----------------------------------------------------------------------------

struct GlimpseReader::Impl {
  fs::path path;
  H5::H5File file;
  GlimpseFileInfo info;
  std::vector<GlimpseInfo> infos;
  std::vector<std::int64_t> offsets;
  std::vector<std::string> feature_names;
  H5::DataSet images, masks, frames;
  std::vector<H5::DataSet> features;
  mutable std::mutex mu;  // one HDF5 read at a time per reader

  explicit Impl(const fs::path& p) : path(p), file(h5::open(p, kTag)) {}
};

GlimpseReader::GlimpseReader(const fs::path& path) : impl_(std::make_unique<Impl>(path)) {
  Impl& m = *impl_;
  const std::string file = path.string();
  H5::H5File& f = m.file;
  m.info.world = h5::read_attr_string(f, "world");
  m.info.seed = h5::read_attr_int(f, "seed");
  m.info.source = h5::read_attr_string(f, "source");
  m.info.frame_interval_min = h5::read_attr_double(f, "frame_interval_min");

  const H5::Group g = h5::open_group(f, "trajectories");
  const auto ids = h5::read<std::int64_t>(g, "id", nullptr, {-1});
  const long long n = static_cast<long long>(ids.size());
  const auto fates = h5::read<std::int8_t>(g, "fate", nullptr, {n});
  const auto types = h5::read<std::int8_t>(g, "central_type", nullptr, {n});
  const auto cutoffs = h5::read<std::int32_t>(g, "cutoff", nullptr, {n});
  const auto track_ids = h5::read<std::int64_t>(g, "track_id", nullptr, {n});
  // Optional (files written before lineages were recorded): each track its own lineage.
  const auto lineages = h5::exists(g, "lineage") ? h5::read<std::int64_t>(g, "lineage", nullptr, {n}) : track_ids;
  m.offsets = h5::read<std::int64_t>(g, "offsets", nullptr, {n + 1});
  const auto movies = h5::read_strings(g, "movie");
  if (static_cast<long long>(movies.size()) != n)
    throw DataError(file + ": dataset '/trajectories/movie': expected shape (" + std::to_string(n) + ",), found (" +
                    std::to_string(movies.size()) + ",)");

  const long long F = m.offsets.empty() ? 0 : m.offsets.back();
  h5::check<std::uint16_t>(f, "images", {F, static_cast<long long>(kC), static_cast<long long>(kG),
                                         static_cast<long long>(kG)});
  h5::check<std::uint8_t>(f, "masks", {F, static_cast<long long>(kG), static_cast<long long>(kG)});
  h5::check<std::int32_t>(f, "frames", {F});
  if (h5::exists(f, "features")) {
    const H5::Group fg = h5::open_group(f, "features");
    m.feature_names = h5::members(fg);
    for (const auto& name : m.feature_names) {
      h5::check<float>(fg, name, {F});
      m.features.push_back(h5::open_dataset(fg, name));
    }
  }
  m.images = h5::open_dataset(f, "images");
  m.masks = h5::open_dataset(f, "masks");
  m.frames = h5::open_dataset(f, "frames");

  m.infos.resize(ids.size());
  std::unordered_set<std::int64_t> seen;
  if (m.offsets.front() != 0)
    throw DataError(file + ": dataset '/trajectories/offsets': first value must be 0, found " +
                    std::to_string(m.offsets.front()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string where = file + ": trajectory " + std::to_string(ids[i]) + " (row " + std::to_string(i) + ")";
    GlimpseInfo& gi = m.infos[i];
    gi.id = ids[i];
    gi.fate = detail::fate_from_code(fates[i], where);
    gi.central_type = detail::cell_type_from_code(types[i], where);
    gi.cutoff = cutoffs[i];
    gi.track_id = track_ids[i];
    gi.lineage = lineages[i];
    gi.movie = movies[i];
    const std::int64_t len = m.offsets[i + 1] - m.offsets[i];
    if (len <= 0)
      throw DataError(where + ": dataset '/trajectories/offsets' must increase strictly, found " +
                      std::to_string(m.offsets[i]) + " then " + std::to_string(m.offsets[i + 1]));
    gi.num_frames = static_cast<std::int32_t>(len);
    if (gi.cutoff < 0 || gi.cutoff >= gi.num_frames)
      throw DataError(where + ": cutoff " + std::to_string(gi.cutoff) + " outside [0, " +
                      std::to_string(gi.num_frames - 1) + "]");
    if (!seen.insert(gi.id).second) throw DataError(where + ": duplicate trajectory id");
  }
}

GlimpseReader::~GlimpseReader() = default;

const GlimpseFileInfo& GlimpseReader::file_info() const { return impl_->info; }
std::size_t GlimpseReader::size() const { return impl_->infos.size(); }
const std::vector<GlimpseInfo>& GlimpseReader::infos() const { return impl_->infos; }
std::vector<std::string> GlimpseReader::feature_names() const { return impl_->feature_names; }
const fs::path& GlimpseReader::path() const { return impl_->path; }

GlimpseTrajectory GlimpseReader::read(std::size_t index) const {
  const Impl& m = *impl_;
  if (index >= m.infos.size())
    throw DataError(m.path.string() + ": trajectory index " + std::to_string(index) + " out of range (file holds " +
                    std::to_string(m.infos.size()) + ")");
  const GlimpseInfo& gi = m.infos[index];
  GlimpseTrajectory tr;
  tr.id = gi.id;
  tr.fate = gi.fate;
  tr.central_type = gi.central_type;
  tr.cutoff = gi.cutoff;
  tr.movie = gi.movie;
  tr.track_id = gi.track_id;
  tr.lineage = gi.lineage;
  const hsize_t row0 = static_cast<hsize_t>(m.offsets[index]);
  const hsize_t T = static_cast<hsize_t>(gi.num_frames);
  std::lock_guard<std::mutex> lock(m.mu);
  tr.frames = h5::read_rows<std::int32_t>(m.frames, row0, T);
  tr.images = h5::read_rows<std::uint16_t>(m.images, row0, T);
  tr.masks = h5::read_rows<std::uint8_t>(m.masks, row0, T);
  for (std::size_t k = 0; k < m.feature_names.size(); ++k)
    tr.features[m.feature_names[k]] = h5::read_rows<float>(m.features[k], row0, T);
  return tr;
}

}  // namespace taupe
