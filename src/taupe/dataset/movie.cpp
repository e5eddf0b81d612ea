#include "taupe/dataset/movie.h"

#include <mutex>

#include "taupe/core/errors.h"
#include "taupe/dataset/detail.h"
#include "taupe/dataset/h5file.h"

namespace taupe {
namespace fs = std::filesystem;
namespace {

const h5::FormatTag kTag{"taupe.movie", 1};

void check_info(const MovieInfo& info, const std::string& where) {
  auto bad = [&](const std::string& what) { throw DataError(where + ": " + what); };
  if (info.channels <= 0) bad("channels = " + std::to_string(info.channels) + ": must be > 0");
  if (info.height <= 0 || info.width <= 0)
    bad("frame size " + std::to_string(info.height) + " x " + std::to_string(info.width) + ": must be > 0");
  if (info.frames < 0) bad("frames = " + std::to_string(info.frames) + ": must be >= 0 (0 = not known in advance)");
  if (info.bit_depth != 8 && info.bit_depth != 16)
    bad("bit_depth = " + std::to_string(info.bit_depth) + ": must be 8 or 16");
  if (!(info.pixel_size_um > 0)) bad("pixel_size_um must be > 0");
  if (!(info.frame_interval_min > 0)) bad("frame_interval_min must be > 0");
  if (!info.channel_names.empty() && static_cast<int>(info.channel_names.size()) != info.channels)
    bad(std::to_string(info.channel_names.size()) + " channel names for " + std::to_string(info.channels) +
        " channels");
}

}  // namespace

struct MovieWriter::Impl {
  MovieInfo info;
  h5::AtomicFile file;
  H5::Group inst_group;
  std::unique_ptr<h5::RowAppender<std::uint16_t>> images16;
  std::unique_ptr<h5::RowAppender<std::uint8_t>> images8;
  h5::RowAppender<std::uint32_t> labels;
  h5::RowAppender<std::uint32_t> inst_label;
  h5::RowAppender<std::int8_t> inst_type;
  std::vector<std::int64_t> inst_offsets{0};
  int frames = 0;

