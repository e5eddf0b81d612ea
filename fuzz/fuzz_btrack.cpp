// libFuzzer, structure-aware: the fuzz bytes are decoded into a btrack layout (objects, tracks,
// map, LBEPR, fates, dummies, properties, version / f_expr attributes, object-type groups) and
// a list of damages (odd values, shapes, datatypes, missing parts). The target writes that as a
// *valid* HDF5 file with libhdf5 (in memory), then runs taupe's btrack reader on its image. So
// it fuzzes taupe's validation logic, not libhdf5's metadata decoder: untrusted raw HDF5 bytes
// can crash libhdf5 1.10 itself (see docs/import-export.md, "Fuzzing").
//
// Decoding: every choice reads 0 as "the ordinary btrack file", so short inputs describe a
// well-formed file. A file without damages must import, and its tracks, parents, fates and
// positions must be the ones written (the oracle below); otherwise the reader must either
// throw taupe::DataError or return a track set that passes TrackSet::validate.
#include <H5Cpp.h>
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "taupe/core/errors.h"
#include "taupe/io/btrack.h"

namespace {

using taupe::Fate;

/// File datatypes a dataset can be written with (index 0 = btrack's own choice).
const H5::PredType* file_type(int i, bool integer) {
  switch (i) {
    case 1: return &H5::PredType::IEEE_F64LE;
    case 2: return &H5::PredType::IEEE_F32BE;
    case 3: return &H5::PredType::STD_I64LE;
    case 4: return &H5::PredType::STD_U64LE;
    case 5: return &H5::PredType::STD_U8LE;
    case 6: return &H5::PredType::STD_I16BE;
    case 7: return &H5::PredType::STD_U32LE;
    case 8: return &H5::PredType::IEEE_F32LE;
    case 9: return &H5::PredType::STD_I32BE;
    case 10: return &H5::PredType::IEEE_F64BE;
    case 11: return &H5::PredType::STD_I8LE;
    default: return integer ? &H5::PredType::STD_I32LE : &H5::PredType::IEEE_F32LE;
  }
}
constexpr int kTypes = 14;   // 12 = fixed-length strings, 13 = 20-bit integers (non-standard precision)

struct Arr {
  Arr(std::string n, bool i) : name(std::move(n)), integer(i) {}
  std::string name;
  bool integer = false;
  bool present = true;
  int type = 0;
  std::vector<hsize_t> dims;
  std::vector<double> v;
  /// Number of values, saturating at 2^32 (damaged shapes can be large).
  std::size_t count() const {
    std::size_t n = 1;
    for (hsize_t d : dims) n = d && n > (std::size_t{1} << 32) / d ? (std::size_t{1} << 32) : n * std::size_t(d);
    return n;
  }
};

template <class T>
T saturate(double x) {
  if (std::isnan(x)) return 0;
  if (x <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  if (x >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  return T(x);
}

void write(H5::Group& g, const Arr& a) {
  if (!a.present) return;
  H5::DataSpace sp = a.dims.empty() ? H5::DataSpace(H5S_SCALAR) : H5::DataSpace(int(a.dims.size()), a.dims.data());
  const std::size_t n = a.count();
  if (a.type == 12) {
    H5::StrType st(H5::PredType::C_S1, 4);
    H5::DataSet ds = g.createDataSet(a.name, st, sp);
    if (n) ds.write(std::string(4 * n, '1').data(), st);
    return;
  }
  H5::IntType odd(H5::PredType::STD_I32LE);
  if (a.type == 13) odd.setPrecision(20);
  const H5::DataType& ft = a.type == 13 ? static_cast<const H5::DataType&>(odd)
                                        : static_cast<const H5::DataType&>(*file_type(a.type, a.integer));
  H5::DataSet ds = g.createDataSet(a.name, ft, sp);
  if (!n) return;
  std::vector<double> v = a.v;
  v.resize(n, 0.0);
  const H5T_class_t cls = ft.getClass();
  if (cls == H5T_FLOAT) {
    ds.write(v.data(), H5::PredType::NATIVE_DOUBLE);
  } else if (H5Tget_sign(ft.getId()) == H5T_SGN_NONE) {
    std::vector<std::uint64_t> u(n);
    for (std::size_t i = 0; i < n; ++i) u[i] = saturate<std::uint64_t>(v[i]);
    ds.write(u.data(), H5::PredType::NATIVE_UINT64);
  } else {
    std::vector<std::int64_t> s(n);
    for (std::size_t i = 0; i < n; ++i) s[i] = saturate<std::int64_t>(v[i]);
    ds.write(s.data(), H5::PredType::NATIVE_INT64);
  }
}

/// A string attribute in one of the forms btrack/h5py files (and broken files) use.
void string_attr(H5::Group& g, const std::string& name, const std::string& value, int form) {
  switch (form) {
    case 0: {   // h5py's default: scalar variable-length UTF-8
      H5::StrType st(H5::PredType::C_S1, H5T_VARIABLE);
      st.setCset(H5T_CSET_UTF8);
      g.createAttribute(name, st, H5::DataSpace(H5S_SCALAR)).write(st, value);
      break;
    }
    case 1:     // fixed length, NUL padded (numpy 'S')
    case 2: {   // fixed length, space padded (Fortran-style)
      std::string padded = value.empty() ? std::string(1, form == 1 ? '\0' : ' ') : value;
      H5::StrType st(H5::PredType::C_S1, padded.size());
      st.setStrpad(form == 1 ? H5T_STR_NULLPAD : H5T_STR_SPACEPAD);
      g.createAttribute(name, st, H5::DataSpace(H5S_SCALAR)).write(st, padded.data());
      break;
    }
    case 3: {   // an integer where a string belongs
      const int x = 6;
      g.createAttribute(name, H5::PredType::STD_I32LE, H5::DataSpace(H5S_SCALAR)).write(H5::PredType::NATIVE_INT, &x);
      break;
    }
    case 4: {   // two variable-length strings
      H5::StrType st(H5::PredType::C_S1, H5T_VARIABLE);
      const hsize_t two = 2;
      const char* v[2] = {value.c_str(), "0.4.6"};
      g.createAttribute(name, st, H5::DataSpace(1, &two)).write(st, v);
      break;
    }
    case 5: {   // two fixed-length strings
      const hsize_t two = 2;
      H5::StrType st(H5::PredType::C_S1, 8);
      std::string both(16, '\0');
      both.replace(0, std::min<std::size_t>(8, value.size()), value.substr(0, 8));
      both.replace(8, 5, "0.4.6");
      g.createAttribute(name, st, H5::DataSpace(1, &two)).write(st, both.data());
      break;
    }
    case 6: {   // an empty (null) dataspace
      H5::StrType st(H5::PredType::C_S1, H5T_VARIABLE);
      g.createAttribute(name, st, H5::DataSpace(H5S_NULL));
      break;
    }
    default: {  // a very long fixed-length string
      const std::string big(5000, 'v');   // beyond the reader's 4096 characters
      H5::StrType st(H5::PredType::C_S1, big.size());
      g.createAttribute(name, st, H5::DataSpace(H5S_SCALAR)).write(st, big.data());
      break;
    }
  }
}

double interesting(FuzzedDataProvider& in) {
  static const double k[] = {0, 1, -1, 2, -2, 0.5, -0.5, 3, 1e7, 1e7 + 1, 2147483647.0, 2147483648.0,
                             -2147483649.0, 4294967296.0, 9007199254740993.0, 9.3e18, -9.3e18, 1.9e19, 1e300,
                             -0.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity()};
  const std::size_t n = sizeof k / sizeof k[0];
  const std::size_t i = in.ConsumeIntegralInRange<std::size_t>(0, n);
  return i < n ? k[i] : double(in.ConsumeIntegralInRange<int>(-20, 60));
}

struct Expected {
  std::int64_t id, parent;
  int start, end;
  Fate fate;
  std::vector<int> t;
  std::vector<double> x, y;
};

Fate fate_of_code(int c) {
  return c == 4 ? Fate::kMitosis : c == 5 ? Fate::kApoptosis : c == 20 ? Fate::kLeftField : Fate::kCensored;
}

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_btrack oracle: %s %s\n", what, detail.c_str());
  __builtin_trap();
}

void run(FuzzedDataProvider& in) {
  bool pristine = true;   // no damage: the file must import as written
  // --- A lineage as btrack stores it.
  static const int kCodes[] = {2, 4, 5, 20, 0, 1, 3, 6, 7, 10, 11, 12, 21, 22, 666, 999};
  const int K = in.ConsumeIntegralInRange<int>(1, 12);
  const std::int64_t id0 = in.ConsumeIntegralInRange<std::int64_t>(1, 1000);
  struct Obs { int t; double x, y; bool dummy; std::size_t row; };
  std::vector<Expected> ex;
  std::vector<std::vector<Obs>> obs(static_cast<std::size_t>(K));
  std::vector<int> code(static_cast<std::size_t>(K));
  std::vector<bool> root_self(static_cast<std::size_t>(K));
  for (int k = 0; k < K; ++k) {
    Expected e;
    e.id = id0 + k;
    const int p = in.ConsumeIntegralInRange<int>(0, k);   // 0 = root, else a child of track p - 1
    e.parent = p ? ex[std::size_t(p - 1)].id : 0;
    e.start = p ? ex[std::size_t(p - 1)].end + 1 + in.ConsumeIntegralInRange<int>(0, 2) : in.ConsumeIntegralInRange<int>(0, 5);
    e.end = e.start + in.ConsumeIntegralInRange<int>(0, 5);
    root_self[std::size_t(k)] = !in.ConsumeBool();
    code[std::size_t(k)] = kCodes[in.ConsumeIntegralInRange<std::size_t>(0, sizeof kCodes / sizeof kCodes[0] - 1)];
    e.fate = fate_of_code(code[std::size_t(k)]);
    for (int t = e.start; t <= e.end; ++t) {
      const bool gap = t != e.start && in.ConsumeIntegralInRange<int>(0, 7) == 7;
      if (gap) continue;
      Obs o{t, in.ConsumeIntegralInRange<int>(0, 400) + 0.25 * in.ConsumeIntegralInRange<int>(0, 3),
            in.ConsumeIntegralInRange<int>(0, 300) + 0.5 * in.ConsumeBool(), in.ConsumeIntegralInRange<int>(0, 5) == 5, 0};
      if (o.dummy) {   // btrack fills a gap after a real observation, at (about) its position
        const Obs* prev = nullptr;
        for (const Obs& q : obs[std::size_t(k)])
          if (!q.dummy) prev = &q;
        if (prev) {
          o.x = prev->x;
          o.y = prev->y;
        } else {
          o.dummy = false;
        }
      }
      obs[std::size_t(k)].push_back(o);
      e.t.push_back(o.t);
      e.x.push_back(o.x);
      e.y.push_back(o.y);
    }
    ex.push_back(e);
  }
  // --- Version (x/y order), reading options, attributes.
  static const char* kVersions[] = {"0.6.1", "0.4.6", "0.6.5", "0.4.2", "", "0.5.0", "1.2.3", "0.3.9"};
  static const bool kYFirst[] = {false, true, false, true, false, false, false, true};
  const std::size_t vi = in.ConsumeIntegralInRange<std::size_t>(0, 7);
  const int vform = in.ConsumeIntegralInRange<int>(0, 2);   // vlen, fixed NUL-padded, fixed space-padded
  const bool no_version = vi == 4;
  const bool y_first = kYFirst[vi];
  taupe::io::BtrackReadOptions opts;
  opts.swap_xy = in.ConsumeBool();
  const int fexpr = in.ConsumeIntegralInRange<int>(0, 2);   // 0 none, 1 "area > 50", 2 "area >= 50 and perimeter != -1"
  const int n_noise = in.ConsumeIntegralInRange<int>(0, 6);
  const bool shuffle = in.ConsumeBool();
  const bool fates_present = !in.ConsumeBool();
  const bool segmentation = in.ConsumeBool();
  const int type_mode = in.ConsumeIntegralInRange<int>(0, 2);   // 0 one type, 1 named in options, 2 two types + option
  if (type_mode) opts.object_type = "obj_type_1";

  // --- Objects: observation rows (+ rows no track uses), in frame order as btrack writes them.
  struct Row { int t; double x, y, area; int track, obs; };
  std::vector<Row> rows;
  for (int k = 0; k < K; ++k)
    for (std::size_t j = 0; j < obs[std::size_t(k)].size(); ++j)
      if (!obs[std::size_t(k)][j].dummy) rows.push_back({obs[std::size_t(k)][j].t, obs[std::size_t(k)][j].x, obs[std::size_t(k)][j].y, 60.0 + j, k, int(j)});
  for (int i = 0; i < n_noise; ++i)
    rows.push_back({in.ConsumeIntegralInRange<int>(0, 20), double(in.ConsumeIntegralInRange<int>(0, 99)), 1.0,
                    double(in.ConsumeIntegralInRange<int>(0, 99)), -1, -1});
  if (shuffle) {
    for (std::size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[in.ConsumeIntegralInRange<std::size_t>(0, i - 1)]);
  } else {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.t < b.t; });
  }
  Arr coords{"coords", false}, props{"area", false}, perim{"perimeter", false};
  coords.dims = {rows.size(), 5};
  props.dims = perim.dims = {rows.size()};
  std::size_t visible = 0;
  for (const Row& r : rows) {
    coords.v.insert(coords.v.end(), {double(r.t), y_first ? r.y : r.x, y_first ? r.x : r.y, 0.0, 1.0});
    props.v.push_back(r.area);
    perim.v.push_back(r.track >= 0 ? 1.0 : double(r.track));
    const bool shown = fexpr == 0 || (fexpr == 1 ? r.area > 50 : r.area >= 50 && r.track >= 0);
    if (r.track >= 0) obs[std::size_t(r.track)][std::size_t(r.obs)].row = visible;
    if (shown) ++visible;
  }
  // --- Tracks: references, map slices, LBEPR, fates, dummies.
  Arr refs{"tracks", true}, map{"map", true}, lbepr{"LBEPR", true}, fates{"fates", true}, dummies{"dummies", false};
  std::size_t n_dummies = 0;
  for (int k = 0; k < K; ++k) {
    const Expected& e = ex[std::size_t(k)];
    map.v.push_back(double(refs.v.size()));
    for (const Obs& o : obs[std::size_t(k)]) {
      if (o.dummy) {
        // Dummies are [t, x, y, z] whatever the version (docs/decisions.md); only objects follow it.
        dummies.v.insert(dummies.v.end(), {double(o.t), o.x, o.y, 0.0, 1.0});
        refs.v.push_back(-double(++n_dummies));
      } else {
        refs.v.push_back(double(o.row));
      }
    }
    map.v.push_back(double(refs.v.size()));
    const double parent = e.parent ? double(e.parent) : root_self[std::size_t(k)] ? double(e.id) : 0.0;
    lbepr.v.insert(lbepr.v.end(), {double(e.id), double(e.start), double(e.end), parent, double(id0), 0.0});
    fates.v.push_back(code[std::size_t(k)]);
  }
  refs.dims = {refs.v.size()};
  map.dims = {hsize_t(K), 2};
  lbepr.dims = {hsize_t(K), 6};
  fates.dims = {hsize_t(K)};
  fates.present = fates_present;
  dummies.dims = {n_dummies, 5};
  dummies.present = n_dummies > 0 || in.ConsumeBool();
  // --swap-xy turns the objects but not the dummies: a file read that way may be refused by the
  // dummy-position check, so it is not held to the import-as-written oracle.
  if (opts.swap_xy && n_dummies > 0) pristine = false;

