#include "taupe/io/cellx.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/glimpses.h"
#include "taupe/io/npz.h"
#include "taupe/io/tiff_io.h"

namespace fs = std::filesystem;

namespace taupe::io {
namespace {

constexpr std::size_t kG = kGlimpseSize;
constexpr std::size_t kFrameValues = kGlimpseChannels * kG * kG;
constexpr std::size_t kMaskValues = kG * kG;
constexpr const char* kMaskEncodingTaupe = "taupe";

/// One glimpse found on disk, with its metadata read (pass 1).
struct Item {
  fs::path tif, npz, mask;   // mask empty = none
  std::string label;
  Fate fate = Fate::kCensored;
  NpzArrays meta;
  std::int64_t cutoff = 0;
  bool has_id = false;
  std::int64_t id = 0;
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

bool is_int(const std::string& s) {
  return !s.empty() && s.size() < 18 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// cellx names: <experiment>_<position>_<track>_<GFP|RFP>_<class>. Returns the channel token's
/// cell type (unknown if absent) and, when a track number precedes it, movie + track.
CellType parse_cellx_name(const std::string& stem, std::string* movie, std::int64_t* track) {
  const auto tok = split(stem, '_');
  for (std::size_t i = 0; i < tok.size(); ++i) {
    const std::string u = upper(tok[i]);
    if (u != "GFP" && u != "RFP") continue;
    if (i >= 2 && is_int(tok[i - 1])) {
      std::string m;
      for (std::size_t k = 0; k + 1 < i; ++k) m += (k ? "_" : "") + tok[k];
      *movie = m;
      *track = std::stoll(tok[i - 1]);
    }
    return u == "GFP" ? CellType::kWildType : CellType::kScrib;
  }
  return CellType::kUnknown;
}

fs::path find_sibling(const fs::path& dir, const std::string& stem, const std::vector<std::string>& exts) {
  for (const auto& e : exts) {
    fs::path p = dir / (stem + e);
    if (fs::exists(p)) return p;
  }
  return {};
}

/// Validates the (T, 2, 64, 64) axes of a glimpse stack; returns T.
std::size_t check_glimpse_shape(const StackHeader& h, const fs::path& file) {
  const auto& s = h.shape;
  const std::string found = "found " + shape_text(s);
  if (h.has_z) throw DataError(file.string() + ": axes: Z slices are not allowed in a glimpse (expected (T, 2, 64, 64))");
  if (s.size() != 4)
    throw DataError(file.string() + ": axes: expected 4 axes (T, 2, 64, 64), found " + std::to_string(s.size()) + " " +
                    shape_text(s));
  if (s[1] != 2 && s[3] == 2 && s[1] == kG && s[2] == kG)
    throw DataError(file.string() + ": axes: order looks like (T, Y, X, C); expected (T, C, Y, X) = (T, 2, 64, 64), " +
                    found);
  if (s[1] != 2)
    throw DataError(file.string() + ": axes: channel axis has " + std::to_string(s[1]) +
                    " channels; expected 2 (GFP, RFP), " + found);
  if (s[2] != kG || s[3] != kG)
    throw DataError(file.string() + ": axes: glimpse is " + std::to_string(s[2]) + " x " + std::to_string(s[3]) +
                    " pixels; expected 64 x 64, " + found);
  if (s[0] == 0) throw DataError(file.string() + ": axes: no frames");
  return s[0];
}

template <class T>
std::vector<T> optional_values(const NpzArrays& m, const std::string& key, const std::string& where, std::size_t n) {
  auto it = m.find(key);
  if (it == m.end()) return {};
  std::vector<T> v = it->second.values<T>(where + ": field '" + key + "'");
  if (v.size() != n)
    throw DataError(where + ": field '" + key + "': has " + std::to_string(v.size()) + " values, expected one per frame (" +
                    std::to_string(n) + ")");
  return v;
}

std::string optional_string(const NpzArrays& m, const std::string& key, const std::string& where) {
  auto it = m.find(key);
  if (it == m.end()) return {};
  const auto v = it->second.strings(where + ": field '" + key + "'");
  if (v.size() != 1) throw DataError(where + ": field '" + key + "': expected a single string");
  return v[0];
}

GlimpseFileInfo read_side_info(const fs::path& base, double frame_interval) {
  GlimpseFileInfo info;
  info.source = "cellx-predict:" + base.string();
  info.frame_interval_min = frame_interval;
  const fs::path j = base / "taupe.json";
  if (!fs::exists(j)) return info;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(read_text_file(j));
    info.world = doc.value("world", std::string());
    info.seed = doc.value("seed", std::int64_t{-1});
    info.source = doc.value("source", info.source);
    info.frame_interval_min = doc.value("frame_interval_min", frame_interval);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(j.string() + ": not valid taupe.json: " + e.what());
  }
  return info;
}

/// Converts per-frame instance labels to mask codes with the documented rules.
std::vector<std::uint8_t> labels_to_codes(const std::vector<std::uint16_t>& images, const std::vector<std::uint32_t>& labels,
                                          std::size_t T, double type_ratio, std::size_t* frames_without_centre) {
  std::vector<std::uint8_t> masks(T * kMaskValues);
  for (std::size_t t = 0; t < T; ++t) {
    std::vector<std::uint32_t> lab(labels.begin() + static_cast<std::ptrdiff_t>(t * kMaskValues),
                                   labels.begin() + static_cast<std::ptrdiff_t>((t + 1) * kMaskValues));
    const auto types = classify_labels(images.data() + t * kFrameValues, kGlimpseSize, kGlimpseSize, 0, 1, lab, type_ratio);
    const std::uint32_t c = central_label(lab, kGlimpseSize, kGlimpseSize);
    if (!c) ++*frames_without_centre;
    const auto codes = mask_codes(lab, types, c);
    std::copy(codes.begin(), codes.end(), masks.begin() + static_cast<std::ptrdiff_t>(t * kMaskValues));
  }
  return masks;
}

std::string sanitise(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '-';
  return out.empty() ? "glimpse" : out;
}

/// Where the import reads: data/ (pixels), metadata/ (npz) and masks/ under the base folder.
struct CellxLayout {
  fs::path base, data, meta, masks_root;
};

/// The base folder is `root`, or root/training/glimpses when only that holds data/.
CellxLayout cellx_layout(const fs::path& root) {
  CellxLayout l;
  l.base = root;
  if (!fs::is_directory(l.base / "data") && fs::is_directory(root / "training" / "glimpses" / "data"))
    l.base = root / "training" / "glimpses";
  l.data = l.base / "data";
  l.meta = l.base / "metadata";
  l.masks_root = l.base / "masks";
  if (!fs::is_directory(l.data))
    throw IoError(root.string() + ": no data/ folder (expected data/<label>/<name>.tif and metadata/<label>/<name>.npz)");
  return l;
}

/// One glimpse file `f` of data/<label>/: its metadata and mask file, the cutoff and id read.
Item read_item(const fs::path& f, const std::string& label, Fate fate, const CellxLayout& l, bool use_mask_files) {
  Item it;
  it.tif = f;
  it.label = label;
  it.fate = fate;
  const std::string stem = f.stem().string();
  it.npz = find_sibling(l.meta / label, stem, {".npz"});
  if (it.npz.empty())
    throw DataError(f.string() + ": metadata " + (l.meta / label / (stem + ".npz")).string() +
                    " is missing (every glimpse needs a .npz with 'cutoff')");
  if (use_mask_files) {
    it.mask = find_sibling(l.masks_root / label, stem, {".tif", ".tiff"});
    if (it.mask.empty())
      throw DataError(f.string() + ": mask " + (l.masks_root / label / (stem + ".tif")).string() +
                      " is missing (masks/ exists, so every glimpse needs one; or pass --masks derive)");
  }
  it.meta = read_npz(it.npz);
  const std::string w = it.npz.string();
  it.cutoff = npz_member(it.meta, "cutoff", w).scalar<std::int64_t>(w + ": field 'cutoff'");
  if (it.cutoff < 0)
    throw DataError(w + ": field 'cutoff' = " + std::to_string(it.cutoff) + ": must be >= 0 (index of the last frame to use)");
  if (auto m = it.meta.find("id"); m != it.meta.end()) {
    it.has_id = true;
    it.id = m->second.scalar<std::int64_t>(w + ": field 'id'");
  }
  return it;
}

/// Pass 1: discovers the files and reads every metadata file (small) -- all naming and cutoff
/// rules are checked before any pixel is read. Items come in id order when every glimpse has
/// one (export wrote them: the container's order), else in sorted label / file order.
std::vector<Item> discover_items(const CellxLayout& l, const CellxImportOptions& opts) {
  const auto label_dirs = list_dirs(l.data);
  if (label_dirs.empty())
    throw DataError(l.data.string() + ": empty folder: no label sub-folders (expected data/<label>/<name>.tif)");
  const bool use_mask_files = opts.masks == "auto" && fs::is_directory(l.masks_root);
  std::vector<Item> items;
  for (const auto& dir : label_dirs) {
    const std::string label = dir.filename().string();
    const Fate fate = fate_from_label(label, opts.label_map, dir.string());
    const auto files = list_files(dir, {".tif", ".tiff"});
    if (files.empty()) throw DataError(dir.string() + ": empty folder: no .tif glimpses");
    for (const auto& f : files) items.push_back(read_item(f, label, fate, l, use_mask_files));
  }
  const bool all_ids = std::all_of(items.begin(), items.end(), [](const Item& i) { return i.has_id; });
  if (all_ids) std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.id < b.id; });
  return items;
}

/// The ids the metadata gives (each at most once).
std::set<std::int64_t> explicit_ids_of(const std::vector<Item>& items) {
  std::set<std::int64_t> explicit_ids;
  for (const auto& it : items)
    if (it.has_id && !explicit_ids.insert(it.id).second)
      throw DataError(it.npz.string() + ": field 'id' = " + std::to_string(it.id) + ": duplicate trajectory id");
  return explicit_ids;
}

/// What pass 2 counts for the summary's notes.
struct ImportTally {
  std::size_t rescaled = 0, derived = 0, no_centre = 0, default_type = 0;
};

/// Mask codes from a mask file: taupe codes as they are (mask_encoding 'taupe'), else instance
/// labels converted with the documented rules.
std::vector<std::uint8_t> masks_from_file(const Item& it, const std::string& enc, const std::vector<std::uint16_t>& images,
                                          std::size_t T, double type_ratio, ImportTally& n) {
  const StackHeader mh = tiff_header(it.mask);
  const std::size_t mT = mh.shape.empty() ? 0 : mh.shape[0];
  // (T, Y, X), or (T, 1, Y, X) as ImageJ stacks read back.
  const bool ok = mh.shape.size() == 4 ? (mh.shape[1] == 1 && mh.shape[2] == kG && mh.shape[3] == kG)
                                       : (mh.shape.size() == 3 && mh.shape[1] == kG && mh.shape[2] == kG);
  if (!ok || mT != T)
    throw DataError(it.mask.string() + ": axes: expected (T, 64, 64) with T = " + std::to_string(T) + ", found " +
                    shape_text(mh.shape));
  const auto labels = to_labels(tiff_read_rows(it.mask, mh, 0, T), it.mask.string());
  if (enc != kMaskEncodingTaupe) return labels_to_codes(images, labels, T, type_ratio, &n.no_centre);
  std::vector<std::uint8_t> masks(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::uint32_t c = labels[i];
    if (c > 0xFF || (c & ~std::uint32_t{kMaskTypeBits | kMaskCentral}) || (c & kMaskTypeBits) == kMaskTypeBits)
      throw DataError(it.mask.string() + ": frame " + std::to_string(i / kMaskValues) + ": mask value " +
                      std::to_string(c) + " is not a taupe mask code (bits 0-1 type 0..2, bit 2 central)");
    masks[i] = static_cast<std::uint8_t>(c);
  }
  return masks;
}

/// Mask codes derived from the pixels (Otsu + watershed, channel-ratio types).
std::vector<std::uint8_t> derive_masks(const std::vector<std::uint16_t>& images, std::size_t T,
                                       const SegmentOptions& segment, ImportTally& n) {
  std::vector<std::uint32_t> labels(T * kMaskValues);
  for (std::size_t t = 0; t < T; ++t) {
    const auto lab = segment_frame(images.data() + t * kFrameValues, kGlimpseChannels, kGlimpseSize, kGlimpseSize, segment);
    std::copy(lab.begin(), lab.end(), labels.begin() + static_cast<std::ptrdiff_t>(t * kMaskValues));
  }
  std::vector<std::uint8_t> codes = labels_to_codes(images, labels, T, segment.type_ratio, &n.no_centre);
  ++n.derived;
  return codes;
}

/// Masks: file (labels or taupe codes), derived, or empty.
std::vector<std::uint8_t> glimpse_masks(const Item& it, const std::vector<std::uint16_t>& images, std::size_t T,
                                        const CellxImportOptions& opts, ImportTally& n) {
  const std::string w = it.npz.string();
  const std::string enc = optional_string(it.meta, "mask_encoding", w);
  if (!enc.empty() && enc != kMaskEncodingTaupe)
    throw DataError(w + ": field 'mask_encoding' = '" + enc + "': unknown (expected 'taupe')");
  if (!it.mask.empty()) return masks_from_file(it, enc, images, T, opts.segment.type_ratio, n);
  if (opts.masks == "none") return std::vector<std::uint8_t>(T * kMaskValues, kMaskBackground);
  return derive_masks(images, T, opts.segment, n);
}

/// The central cell's type: npz field 'central_type' > the name's channel token > majority type
/// of the central cell in the masks > scrib.
CellType central_type(const Item& it, CellType from_name, const std::vector<std::uint8_t>& masks, ImportTally& n) {
  const std::string w = it.npz.string();
  CellType type = from_name;
  if (const std::string ct = optional_string(it.meta, "central_type", w); !ct.empty()) {
    try {
      type = cell_type_from_string(ct);
    } catch (const DataError& e) {
      throw DataError(w + ": field 'central_type': " + e.what());
    }
  }
  if (type == CellType::kUnknown) {   // majority type of the central cell in the masks
    std::size_t votes[3] = {0, 0, 0};
    for (std::uint8_t c : masks)
      if (mask_is_central(c)) ++votes[c & kMaskTypeBits];
    type = votes[1] > votes[2] ? CellType::kWildType : votes[2] > votes[1] ? CellType::kScrib : CellType::kUnknown;
  }
  if (type == CellType::kUnknown) {
    type = CellType::kScrib;
    ++n.default_type;
  }
  return type;
}

/// Per-frame feature_* fields into `tr.features`; returns their names.
std::set<std::string> read_features(const Item& it, std::size_t T, GlimpseTrajectory& tr) {
  const std::string w = it.npz.string();
  std::set<std::string> names;
  for (const auto& [key, arr] : it.meta) {
    if (key.rfind("feature_", 0) != 0) continue;
    tr.features[key.substr(8)] = optional_values<float>(it.meta, key, w, T);
    names.insert(key.substr(8));
  }
  return names;
}

/// Pass 2 for one glimpse: pixels, masks, identity and features (their names into
/// `feature_names`). Identity and provenance: npz fields (taupe export) > cellx file name >
/// defaults; glimpses without an id get the next id that no glimpse gives.
GlimpseTrajectory read_glimpse(const Item& it, const CellxImportOptions& opts, const std::set<std::int64_t>& explicit_ids,
                               std::int64_t& next_id, std::set<std::string>& feature_names, ImportTally& n) {
  const StackHeader h = tiff_header(it.tif);
  const std::size_t T = check_glimpse_shape(h, it.tif);
  if (static_cast<std::size_t>(it.cutoff) >= T)
    throw DataError(it.npz.string() + ": field 'cutoff' = " + std::to_string(it.cutoff) + ": beyond the last frame " +
                    std::to_string(T - 1) + " of " + it.tif.string());
  GlimpseTrajectory tr;
  bool r = false;
  tr.images = to_uint16(tiff_read_rows(it.tif, h, 0, T), &r);
  n.rescaled += r;
  tr.cutoff = static_cast<std::int32_t>(it.cutoff);
  tr.fate = it.fate;
  const std::string w = it.npz.string();
  tr.masks = glimpse_masks(it, tr.images, T, opts, n);

  const std::string stem = it.tif.stem().string();
  std::string movie = stem;
  std::int64_t track = 0;
  tr.central_type = central_type(it, parse_cellx_name(stem, &movie, &track), tr.masks, n);
  if (it.has_id) {
    tr.id = it.id;
  } else {
    while (explicit_ids.count(next_id)) ++next_id;
    tr.id = next_id++;
  }
  if (const std::string m = optional_string(it.meta, "movie", w); it.meta.count("movie")) movie = m;
  if (auto m = it.meta.find("track_id"); m != it.meta.end()) track = m->second.scalar<std::int64_t>(w + ": field 'track_id'");
  tr.movie = movie;
  tr.track_id = track;
  tr.frames = optional_values<std::int32_t>(it.meta, "frames", w, T);
  if (tr.frames.empty())
    for (std::size_t t = 0; t < T; ++t) tr.frames.push_back(static_cast<std::int32_t>(t));
  feature_names = read_features(it, T, tr);
  return tr;
}

}  // namespace

