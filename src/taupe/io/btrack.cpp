#include "taupe/io/btrack.h"

#include <H5Cpp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "taupe/core/errors.h"
#include "taupe/dataset/input_file.h"

namespace fs = std::filesystem;

namespace taupe::io {

// Shared with the fuzz target: reads from an already opened file.
BtrackData read_btrack_file(H5::H5File& file, const std::string& where, const BtrackReadOptions& opts,
                            std::size_t max_elements);

namespace {

const std::set<int> kKnownFates = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 20, 21, 22, 666, 999};

struct Loaded {
  std::vector<double> v;
  std::vector<hsize_t> shape;
};

/// Checks a dataset's datatype before libhdf5 converts it: standard integers (8-64 bit, no
/// padding bits) or IEEE float32/float64 only. Anything else (custom precisions, odd float
/// layouts) is rejected here rather than handed to libhdf5's soft conversion paths.
void check_numeric_type(const H5::DataSet& ds, const std::string& w, bool want_integer) {
  const H5T_class_t cls = ds.getTypeClass();
  if (cls != H5T_INTEGER && cls != H5T_FLOAT) throw DataError(w + ": dataset must be numeric");
  if (want_integer && cls != H5T_INTEGER) throw DataError(w + ": dataset must hold integers");
  const H5::DataType type = ds.getDataType();
  const std::size_t size = type.getSize();
  const hid_t id = type.getId();
  if (cls == H5T_INTEGER) {
    if ((size != 1 && size != 2 && size != 4 && size != 8) || H5Tget_precision(id) != 8 * size || H5Tget_offset(id) != 0)
      throw DataError(w + ": unsupported integer type (" + std::to_string(8 * size) + "-bit storage, " +
                      std::to_string(H5Tget_precision(id)) + " bits used); expected 8-, 16-, 32- or 64-bit integers");
  } else {
    bool ieee = false;
    for (hid_t t : {H5T_IEEE_F32LE, H5T_IEEE_F32BE, H5T_IEEE_F64LE, H5T_IEEE_F64BE}) ieee = ieee || H5Tequal(id, t) > 0;
    if (!ieee) throw DataError(w + ": unsupported float type; expected IEEE float32 or float64");
  }
}

/// Reads a whole numeric dataset as doubles (HDF5 converts; integer vs float class checked).
Loaded load(const H5::Group& g, const std::string& name, const std::string& where, bool want_integer,
            std::size_t max_elements) {
  const std::string w = where + ": " + name;
  if (!g.nameExists(name)) throw DataError(w + ": dataset missing");
  Loaded out;
  try {
    H5::DataSet ds = g.openDataSet(name);
    check_numeric_type(ds, w, want_integer);
    const H5::DataSpace sp = ds.getSpace();
    const H5S_class_t sc = sp.getSimpleExtentType();
    if (sc != H5S_SIMPLE && sc != H5S_SCALAR) throw DataError(w + ": dataset has no values (null dataspace)");
    const int nd = sp.getSimpleExtentNdims();
    if (nd < 0 || nd > 4) throw DataError(w + ": unsupported rank " + std::to_string(nd));
    out.shape.resize(std::size_t(nd));
    if (nd) sp.getSimpleExtentDims(out.shape.data());
    std::size_t n = 1;
    for (hsize_t d : out.shape) {
      if (d != 0 && n > max_elements / d) throw DataError(w + ": dataset larger than " + std::to_string(max_elements) + " values");
      n *= std::size_t(d);
    }
    out.v.resize(n);
    if (n) ds.read(out.v.data(), H5::PredType::NATIVE_DOUBLE);
  } catch (const H5::Exception& e) {
    throw DataError(w + ": cannot read: " + e.getDetailMsg());
  }
  return out;
}

std::string shape_str(const std::vector<hsize_t>& s) {
  std::string o = "(";
  for (std::size_t i = 0; i < s.size(); ++i) o += (i ? ", " : "") + std::to_string(s[i]);
  return o + ")";
}

/// One string attribute (scalar or a 1-element array; variable- or fixed-length). The type,
/// dataspace and length are checked before libhdf5 reads anything: libhdf5_cpp's
/// Attribute::read(StrType, std::string) assumes exactly one element and writes past its buffer
/// when the attribute holds more.
std::string read_string_attr(const H5::Group& g, const std::string& name, const std::string& where) {
  if (!g.attrExists(name)) return {};
  constexpr std::size_t kMax = 4096;
  const std::string w = where + ": attribute '" + name + "'";
  try {
    H5::Attribute a = g.openAttribute(name);
    if (a.getTypeClass() != H5T_STRING) throw DataError(w + ": must be a string");
    const H5::DataSpace sp = a.getSpace();
    const H5S_class_t sc = sp.getSimpleExtentType();
    const hssize_t points = sc == H5S_NULL ? 0 : sp.getSimpleExtentNpoints();
    if (points != 1)
      throw DataError(w + ": must hold one string, found " + std::to_string(points));
    const H5::StrType file_type = a.getStrType();
    std::string s;
    if (file_type.isVariableStr()) {
      H5::StrType mem(H5::PredType::C_S1, H5T_VARIABLE);
      mem.setCset(file_type.getCset());
      char* p = nullptr;
      a.read(mem, &p);
      if (p) {
        s.assign(p, strnlen(p, kMax + 1));
        H5free_memory(p);
      }
    } else {
      const std::size_t size = file_type.getSize();
      if (size > kMax) throw DataError(w + ": is too long (" + std::to_string(size) + " > " + std::to_string(kMax) + " characters)");
      std::vector<char> buf(size + 1, '\0');
      a.read(file_type, buf.data());   // same type in memory: no conversion, `size` bytes
      s.assign(buf.data(), strnlen(buf.data(), size));
      if (file_type.getStrpad() == H5T_STR_SPACEPAD) s.erase(s.find_last_not_of(' ') + 1);
    }
    if (s.size() > kMax) throw DataError(w + ": is too long (more than " + std::to_string(kMax) + " characters)");
    return s;
  } catch (const H5::Exception& e) {
    throw DataError(w + ": cannot read: " + e.getDetailMsg());
  }
}

bool version_stores_y_first(const std::string& v) {
  // "0.4.6" -> (0, 4): below 0.5 column 1 is y.
  int major = 0, minor = 0;
  char dot = 0;
  std::istringstream in(v);
  if (!(in >> major >> dot >> minor) || dot != '.') return false;
  return major == 0 && minor < 5;
}

/// f_expr: conjunction of "<property> <op> <number>" terms joined by '&' or 'and'.
std::vector<std::uint8_t> apply_filter(const std::string& expr, const H5::Group& objects, std::size_t rows,
                                       const std::string& where, std::size_t max_elements) {
  std::vector<std::uint8_t> keep(rows, 1);
  std::string e = expr;
  for (std::size_t p; (p = e.find(" and ")) != std::string::npos;) e.replace(p, 5, "&");
  std::stringstream ss(e);
  std::string term;
  const std::string w = where + ": attribute 'f_expr' = '" + expr + "'";
  while (std::getline(ss, term, '&')) {
    term.erase(std::remove(term.begin(), term.end(), ' '), term.end());
    if (term.empty()) continue;
    const std::size_t op_pos = term.find_first_of("<>=!");
    if (op_pos == std::string::npos || op_pos == 0) throw DataError(w + ": unsupported filter term '" + term + "'");
    std::size_t op_len = (op_pos + 1 < term.size() && term[op_pos + 1] == '=') ? 2 : 1;
    const std::string name = term.substr(0, op_pos), op = term.substr(op_pos, op_len);
    double thr = 0;
    try {
      std::size_t used = 0;
      thr = std::stod(term.substr(op_pos + op_len), &used);
      if (used != term.size() - op_pos - op_len) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw DataError(w + ": unsupported filter term '" + term + "'");
    }
    if (op != ">" && op != "<" && op != ">=" && op != "<=" && op != "==" && op != "!=")
      throw DataError(w + ": unsupported operator '" + op + "'");
    if (!objects.nameExists("properties"))
      throw DataError(w + ": property '" + name + "' is not in the objects' properties");
    const H5::Group props = objects.openGroup("properties");
    const Loaded col = load(props, name, where + ": properties", false, max_elements);
    if (col.v.size() != rows) throw DataError(w + ": property '" + name + "' has " + std::to_string(col.v.size()) +
                                              " values for " + std::to_string(rows) + " objects");
    for (std::size_t i = 0; i < rows; ++i) {
      const double x = col.v[i];
      const bool ok = op == ">" ? x > thr : op == "<" ? x < thr : op == ">=" ? x >= thr : op == "<=" ? x <= thr
                      : op == "==" ? x == thr : x != thr;
      if (!ok) keep[i] = 0;
    }
  }
  return keep;
}

/// An integer-valued double as text; values beyond int64 print as doubles (no overflowing cast).
std::string int_str(double v) {
  if (std::fabs(v) < 9.2e18) return std::to_string(std::int64_t(v));
  std::ostringstream o;
  o << v;
  return o.str();
}

/// Track ids and parents are exact in a double up to 2^53; larger values are not btrack ids.
constexpr double kMaxId = 9007199254740992.0;

Fate fate_of(int code) {
  if (code == 4) return Fate::kMitosis;
  if (code == 5) return Fate::kApoptosis;
  if (code == 20) return Fate::kLeftField;
  return Fate::kCensored;
}

/// Every dummy of one track (points [first, end) in file order) must lie within
/// `dummy_step_px` per frame of separation from the real observation before it or the one after
/// it (whichever is closer per frame): a dummy is the tracker's stand-in between real
/// observations, so a larger offset means the dummy table and the object table were read with
/// different x/y orders.
void check_dummies(const std::vector<TrackPoint>& pts, const std::vector<bool>& is_dummy, std::size_t first,
                   std::int64_t track, const std::string& tw, const BtrackReadOptions& opts, BtrackData& out) {
  for (std::size_t i = first; i < pts.size(); ++i) {
    if (!is_dummy[i]) continue;
    const TrackPoint& d = pts[i];
    const TrackPoint* best = nullptr;
    double best_rate = 0;
    for (int dir : {-1, +1}) {   // nearest real observation in time before, then after
      const TrackPoint* n = nullptr;
      for (std::size_t j = first; j < pts.size(); ++j) {
        if (is_dummy[j] || (pts[j].t - d.t) * dir <= 0) continue;
        if (!n || std::abs(pts[j].t - d.t) < std::abs(n->t - d.t)) n = &pts[j];
      }
      if (!n) continue;
      const double rate = std::hypot(n->x - d.x, n->y - d.y) / std::abs(n->t - d.t);
      if (!best || rate < best_rate) {
        best = n;
        best_rate = rate;
      }
    }
    if (!best) continue;   // a track of dummies only has nothing to compare with
    const double dist = std::hypot(best->x - d.x, best->y - d.y);
    const int frames = std::abs(best->t - d.t);
    out.max_dummy_offset_px = std::max(out.max_dummy_offset_px, best_rate);
    if (dist > opts.dummy_step_px * frames) {
      char buf[320];
      std::snprintf(buf, sizeof buf,
                    "track %lld frame %d: dummy at (x %.1f, y %.1f) lies %.1f px from the track's real observation at "
                    "frame %d (x %.1f, y %.1f); at most %.0f px per frame expected",
                    static_cast<long long>(track), d.t, d.x, d.y, dist, best->t, best->x, best->y, opts.dummy_step_px);
      const std::string order = std::string("objects read with column 1 = ") + (out.column1_is_y ? "y" : "x") +
                                " (version '" + out.version + "'" + (opts.swap_xy ? ", --swap-xy" : "") +
                                "), dummies with column 1 = x";
      throw DataError(tw + "/dummies: " + buf + " (" + order + ")",
                      opts.swap_xy ? "the file's objects and dummies disagree with --swap-xy; try without it"
                                   : "the objects' x/y order may not match the version attribute: try --swap-xy");
    }
  }
}

/// The object type to read: --object-type, else the only obj_type_* group under /tracks.
std::string pick_object_type(const H5::Group& tracks_root, const BtrackReadOptions& opts, const std::string& where) {
  if (!opts.object_type.empty()) return opts.object_type;
  std::vector<std::string> found;
  for (hsize_t i = 0; i < std::min<hsize_t>(tracks_root.getNumObjs(), 1000); ++i) {
    const std::string n = tracks_root.getObjnameByIdx(i);
    if (n.rfind("obj_type_", 0) == 0) found.push_back(n);
  }
  if (found.size() != 1)
    throw DataError(where + ": /tracks: found " + std::to_string(found.size()) +
                    " obj_type_* groups; pick one with --object-type");
  return found[0];
}

/// The objects table and the rows of it the tracker saw.
struct Objects {
  Loaded coords;
  std::size_t rows = 0, width = 0;   ///< rows and columns of coords
  std::string f_expr;                ///< the tracker's object filter (empty = none)
  std::vector<std::size_t> visible;  ///< coords rows left by f_expr: what track references index
};

/// Objects: rows [t, x, y, z, type] (the stored map is never read), then the rows visible to
/// the tracker (after f_expr).
Objects read_objects(const H5::Group& objects, const H5::Group& tracks, const std::string& ow, const std::string& tw,
                     std::size_t max_elements) {
  Objects o;
  o.coords = load(objects, "coords", ow, false, max_elements);
  const Loaded& coords = o.coords;
  if (coords.shape.size() != 2 || coords.shape[1] < 3)
    throw DataError(ow + "/coords: expected (I, 5) [t, x, y, z, type], found " + shape_str(coords.shape));
  const std::size_t I = coords.shape[0], cw = coords.shape[1];
  o.rows = I;
  o.width = cw;
  for (std::size_t i = 0; i < I; ++i) {
    const double t = coords.v[i * cw], x = coords.v[i * cw + 1], y = coords.v[i * cw + 2];
    if (!std::isfinite(t) || t < 0 || t > 1e7 || std::floor(t) != t)
      throw DataError(ow + "/coords: row " + std::to_string(i) + ": t = " + std::to_string(t) +
                      " is not a frame number (integer >= 0)");
    if (!std::isfinite(x) || !std::isfinite(y))
      throw DataError(ow + "/coords: row " + std::to_string(i) + ": NaN/Inf coordinate");
  }
  o.f_expr = read_string_attr(tracks, "f_expr", tw);
  if (o.f_expr.empty()) {
    o.visible.resize(I);
    for (std::size_t i = 0; i < I; ++i) o.visible[i] = i;
  } else {
    const auto keep = apply_filter(o.f_expr, objects, I, tw, max_elements);
    for (std::size_t i = 0; i < I; ++i)
      if (keep[i]) o.visible.push_back(i);
  }
  return o;
}

/// The track tables of one object type: references, slices, LBEPR, fates and dummies.
struct TrackTables {
  Loaded refs, map, lbepr, dummies;
  std::size_t tracks = 0, lbepr_width = 0;   ///< K, and LBEPR's columns
  std::vector<double> fates;                 ///< one btrack fate code per track (2 when absent)
  std::size_t dummy_rows = 0, dummy_width = 0;
};

/// Reads and shape-checks tracks, map, LBEPR and the optional fates and dummies.
TrackTables read_track_tables(const H5::Group& tracks, const std::string& tw, std::size_t max_elements) {
  TrackTables tt;
  tt.refs = load(tracks, "tracks", tw, true, max_elements);
  tt.map = load(tracks, "map", tw, true, max_elements);
  tt.lbepr = load(tracks, "LBEPR", tw, true, max_elements);
  const Loaded &refs = tt.refs, &map = tt.map, &lbepr = tt.lbepr;
  if (refs.shape.size() != 1 && !(refs.shape.size() == 2 && refs.shape[1] == 1))
    throw DataError(tw + "/tracks: expected (N,) object references, found " + shape_str(refs.shape));
  if (map.shape.size() != 2 || map.shape[1] != 2)
    throw DataError(tw + "/map: expected (K, 2) [start, end), found " + shape_str(map.shape));
  const std::size_t K = map.shape[0];
  if (lbepr.shape.size() != 2 || lbepr.shape[0] != K || lbepr.shape[1] < 4)
    throw DataError(tw + "/LBEPR: expected (" + std::to_string(K) + ", 6) [L, B, E, P, R, G], found " +
                    shape_str(lbepr.shape));
  tt.tracks = K;
  tt.lbepr_width = lbepr.shape[1];
  if (K == 0) throw DataError(tw + ": no tracks");
  tt.fates.assign(K, 2);
  if (tracks.nameExists("fates")) {
    const Loaded f = load(tracks, "fates", tw, true, max_elements);
    if (f.shape.empty() || f.shape[0] != K || f.v.size() < K)
      throw DataError(tw + "/fates: expected (" + std::to_string(K) + ",), found " + shape_str(f.shape));
    const std::size_t fw = f.v.size() / K;
    for (std::size_t k = 0; k < K; ++k) tt.fates[k] = f.v[k * fw];
  }
  if (tracks.nameExists("dummies")) {
    tt.dummies = load(tracks, "dummies", tw, false, max_elements);
    if (!tt.dummies.v.empty() && (tt.dummies.shape.size() != 2 || tt.dummies.shape[1] < 3))
      throw DataError(tw + "/dummies: expected (M, 5) [t, x, y, z, type], found " + shape_str(tt.dummies.shape));
  }
  // An empty table of any shape, e.g. (M, 0), holds no dummies.
  tt.dummy_rows = tt.dummies.v.empty() ? 0 : tt.dummies.shape[0];
  tt.dummy_width = tt.dummy_rows ? tt.dummies.shape[1] : 0;
  return tt;
}

/// Track `k` from its LBEPR row and fate code (no points yet).
Track read_track_row(const TrackTables& tt, std::size_t k, const std::string& tw) {
  const double* row = &tt.lbepr.v[k * tt.lbepr_width];
  const std::string rec = tw + "/LBEPR: row " + std::to_string(k) + " (track " + int_str(row[0]) + ")";
  if (std::fabs(row[0]) > kMaxId || std::fabs(row[3]) > kMaxId)
    throw DataError(rec + ": id " + int_str(row[0]) + " or parent " + int_str(row[3]) + " beyond +-2^53");
  Track t;
  t.id = std::int64_t(row[0]);
  t.start = std::int32_t(std::clamp(row[1], -1.0, 1e7));
  t.end = std::int32_t(std::clamp(row[2], -1.0, 1e7));
  t.parent = std::int64_t(row[3]);
  if (t.parent == t.id) t.parent = 0;   // btrack roots: parent == own id
  if (t.parent < 0) throw DataError(rec + ": parent " + std::to_string(t.parent) + " must be >= 0");
  const double fate = tt.fates[k];
  const int code = fate >= -1 && fate <= 1000 ? int(fate) : -1;
  if (!kKnownFates.count(code) || double(code) != fate)
    throw DataError(tw + "/fates: row " + std::to_string(k) + " (track " + std::to_string(t.id) + "): fate code " +
                    std::to_string(fate) + " is not a btrack Fates value");
  t.fate = fate_of(code);
  return t;
}

/// The row a track reference points at: object `ref` (>= 0) of the visible objects, or dummy
/// -ref-1 (then `*dummy` is set and counted).
const double* observation(double ref, const Objects& o, const TrackTables& tt, const Track& t, const std::string& tw,
                          bool* dummy, BtrackData& out) {
  if (ref >= 0) {
    if (ref >= double(o.visible.size()))
      throw DataError(tw + "/tracks: reference " + int_str(ref) + " of track " + std::to_string(t.id) + " exceeds the " +
                      std::to_string(o.visible.size()) + " objects" + (o.f_expr.empty() ? "" : " left by f_expr"));
    return &o.coords.v[o.visible[std::size_t(ref)] * o.width];
  }
  const double d = -ref - 1;
  if (d >= double(tt.dummy_rows))
    throw DataError(tw + "/tracks: dummy reference " + int_str(ref) + " of track " + std::to_string(t.id) +
                    " exceeds the " + std::to_string(tt.dummy_rows) + " dummies");
  const double* obs = &tt.dummies.v[std::size_t(d) * tt.dummy_width];
  if (!std::isfinite(obs[0]) || !std::isfinite(obs[1]) || !std::isfinite(obs[2]) || obs[0] < 0 ||
      std::floor(obs[0]) != obs[0] || obs[0] > 1e7)
    throw DataError(tw + "/dummies: row " + int_str(d) + ": invalid t or NaN/Inf coordinate");
  ++out.dummies;
  *dummy = true;
  return obs;
}

/// Appends the observations of track `k` (its map slice of references) to `out.tracks.points`,
/// each within the track's frames and at most one per frame; `is_dummy` grows alongside.
void read_track_points(const Track& t, std::size_t k, const Objects& o, const TrackTables& tt, const std::string& tw,
                       std::vector<bool>& is_dummy, BtrackData& out) {
  const double s = tt.map.v[2 * k], e = tt.map.v[2 * k + 1];
  if (s < 0 || e < s || e > double(tt.refs.v.size()))
    throw DataError(tw + "/map: row " + std::to_string(k) + " (track " + std::to_string(t.id) + "): slice [" +
                    int_str(s) + ", " + int_str(e) + ") outside tracks (" + std::to_string(tt.refs.v.size()) +
                    " references)");
  if (e == s)
    throw DataError(tw + "/map: row " + std::to_string(k) + " (track " + std::to_string(t.id) + "): track has no observations");
  std::set<std::int32_t> seen_t;
  for (std::size_t r = std::size_t(s); r < std::size_t(e); ++r) {
    bool dummy = false;
    const double* obs = observation(tt.refs.v[r], o, tt, t, tw, &dummy, out);
    TrackPoint p;
    p.track_id = t.id;
    p.t = std::int32_t(obs[0]);
    // Objects follow the version (+ --swap-xy); dummies are always [t, x, y, ...].
    const bool y_first = !dummy && out.column1_is_y;
    p.x = y_first ? obs[2] : obs[1];
    p.y = y_first ? obs[1] : obs[2];
    p.parent = t.parent;
    if (p.t < t.start || p.t > t.end)
      throw DataError(tw + "/tracks: track " + std::to_string(t.id) + ": observation at frame " + std::to_string(p.t) +
                      " outside its LBEPR frames [" + std::to_string(t.start) + ", " + std::to_string(t.end) + "]");
    if (!seen_t.insert(p.t).second)
      throw DataError(tw + "/tracks: track " + std::to_string(t.id) + ": two observations at frame " + std::to_string(p.t));
    out.tracks.points.push_back(p);
    is_dummy.push_back(dummy);
  }
}

}  // namespace