  Impl(const fs::path& path, const MovieInfo& i)
      : info(i),
        file(path, kTag),
        inst_group(h5::group(file.file(), "instances")),
        labels(file.file(), "labels", {hsize_t(i.height), hsize_t(i.width)}, 1, detail::kGzipLevel),
        inst_label(inst_group, "label", {}, 4096, detail::kGzipLevel),
        inst_type(inst_group, "type", {}, 4096, detail::kGzipLevel) {
    const std::vector<hsize_t> inner{hsize_t(i.channels), hsize_t(i.height), hsize_t(i.width)};
    if (i.bit_depth == 8)
      images8 = std::make_unique<h5::RowAppender<std::uint8_t>>(file.file(), "images", inner, 1, detail::kGzipLevel);
    else
      images16 = std::make_unique<h5::RowAppender<std::uint16_t>>(file.file(), "images", inner, 1, detail::kGzipLevel);
  }
};

MovieWriter::MovieWriter(const fs::path& path, const MovieInfo& info) {
  check_info(info, path.string());
  impl_ = std::make_unique<Impl>(path, info);
}

MovieWriter::~MovieWriter() = default;

void MovieWriter::append(const MovieFrame& frame) {
  if (!impl_) throw DataError("MovieWriter: append() after close()");
  Impl& m = *impl_;
  const MovieInfo& in = m.info;
  const std::string where = m.file.final_path().string() + ": frame " + std::to_string(m.frames);
  const std::size_t hw = std::size_t(in.height) * std::size_t(in.width);
  if (in.frames > 0 && m.frames >= in.frames)
    throw DataError(where + ": more frames than MovieInfo::frames = " + std::to_string(in.frames));
  if (frame.images.size() != hw * std::size_t(in.channels))
    throw DataError(where + ": images has " + std::to_string(frame.images.size()) + " values, expected C*H*W = " +
                    std::to_string(hw * std::size_t(in.channels)));
  if (frame.labels.size() != hw)
    throw DataError(where + ": labels has " + std::to_string(frame.labels.size()) + " values, expected H*W = " +
                    std::to_string(hw));
  std::vector<std::uint32_t> ids;
  std::vector<std::int8_t> types;
  for (const auto& [label, type] : frame.label_types) {
    if (label == 0) throw DataError(where + ": label_types has an entry for label 0 (background)");
    types.push_back(static_cast<std::int8_t>(type));
    detail::cell_type_from_code(types.back(), where + ": label " + std::to_string(label));
    ids.push_back(label);
  }
  if (m.images8) {
    std::vector<std::uint8_t> narrow(frame.images.size());
    for (std::size_t i = 0; i < narrow.size(); ++i) {
      if (frame.images[i] > 255)
        throw DataError(where + ": pixel value " + std::to_string(frame.images[i]) + " does not fit bit_depth 8");
      narrow[i] = static_cast<std::uint8_t>(frame.images[i]);
    }
    m.images8->append(narrow);
  } else {
    m.images16->append(frame.images);
  }
  m.labels.append(frame.labels);
  m.inst_label.append(ids);
  m.inst_type.append(types);
  m.inst_offsets.push_back(m.inst_offsets.back() + static_cast<std::int64_t>(ids.size()));
  ++m.frames;
}

void MovieWriter::close() {
  if (!impl_) return;
  Impl& m = *impl_;
  const MovieInfo& in = m.info;
  if (in.frames > 0 && m.frames != in.frames)
    throw DataError(m.file.final_path().string() + ": " + std::to_string(m.frames) +
                    " frames appended, MovieInfo::frames = " + std::to_string(in.frames));
  if (m.images8) m.images8->flush();
  if (m.images16) m.images16->flush();
  m.labels.flush();
  m.inst_label.flush();
  m.inst_type.flush();
  H5::H5File& f = m.file.file();
  h5::write(m.inst_group, "offsets", m.inst_offsets, {m.inst_offsets.size()}, 0, detail::kGzipLevel);
  std::vector<std::string> names = in.channel_names;
  if (names.empty())
    for (int c = 0; c < in.channels; ++c) names.push_back("channel" + std::to_string(c));
  h5::write_strings(f, "channel_names", names);
  h5::write_attr(f, "frames", static_cast<std::int64_t>(m.frames));
  h5::write_attr(f, "channels", static_cast<std::int64_t>(in.channels));
  h5::write_attr(f, "height", static_cast<std::int64_t>(in.height));
  h5::write_attr(f, "width", static_cast<std::int64_t>(in.width));
  h5::write_attr(f, "bit_depth", static_cast<std::int64_t>(in.bit_depth));
  h5::write_attr(f, "pixel_size_um", in.pixel_size_um);
  h5::write_attr(f, "frame_interval_min", in.frame_interval_min);
  m.file.commit();
  impl_.reset();
}

struct MovieReader::Impl {
  fs::path path;
  H5::H5File file;
  MovieInfo info;
  std::vector<std::int64_t> inst_offsets;
  H5::DataSet images, labels, inst_label, inst_type;
  mutable std::mutex mu;
  explicit Impl(const fs::path& p) : path(p), file(h5::open(p, kTag)) {}
};

MovieReader::MovieReader(const fs::path& path) : impl_(std::make_unique<Impl>(path)) {
  Impl& m = *impl_;
  const std::string file = path.string();
  H5::H5File& f = m.file;
  MovieInfo& in = m.info;
  auto int_attr = [&](const char* name, long long lo, long long hi) {
    const std::int64_t v = h5::read_attr_int(f, name);
    if (v < lo || v > hi)
      throw DataError(file + ": attribute '" + name + "' = " + std::to_string(v) + " outside [" + std::to_string(lo) +
                      ", " + std::to_string(hi) + "]");
    return static_cast<int>(v);
  };
  in.frames = int_attr("frames", 0, 1LL << 30);
  in.channels = int_attr("channels", 1, 1 << 16);
  in.height = int_attr("height", 1, 1 << 20);
  in.width = int_attr("width", 1, 1 << 20);
  in.bit_depth = int_attr("bit_depth", 8, 16);
  if (in.bit_depth != 8 && in.bit_depth != 16)
    throw DataError(file + ": attribute 'bit_depth' = " + std::to_string(in.bit_depth) + ": must be 8 or 16");
  in.pixel_size_um = h5::read_attr_double(f, "pixel_size_um");
  in.frame_interval_min = h5::read_attr_double(f, "frame_interval_min");
  in.channel_names = h5::read_strings(f, "channel_names");
  if (static_cast<int>(in.channel_names.size()) != in.channels)
    throw DataError(file + ": dataset '/channel_names': expected shape (" + std::to_string(in.channels) +
                    ",), found (" + std::to_string(in.channel_names.size()) + ",)");
  const std::vector<long long> ishape{in.frames, in.channels, in.height, in.width};
  if (in.bit_depth == 8)
    h5::check<std::uint8_t>(f, "images", ishape);
  else
    h5::check<std::uint16_t>(f, "images", ishape);
  h5::check<std::uint32_t>(f, "labels", {in.frames, in.height, in.width});
  const H5::Group g = h5::open_group(f, "instances");
  m.inst_offsets = h5::read<std::int64_t>(g, "offsets", nullptr, {in.frames + 1LL});
  const long long K = m.inst_offsets.back();
  h5::check<std::uint32_t>(g, "label", {K});
  h5::check<std::int8_t>(g, "type", {K});
  for (int t = 0; t < in.frames; ++t)
    if (m.inst_offsets[t + 1] < m.inst_offsets[t] || m.inst_offsets[0] != 0)
      throw DataError(file + ": dataset '/instances/offsets': must start at 0 and not decrease (frame " +
                      std::to_string(t) + ")");
  m.images = h5::open_dataset(f, "images");
  m.labels = h5::open_dataset(f, "labels");
  m.inst_label = h5::open_dataset(g, "label");
  m.inst_type = h5::open_dataset(g, "type");
}

MovieReader::~MovieReader() = default;
const MovieInfo& MovieReader::info() const { return impl_->info; }
const fs::path& MovieReader::path() const { return impl_->path; }

MovieFrame MovieReader::read(int t) const {
  const Impl& m = *impl_;
  if (t < 0 || t >= m.info.frames)
    throw DataError(m.path.string() + ": frame " + std::to_string(t) + " out of range [0, " +
                    std::to_string(m.info.frames) + ")");
  MovieFrame fr;
  std::lock_guard<std::mutex> lock(m.mu);
  const hsize_t row = static_cast<hsize_t>(t);
  if (m.info.bit_depth == 8) {
    const auto v = h5::read_rows<std::uint8_t>(m.images, row, 1);
    fr.images.assign(v.begin(), v.end());
  } else {
    fr.images = h5::read_rows<std::uint16_t>(m.images, row, 1);
  }
  fr.labels = h5::read_rows<std::uint32_t>(m.labels, row, 1);
  const hsize_t a = static_cast<hsize_t>(m.inst_offsets[t]), n = static_cast<hsize_t>(m.inst_offsets[t + 1]) - a;
  const auto labels = h5::read_rows<std::uint32_t>(m.inst_label, a, n);
  const auto types = h5::read_rows<std::int8_t>(m.inst_type, a, n);
  for (hsize_t i = 0; i < n; ++i)
    fr.label_types[labels[i]] = detail::cell_type_from_code(
        types[i], m.path.string() + ": dataset '/instances/type' row " + std::to_string(a + i));
  return fr;
}

}  // namespace taupe