IoSummary import_cellx(const fs::path& root, const fs::path& out, const CellxImportOptions& opts) {
  if (opts.masks != "auto" && opts.masks != "derive" && opts.masks != "none")
    throw ConfigError("--masks " + opts.masks + ": expected auto, derive or none");
  const CellxLayout layout = cellx_layout(root);
  check_output(out, opts.overwrite);
  const std::vector<Item> items = discover_items(layout, opts);
  const std::set<std::int64_t> explicit_ids = explicit_ids_of(items);

  // Pass 2: pixels. The container appears only at close(), so any error leaves nothing.
  GlimpseWriter writer(out, read_side_info(layout.base, opts.frame_interval_min));
  IoSummary sum;
  sum.what = "import cellx";
  ImportTally n;
  std::int64_t next_id = 1;
  std::set<std::string> feature_set;
  bool first = true;
  for (const auto& it : items) {
    std::set<std::string> names;
    GlimpseTrajectory tr = read_glimpse(it, opts, explicit_ids, next_id, names, n);
    if (first) feature_set = names;
    else if (names != feature_set)
      throw DataError(it.npz.string() + ": feature_* fields differ from those of the first glimpse (all glimpses must carry the same)");
    first = false;
    writer.append(tr);
    ++sum.counts["trajectories"];
    ++sum.counts[to_string(tr.fate)];
  }
  writer.close();
  sum.outputs.push_back(out);
  if (n.rescaled) sum.notes.push_back(std::to_string(n.rescaled) + " glimpse(s) had non-uint16 values and were rescaled linearly to [0, 65535]");
  if (n.derived) sum.notes.push_back(std::to_string(n.derived) + " glimpse(s) got derived masks (Otsu + watershed, channel-ratio types)");
  if (n.no_centre) sum.notes.push_back(std::to_string(n.no_centre) + " frame(s) have no central cell in their mask");
  if (n.default_type) sum.notes.push_back(std::to_string(n.default_type) + " glimpse(s) of unknown central type were taken as scrib");
  return sum;
}