  // --- Damage: each step changes one thing; any step makes the file non-pristine.
  Arr* arrays[] = {&coords, &refs, &map, &lbepr, &fates, &dummies, &props, &perim};
  const std::size_t n_arrays = sizeof arrays / sizeof arrays[0];
  bool no_objects = false, no_tracks = false, missing_type = false;
  int version_damage = -1, fexpr_damage = -1;
  std::string version_text = kVersions[vi];
  for (int step = 0; step < 48 && in.remaining_bytes() > 0; ++step) {
    const int op = in.ConsumeIntegralInRange<int>(0, 12);
    if (op == 0) continue;   // no-op keeps short runs of bytes cheap
    pristine = false;
    Arr& a = *arrays[in.ConsumeIntegralInRange<std::size_t>(0, n_arrays - 1)];
    switch (op) {
      case 1: case 2: case 3: case 4: {   // one value
        if (a.v.empty()) break;
        a.v[in.ConsumeIntegral<std::uint16_t>() % a.v.size()] = interesting(in);
        break;
      }
      case 5: {   // a whole column (e.g. every parent, every t)
        const std::size_t w = a.dims.size() == 2 && a.dims[1] ? std::size_t(a.dims[1]) : 1;
        const std::size_t c = in.ConsumeIntegralInRange<std::size_t>(0, w - 1);
        const double x = interesting(in);
        for (std::size_t i = c; i < a.v.size(); i += w) a.v[i] = x;
        break;
      }
      case 6: {   // shape
        const int how = in.ConsumeIntegralInRange<int>(0, 5);
        if (how == 0) a.dims = {hsize_t(a.v.size())};
        else if (how == 1) a.dims.push_back(1);
        else if (how == 2) a.dims.clear();
        else if (how == 3 && a.dims.size() == 2) std::swap(a.dims[0], a.dims[1]);
        else if (!a.dims.empty()) a.dims[in.ConsumeIntegralInRange<std::size_t>(0, a.dims.size() - 1)] = in.ConsumeIntegralInRange<hsize_t>(0, 7);
        if (a.dims.size() > 6 || a.count() > 4096) a.dims = {hsize_t(a.v.size())};
        a.v.resize(a.count(), 0.0);
        break;
      }
      case 7: a.type = in.ConsumeIntegralInRange<int>(1, kTypes - 1); break;
      case 8: a.present = false; break;
      case 9: {
        const int which = in.ConsumeIntegralInRange<int>(0, 4);
        if (which == 0) no_objects = true;
        else if (which == 1) no_tracks = true;
        else if (which == 2) missing_type = true;
        else if (which == 3) opts.object_type = in.ConsumeBool() ? "obj_type_9" : "";
        else for (Arr* t : {&refs, &map, &lbepr, &fates, &dummies}) {   // a file without tracks (empty tables)
          if (!t->dims.empty()) t->dims[0] = 0;
          t->v.clear();
        }
        break;
      }
      case 10: version_damage = in.ConsumeIntegralInRange<int>(3, 7); break;
      case 11: version_text = in.ConsumeRandomLengthString(24); break;
      default: fexpr_damage = in.ConsumeIntegralInRange<int>(0, 4); break;
    }
  }