BtrackData read_btrack_file(H5::H5File& file, const std::string& where, const BtrackReadOptions& opts,
                            std::size_t max_elements) {
  BtrackData out;
  try {
    if (!file.nameExists("objects")) throw DataError(where + ": /objects: group missing (not a btrack file?)");
    if (!file.nameExists("tracks")) throw DataError(where + ": /tracks: group missing (the file holds no tracks)");
    const H5::Group objects_root = file.openGroup("objects");
    const H5::Group tracks_root = file.openGroup("tracks");
    const std::string type = pick_object_type(tracks_root, opts, where);
    if (!objects_root.nameExists(type)) throw DataError(where + ": /objects/" + type + ": group missing");
    if (!tracks_root.nameExists(type)) throw DataError(where + ": /tracks/" + type + ": group missing");
    const H5::Group objects = objects_root.openGroup(type);
    const H5::Group tracks = tracks_root.openGroup(type);
    const std::string ow = where + ": /objects/" + type, tw = where + ": /tracks/" + type;

    out.version = read_string_attr(tracks, "version", tw);
    out.column1_is_y = version_stores_y_first(out.version) != opts.swap_xy;
    out.has_segmentation = file.nameExists("segmentation") && file.openGroup("segmentation").nameExists("images");
    const Objects o = read_objects(objects, tracks, ow, tw, max_elements);
    const TrackTables tt = read_track_tables(tracks, tw, max_elements);

    TrackSet& ts = out.tracks;
    ts.source = where;
    std::vector<bool> is_dummy;   // parallel to ts.points while tracks are read
    for (std::size_t k = 0; k < tt.tracks; ++k) {
      const Track t = read_track_row(tt, k, tw);
      const std::size_t first_point = ts.points.size();
      read_track_points(t, k, o, tt, tw, is_dummy, out);
      check_dummies(ts.points, is_dummy, first_point, t.id, tw, opts, out);
      ts.tracks.push_back(t);
    }
    if (ts.tracks.empty()) throw DataError(tw + ": no tracks");
    ts.sort_points();
    ts.validate(tw + "/LBEPR");
  } catch (const H5::Exception& e) {
    throw DataError(where + ": cannot read: " + e.getDetailMsg());
  }
  return out;
}