IoSummary export_cellx(const fs::path& glimpses, const fs::path& out_root, const CellxExportOptions& opts) {
  GlimpseReader reader(glimpses);
  check_output(out_root, opts.overwrite);
  IoSummary sum;
  sum.what = "export cellx";
  std::set<std::string> used;
  for (std::size_t i = 0; i < reader.size(); ++i) {
    const GlimpseTrajectory tr = reader.read(i);
    const std::size_t T = static_cast<std::size_t>(tr.num_frames());
    const std::string label = to_string(tr.fate);
    const std::string channel = tr.central_type == CellType::kWildType ? "GFP" : "RFP";
    const std::string suffix = tr.fate == Fate::kMitosis ? "mit" : tr.fate == Fate::kApoptosis ? "apop" : label;
    std::string name = sanitise(tr.movie.empty() ? "taupe" : tr.movie) + "_" + std::to_string(tr.track_id) + "_" +
                       channel + "_" + suffix;
    if (!used.insert(label + "/" + name).second) {
      name += "_id" + std::to_string(tr.id);
      used.insert(label + "/" + name);
    }
    tiff_write_u16(out_root / "data" / label / (name + ".tif"), {T, 2, kG, kG}, tr.images);
    NpzArrays meta;
    meta["cutoff"] = NpyArray::from<std::int64_t>({tr.cutoff}, {});
    meta["id"] = NpyArray::from<std::int64_t>({tr.id}, {});
    meta["track_id"] = NpyArray::from<std::int64_t>({tr.track_id}, {});
    meta["movie"] = NpyArray::from_strings({tr.movie}, {});
    meta["central_type"] = NpyArray::from_strings({to_string(tr.central_type)}, {});
    meta["frames"] = NpyArray::from<std::int32_t>(tr.frames, {T});
    for (const auto& [k, v] : tr.features) meta["feature_" + k] = NpyArray::from<float>(v, {T});
    if (opts.masks) {
      meta["mask_encoding"] = NpyArray::from_strings({kMaskEncodingTaupe}, {});
      tiff_write_u8(out_root / "masks" / label / (name + ".tif"), {T, kG, kG}, tr.masks);
    }
    write_npz(out_root / "metadata" / label / (name + ".npz"), meta, true);
    ++sum.counts["trajectories"];
  }
  const GlimpseFileInfo& fi = reader.file_info();
  nlohmann::json doc = {{"format", "taupe.cellx-export"}, {"format_version", 1},      {"world", fi.world},
                        {"seed", fi.seed},                {"source", fi.source},       {"frame_interval_min", fi.frame_interval_min}};
  write_text_atomic(out_root / "taupe.json", doc.dump(2) + "\n");
  sum.outputs.push_back(out_root);
  return sum;
}

}  // namespace taupe::io