  // --- Write the file in memory and read its image back.
  std::vector<char> image;
  try {
    H5::FileAccPropList fapl;
    H5Pset_fapl_core(fapl.getId(), 1 << 16, 0);
    H5::H5File f("fuzz_btrack_in_memory.h5", H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, fapl);
    if (!no_objects) {
      H5::Group root = f.createGroup("objects");
      H5::Group o = root.createGroup("obj_type_1");
      write(o, coords);
      H5::Group p = o.createGroup("properties");
      write(p, props);
      write(p, perim);
      if (type_mode == 2) root.createGroup("obj_type_2");
    }
    if (!no_tracks) {
      H5::Group root = f.createGroup("tracks");
      H5::Group t = root.createGroup(missing_type ? "obj_type_3" : "obj_type_1");
      if (type_mode == 2) root.createGroup("obj_type_2");
      if (version_damage >= 0) string_attr(t, "version", version_text, version_damage);
      else if (!no_version || version_text != kVersions[vi]) string_attr(t, "version", version_text, vform);
      if (fexpr_damage >= 0) {
        static const char* kBad[] = {"area >> 5", "nosuch > 1", "area > 1e999", "area", " and & "};
        string_attr(t, "f_expr", kBad[fexpr_damage], 0);
      } else if (fexpr) {
        string_attr(t, "f_expr", fexpr == 1 ? "area > 50" : "area>=50 and perimeter != -1", vform);
      }
      for (Arr* a : {&refs, &map, &lbepr, &fates, &dummies}) write(t, *a);
    }
    if (segmentation) f.createGroup("segmentation").createGroup("images");
    f.flush(H5F_SCOPE_GLOBAL);
    const ssize_t n = H5Fget_file_image(f.getId(), nullptr, 0);
    if (n <= 0) fail("H5Fget_file_image failed");
    image.resize(std::size_t(n));
    if (H5Fget_file_image(f.getId(), image.data(), image.size()) != n) fail("H5Fget_file_image changed size");
  } catch (const H5::Exception& e) {
    fail("libhdf5 refused to write the fuzz file:", e.getDetailMsg());
  }