BtrackData read_btrack(const fs::path& path, const BtrackReadOptions& opts) {
  H5::Exception::dontPrint();
  check_input_file(path, InputFormat::kHdf5, "btrack HDF5 file");
  std::unique_ptr<H5::H5File> file;
  try {
    file = std::make_unique<H5::H5File>(path.string(), H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw IoError(path.string() + ": cannot open as HDF5 (corrupt file?): " + e.getDetailMsg());
  }
  return read_btrack_file(*file, path.string(), opts, std::size_t{1} << 28);
}

BtrackData read_btrack_image(const void* data, std::size_t size, const std::string& where,
                             const BtrackReadOptions& opts, std::size_t max_elements) {
  H5::Exception::dontPrint();
  std::unique_ptr<H5::H5File> file;
  try {
    H5::FileAccPropList fapl;
    if (H5Pset_fapl_core(fapl.getId(), 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl.getId(), const_cast<void*>(data), size) < 0)
      throw DataError(where + ": cannot set up an in-memory HDF5 image");
    file = std::make_unique<H5::H5File>(where, H5F_ACC_RDONLY, H5::FileCreatPropList::DEFAULT, fapl);
  } catch (const H5::Exception& e) {
    throw IoError(where + ": cannot open as HDF5 (corrupt file?): " + e.getDetailMsg());
  }
  return read_btrack_file(*file, where, opts, max_elements);
}

IoSummary import_btrack(const BtrackImportOptions& opts, const fs::path& out_dir) {
  BtrackData data = read_btrack(opts.file, opts.read);
  const std::string order = "btrack version '" + data.version + "': coords column 1 read as " +
                            (data.column1_is_y ? "y" : "x") + (opts.read.swap_xy ? " (--swap-xy)" : "") +
                            ", dummies as x";
  if (opts.movie.empty()) {
    if (!opts.segmentation.empty())
      throw ConfigError("--segmentation " + opts.segmentation.string() + ": needs --movie (tracks alone carry no images)");
    MovieImportOptions mo = opts.movie_opts;
    if (mo.name.empty()) mo.name = opts.file.stem().string();
    IoSummary s = write_tracks_dataset(std::move(data.tracks), mo, out_dir, "import btrack");
    s.notes.insert(s.notes.begin(), order);
    if (data.dummies) s.counts["dummy observations"] = data.dummies;
    return s;
  }
  auto frames = tiff_stack_frames(opts.movie);
  std::unique_ptr<LabelSource> labels;
  if (!opts.segmentation.empty()) labels = tiff_stack_labels(opts.segmentation);
  else if (data.has_segmentation) labels = hdf5_labels(opts.file, "segmentation/images");
  MovieImportOptions mo = opts.movie_opts;
  if (mo.name.empty()) mo.name = opts.file.stem().string();
  mo.outside_hint = opts.read.swap_xy ? "--swap-xy was given: the objects may be in the order the version implies; try without it"
                                      : "x and y may be swapped: try --swap-xy";
  IoSummary s = write_movie_dataset(*frames, labels.get(), std::move(data.tracks), PointLabels::kFromPosition, mo,
                                    out_dir, "import btrack");
  s.notes.insert(s.notes.begin(), order);
  if (data.dummies) s.counts["dummy observations"] = data.dummies;
  return s;
}

}  // namespace taupe::io