  taupe::io::BtrackData got;
  try {
    got = taupe::io::read_btrack_image(image.data(), image.size(), "fuzz.h5", opts, std::size_t{1} << 16);
  } catch (const taupe::DataError& e) {
    if (pristine) fail("an undamaged file was rejected:", e.what());
    return;
  }
  got.tracks.validate("fuzz_btrack result");   // throws (= a finding) if the reader let a bad set through
  if (!pristine) return;

  // --- Oracle: an undamaged file imports exactly as written.
  if (got.version != version_text) fail("version", got.version);
  const bool col1_y = y_first != opts.swap_xy;
  if (got.column1_is_y != col1_y) fail("column1_is_y");
  if (got.has_segmentation != segmentation) fail("has_segmentation");
  if (got.dummies != n_dummies) fail("dummies", std::to_string(got.dummies));
  if (got.tracks.tracks.size() != ex.size()) fail("track count");
  std::size_t p = 0;
  for (const Expected& e : ex) {   // ids ascend, so sorted points follow the same order
    const std::ptrdiff_t i = got.tracks.find(e.id);
    if (i < 0) fail("track missing", std::to_string(e.id));
    const taupe::Track& t = got.tracks.tracks[std::size_t(i)];
    const Fate fate = fates_present ? e.fate : Fate::kCensored;   // no fates table: all censored
    if (t.start != e.start || t.end != e.end || t.parent != e.parent || t.fate != fate)
      fail("track record", std::to_string(e.id) + ": got [" + std::to_string(t.start) + ", " + std::to_string(t.end) +
                               "] parent " + std::to_string(t.parent) + " fate " + std::to_string(int(t.fate)) +
                               ", wrote [" + std::to_string(e.start) + ", " + std::to_string(e.end) + "] parent " +
                               std::to_string(e.parent) + " fate " + std::to_string(int(fate)));
    for (std::size_t j = 0; j < e.t.size(); ++j, ++p) {
      if (p >= got.tracks.points.size()) fail("too few points");
      const taupe::TrackPoint& q = got.tracks.points[p];
      const double x = opts.swap_xy ? e.y[j] : e.x[j], y = opts.swap_xy ? e.x[j] : e.y[j];
      if (q.track_id != e.id || q.t != e.t[j] || q.x != x || q.y != y || q.parent != e.parent)
        fail("point", std::to_string(e.id) + " t " + std::to_string(e.t[j]));
    }
  }
  if (p != got.tracks.points.size()) fail("too many points");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  H5::Exception::dontPrint();
  FuzzedDataProvider in(data, size);
  try {
    run(in);
  } catch (const taupe::DataError& e) {
    fail("DataError outside the reader:", e.what());
  }
  return 0;
}
