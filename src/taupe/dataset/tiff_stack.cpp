#include "taupe/dataset/tiff_stack.h"

#include <tiffio.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <type_traits>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"
#include "taupe/dataset/input_file.h"
#include "taupe/dataset/ome_xml.h"

namespace taupe {
namespace fs = std::filesystem;
namespace {

// ---- libtiff diagnostics: captured, never printed -----------------------------------------
thread_local std::string g_tiff_error;

void on_tiff_error(const char* module, const char* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  g_tiff_error = (module && *module ? std::string(module) + ": " : std::string()) + buf;
}
void on_tiff_warning(const char*, const char*, va_list) {}

void install_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(on_tiff_error);
    TIFFSetWarningHandler(on_tiff_warning);
  });
}

std::string take_error() {
  std::string e = g_tiff_error;
  g_tiff_error.clear();
  return e.empty() ? "" : " (" + e + ")";
}

struct TiffCloser {
  void operator()(TIFF* t) const {
    if (t) TIFFClose(t);
  }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

TiffPtr open_read(const fs::path& path) {
  install_handlers();
  check_input_file(path, InputFormat::kTiff);
  g_tiff_error.clear();
  TiffPtr t(TIFFOpen(path.c_str(), "r"));
  if (!t) {
    const std::string why = take_error();
    char magic[4] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(magic, 4);
    const bool tiff_header = (magic[0] == 'I' && magic[1] == 'I' && (magic[2] == 42 || magic[2] == 43)) ||
                             (magic[0] == 'M' && magic[1] == 'M' && (magic[3] == 42 || magic[3] == 43));
    throw IoError(path.string() + (tiff_header ? ": TIFF file is truncated or corrupt" : ": cannot open as TIFF") + why);
  }
  return t;
}

template <class T>
constexpr TiffPixel pixel_of() {
  if constexpr (std::is_same_v<T, std::uint8_t>) return TiffPixel::kUInt8;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return TiffPixel::kUInt16;
  else if constexpr (std::is_same_v<T, float>) return TiffPixel::kFloat32;
  else if constexpr (std::is_same_v<T, std::int8_t>) return TiffPixel::kInt8;
  else if constexpr (std::is_same_v<T, std::int16_t>) return TiffPixel::kInt16;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return TiffPixel::kUInt32;
  else return TiffPixel::kInt32;
}

// ---- description parsing ---------------------------------------------------------------

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

/// key=value lines of an ImageJ description.
std::vector<std::pair<std::string, std::string>> imagej_pairs(const std::string& d) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(d);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out.emplace_back(trim(line.substr(0, eq)), trim(line.substr(eq + 1)));
  }
  return out;
}

/// tifffile's JSON description {"shape": [a, b, ...], ...}: the shape, or empty.
std::vector<std::size_t> json_shape(const std::string& d) {
  std::vector<std::size_t> out;
  const auto k = d.find("\"shape\"");
  if (d.empty() || d[0] != '{' || k == std::string::npos) return out;
  auto p = d.find('[', k);
  const auto e = d.find(']', k);
  if (p == std::string::npos || e == std::string::npos || e < p) return out;
  std::string body = d.substr(p + 1, e - p - 1);
  std::istringstream in(body);
  std::string tok;
  while (std::getline(in, tok, ',')) {
    tok = trim(tok);
    if (tok.empty() || !std::all_of(tok.begin(), tok.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return {};
    out.push_back(static_cast<std::size_t>(std::stoull(tok)));
  }
  return out;
}

// ---- scanning ---------------------------------------------------------------------------

struct Scan {
  TiffInfo info;
  std::vector<tdir_t> dirs;  ///< directory index of each data page
  int spp = 1;
  bool separate = false;
  bool tiled = false;
  std::uint32_t width = 0, height = 0;
  double xres = 0;           ///< pixels per resolution unit (0 = absent)
  std::uint16_t res_unit = RESUNIT_INCH;
};

std::string page_where(const fs::path& path, std::size_t page) {
  return path.string() + ": page " + std::to_string(page);
}

/// OME-XML in the first page's ImageDescription (OME-TIFF, dataset/ome_xml.h): the axis sizes,
/// the plane order, physical pixel size, time increment and channel names. The file's planes
/// are re-ordered to (T, Z, C) here. Returns false when the XML holds no OME/Image/Pixels.
bool apply_ome(Scan& s, const fs::path& path) {
  TiffInfo& info = s.info;
  OmePixels p;
  if (!parse_ome_xml(info.description, path.string(), &p)) return false;
  const std::string w = path.string() + ": OME-XML";
  if (p.nx != s.width || p.ny != s.height)
    throw DataError(w + ": Pixels: SizeX x SizeY = " + std::to_string(p.nx) + " x " + std::to_string(p.ny) +
                    ", the pages are " + std::to_string(s.width) + " x " + std::to_string(s.height));
  const std::size_t planes = s.dirs.size();
  if (std::size_t(p.nz * p.nc * p.nt) != planes)
    throw DataError(w + ": Pixels: SizeZ x SizeC x SizeT = " + std::to_string(p.nz * p.nc * p.nt) +
                    " planes, the file has " + std::to_string(planes) + " pages (multi-file OME-TIFF is not supported)");
  std::vector<tdir_t> dirs(planes);
  for (long long t = 0; t < p.nt; ++t)
    for (long long z = 0; z < p.nz; ++z)
      for (long long c = 0; c < p.nc; ++c)
        dirs[std::size_t((t * p.nz + z) * p.nc + c)] = s.dirs[std::size_t(p.plane_index(t, z, c))];
  s.dirs = dirs;
  TiffShape& sh = info.shape;
  sh.frames = int(p.nt);
  sh.slices = int(p.nz);
  sh.channels = int(p.nc);
  info.ome = true;
  info.axes.clear();
  info.dims.clear();
  if (p.nt > 1) { info.axes += 'T'; info.dims.push_back(std::size_t(p.nt)); }
  if (p.nz > 1) { info.axes += 'Z'; info.dims.push_back(std::size_t(p.nz)); }
  if (p.nc > 1) { info.axes += 'C'; info.dims.push_back(std::size_t(p.nc)); }
  info.pixel_size_um = p.pixel_size_um;
  info.frame_interval_s = p.time_increment_s;
  info.channel_names = p.channel_names;
  return true;
}

/// Size, samples, planar configuration and pixel type of the current directory.
struct PageFormat {
  std::uint32_t width = 0, height = 0;
  std::uint16_t spp = 1;
  std::uint16_t planar = PLANARCONFIG_CONTIG;
  TiffPixel pixel = TiffPixel::kUInt8;
};

/// The pixel type of `bps` bits per sample in sample format `fmt`; refuses the unsupported ones.
TiffPixel pixel_type(std::uint16_t bps, std::uint16_t fmt, const std::string& where) {
  if (bps == 8 && fmt == SAMPLEFORMAT_UINT) return TiffPixel::kUInt8;
  if (bps == 8 && fmt == SAMPLEFORMAT_INT) return TiffPixel::kInt8;
  if (bps == 16 && fmt == SAMPLEFORMAT_UINT) return TiffPixel::kUInt16;
  if (bps == 16 && fmt == SAMPLEFORMAT_INT) return TiffPixel::kInt16;
  if (bps == 32 && fmt == SAMPLEFORMAT_UINT) return TiffPixel::kUInt32;
  if (bps == 32 && fmt == SAMPLEFORMAT_INT) return TiffPixel::kInt32;
  if (bps == 32 && fmt == SAMPLEFORMAT_IEEEFP) return TiffPixel::kFloat32;
  throw DataError(where + ": unsupported pixel type: " + std::to_string(bps) + "-bit " +
                  (fmt == SAMPLEFORMAT_IEEEFP ? "float" : fmt == SAMPLEFORMAT_INT ? "signed" : fmt == SAMPLEFORMAT_UINT ? "unsigned" : "sample format " + std::to_string(fmt)) +
                  " (supported: 8/16/32-bit integer, 32-bit float)");
}

/// Reads the current directory's format tags; refuses empty images and unsupported photometrics.
PageFormat read_page_format(TIFF* t, const std::string& where) {
  PageFormat f;
  std::uint16_t bps = 1, fmt = SAMPLEFORMAT_UINT, photo = PHOTOMETRIC_MINISBLACK;
  TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &f.width);
  TIFFGetField(t, TIFFTAG_IMAGELENGTH, &f.height);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &f.spp);
  TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &fmt);
  TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &f.planar);
  if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photo)) photo = PHOTOMETRIC_MINISBLACK;
  if (f.width == 0 || f.height == 0)
    throw DataError(where + ": image size " + std::to_string(f.width) + " x " + std::to_string(f.height));
  if (photo != PHOTOMETRIC_MINISBLACK && photo != PHOTOMETRIC_MINISWHITE && photo != PHOTOMETRIC_RGB)
    throw DataError(where + ": photometric interpretation " + std::to_string(photo) +
                    " is not supported (grey-level or RGB only; palette/YCbCr/CMYK refused)");
  f.pixel = pixel_type(bps, fmt, where);
  return f;
}

/// Page 0 sets the stack's format, description and resolution.
void take_first_page(TIFF* t, const PageFormat& f, Scan& s) {
  s.width = f.width;
  s.height = f.height;
  s.spp = f.spp;
  s.separate = f.planar == PLANARCONFIG_SEPARATE;
  s.info.pixel = f.pixel;
  char* desc = nullptr;
  if (TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &desc) && desc) s.info.description = desc;
  float xres = 0;
  std::uint16_t unit = RESUNIT_INCH;
  if (TIFFGetField(t, TIFFTAG_XRESOLUTION, &xres) && xres > 0) {
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    s.xres = xres;
    s.res_unit = unit;
  }
}

/// Every later page must have page 0's size, pixel type and planar configuration.
void check_like_first_page(const PageFormat& f, const Scan& s, const std::string& where) {
  if (f.width != s.width || f.height != s.height)
    throw DataError(where + ": size " + std::to_string(f.width) + " x " + std::to_string(f.height) +
                    " differs from page 0's " + std::to_string(s.width) + " x " + std::to_string(s.height));
  if (f.pixel != s.info.pixel || f.spp != s.spp)
    throw DataError(where + ": pixel type " + to_string(f.pixel) + " x " + std::to_string(f.spp) +
                    " samples differs from page 0's " + to_string(s.info.pixel) + " x " + std::to_string(s.spp));
  if ((f.planar == PLANARCONFIG_SEPARATE) != s.separate)
    throw DataError(where + ": planar configuration differs from page 0's");
}

/// Pixel data must lie inside the file (a truncated file otherwise reads as zeros).
void check_data_inside_file(TIFF* t, Scan& s, const std::string& where, std::uint64_t file_size) {
  const bool tiled = TIFFIsTiled(t);
  if (s.dirs.empty()) s.tiled = tiled;
  else if (tiled != s.tiled) throw DataError(where + ": tiled and stripped pages mixed");
  const char* unit = tiled ? "tile" : "strip";
  const std::uint64_t* offsets = nullptr;
  const std::uint64_t* counts = nullptr;
  if (!TIFFGetField(t, tiled ? TIFFTAG_TILEOFFSETS : TIFFTAG_STRIPOFFSETS, &offsets) ||
      !TIFFGetField(t, tiled ? TIFFTAG_TILEBYTECOUNTS : TIFFTAG_STRIPBYTECOUNTS, &counts) || !offsets || !counts)
    throw IoError(where + ": " + unit + " offsets/byte counts missing (corrupt or truncated file)");
  const std::uint32_t n = tiled ? TIFFNumberOfTiles(t) : TIFFNumberOfStrips(t);
  for (std::uint32_t k = 0; k < n; ++k)
    if (offsets[k] + counts[k] > file_size)
      throw IoError(where + ": " + unit + " " + std::to_string(k) + " ends at byte " +
                    std::to_string(offsets[k] + counts[k]) + ", beyond the end of the file (" +
                    std::to_string(file_size) + " bytes): file is truncated");
}

/// Walks the directories: checks every data page and records its directory index in `s.dirs`
/// (reduced-resolution pages, i.e. thumbnails and pyramid levels, are skipped).
void scan_pages(TIFF* t, const fs::path& path, Scan& s) {
  std::size_t page = 0;
  tdir_t dir = 0;
  std::error_code ec;
  const std::uint64_t file_size = fs::file_size(path, ec);
  do {
    std::uint32_t subfile = 0;
    if (TIFFGetField(t, TIFFTAG_SUBFILETYPE, &subfile) && (subfile & FILETYPE_REDUCEDIMAGE)) {
      ++dir;
      if (TIFFLastDirectory(t) || !TIFFReadDirectory(t)) break;
      continue;  // thumbnails / pyramid levels are not data
    }
    const std::string where = page_where(path, page);
    const PageFormat f = read_page_format(t, where);
    if (s.dirs.empty()) take_first_page(t, f, s);
    else check_like_first_page(f, s, where);
    check_data_inside_file(t, s, where, file_size);
    s.dirs.push_back(dir);
    ++page;
    ++dir;
    if (TIFFLastDirectory(t)) break;
    g_tiff_error.clear();
    if (!TIFFReadDirectory(t))
      throw IoError(page_where(path, page) + ": directory cannot be read: file is truncated or corrupt" + take_error());
  } while (true);
  if (s.dirs.empty()) throw DataError(path.string() + ": no image pages");
}

/// The hyperstack keys of an ImageJ description.
struct ImageJKeys {
  long long images = -1, channels = 1, slices = 1, frames = 1;
  std::string unit, tunit;
  double finterval = 0, xscale = 0;
};

ImageJKeys parse_imagej_keys(const std::string& d, const fs::path& path) {
  ImageJKeys j;
  for (const auto& [k, v] : imagej_pairs(d)) {
    try {
      if (k == "images") j.images = std::stoll(v);
      else if (k == "channels") j.channels = std::stoll(v);
      else if (k == "slices") j.slices = std::stoll(v);
      else if (k == "frames") j.frames = std::stoll(v);
      else if (k == "unit") j.unit = v;
      else if (k == "tunit") j.tunit = v;
      else if (k == "finterval") j.finterval = std::stod(v);
      else if (k == "xscale") j.xscale = std::stod(v);
    } catch (const std::exception&) {
      throw DataError(path.string() + ": ImageJ description: '" + k + "=" + v + "' is not a number");
    }
  }
  return j;
}

/// Pixel size and frame interval of an ImageJ description.
void apply_imagej_units(const ImageJKeys& j, const Scan& s, TiffInfo& info) {
  // ImageJ: XResolution = pixels per `unit` (ResolutionUnit is "none").
  const double per_unit = s.xres > 0 ? 1.0 / s.xres : (j.xscale > 0 ? j.xscale : 0);
  if (j.unit == "micron" || j.unit == "um" || j.unit == "\xC2\xB5m" || j.unit == "\\u00B5m") info.pixel_size_um = per_unit;
  else if (j.unit == "nm") info.pixel_size_um = per_unit * 1e-3;
  else if (j.unit == "mm") info.pixel_size_um = per_unit * 1e3;
  else if (j.unit == "cm") info.pixel_size_um = per_unit * 1e4;
  if (j.finterval > 0) {
    double scale = 1;
    if (j.tunit == "min") scale = 60;
    else if (j.tunit == "hour" || j.tunit == "h") scale = 3600;
    else if (j.tunit == "ms") scale = 1e-3;
    info.frame_interval_s = j.finterval * scale;
  }
}

/// ImageJ hyperstack description: units, then the (T, Z, C) shape when the page count agrees.
/// Returns whether the shape was resolved.
bool apply_imagej(Scan& s, const fs::path& path, std::size_t planes) {
  TiffInfo& info = s.info;
  TiffShape& sh = info.shape;
  info.imagej = true;
  const ImageJKeys j = parse_imagej_keys(info.description, path);
  apply_imagej_units(j, s, info);
  if (j.channels < 1 || j.slices < 1 || j.frames < 1)
    throw DataError(path.string() + ": ImageJ description: channels/slices/frames must be >= 1");
  const long long n = j.channels * j.slices * j.frames;
  if (s.spp != 1) return false;
  if (static_cast<std::size_t>(n) == planes) {
    sh.channels = static_cast<int>(j.channels);
    sh.slices = static_cast<int>(j.slices);
    sh.frames = static_cast<int>(j.frames);
  } else if (n == 1 && j.images > 0 && static_cast<std::size_t>(j.images) == planes) {
    sh.frames = static_cast<int>(j.images);
  } else {
    throw DataError(path.string() + ": ImageJ description says " + std::to_string(j.channels) + " channels x " +
                    std::to_string(j.slices) + " slices x " + std::to_string(j.frames) + " frames = " +
                    std::to_string(n) + " images, but the file has " + std::to_string(planes) +
                    " pages (ImageJ 'virtual' stacks > 4 GiB are not supported)");
  }
  if (sh.frames > 1) { info.axes += 'T'; info.dims.push_back(sh.frames); }
  if (sh.slices > 1) { info.axes += 'Z'; info.dims.push_back(sh.slices); }
  if (sh.channels > 1) { info.axes += 'C'; info.dims.push_back(sh.channels); }
  return true;
}

/// tifffile's JSON description: the leading dimensions when its shape matches the pages.
/// Returns whether the shape was resolved.
bool apply_json_shape(Scan& s, std::size_t planes) {
  TiffInfo& info = s.info;
  TiffShape& sh = info.shape;
  const auto js = json_shape(info.description);
  std::size_t prod = 1;
  for (auto v : js) prod *= v;
  if (!(js.size() >= 2 && js[js.size() - 2] == s.height && js.back() == s.width && prod == planes * s.height * s.width))
    return false;
  info.dims.assign(js.begin(), js.end() - 2);
  if (js.size() == 3) {
    sh.frames = static_cast<int>(js[0]);
  } else if (js.size() >= 4) {
    std::size_t lead = 1;
    for (std::size_t i = 0; i + 3 < js.size(); ++i) lead *= js[i];
    sh.frames = static_cast<int>(lead);
    sh.channels = static_cast<int>(js[js.size() - 3]);
  }
  return true;
}

/// No description to go by: pages are frames (or images) and samples are channels.
void apply_plain_pages(Scan& s) {
  TiffInfo& info = s.info;
  TiffShape& sh = info.shape;
  const std::size_t pages = s.dirs.size();
  info.dims.clear();
  info.axes.clear();
  sh.frames = static_cast<int>(pages);
  sh.channels = s.spp;
  sh.slices = 1;
  if (pages > 1) { info.dims.push_back(pages); info.axes += (s.spp > 1 ? "T" : "I"); }
  if (s.spp > 1) { info.dims.push_back(static_cast<std::size_t>(s.spp)); info.axes += 'C'; }
}

/// The stack's format and axes: from OME-XML, else an ImageJ description, else tifffile's JSON
/// shape, else the pages and samples themselves.
Scan scan(TIFF* t, const fs::path& path) {
  Scan s;
  TiffInfo& info = s.info;
  scan_pages(t, path, s);
  const std::size_t planes = s.dirs.size() * static_cast<std::size_t>(s.spp);
  info.pages = planes;
  info.shape.height = static_cast<int>(s.height);
  info.shape.width = static_cast<int>(s.width);
  const std::string& d = info.description;
  bool resolved = false;
  if (s.spp == 1 && d.find("<OME") != std::string::npos) resolved = apply_ome(s, path);
  if (!resolved && d.rfind("ImageJ=", 0) == 0) resolved = apply_imagej(s, path, planes);
  if (!info.imagej && !info.ome && s.xres > 0 && s.res_unit == RESUNIT_CENTIMETER) info.pixel_size_um = 1e4 / s.xres;
  if (!resolved && s.spp == 1) resolved = apply_json_shape(s, planes);
  if (!resolved) apply_plain_pages(s);
  info.dims.push_back(s.height);
  info.dims.push_back(s.width);
  if (!info.axes.empty() || info.imagej || info.ome) info.axes += "YX";
  return s;
}

// ---- pixel reading ----------------------------------------------------------------------

/// Reads the current directory's tiles into `out` as spp planes (spp, H, W) of native values.
void read_tiled_page(TIFF* t, const Scan& s, const std::string& where, unsigned char* out) {
  const std::size_t bytes = pixel_bytes(s.info.pixel);
  const std::size_t W = s.width, H = s.height, S = static_cast<std::size_t>(s.spp);
  std::uint32_t tw = 0, th = 0;
  TIFFGetField(t, TIFFTAG_TILEWIDTH, &tw);
  TIFFGetField(t, TIFFTAG_TILELENGTH, &th);
  if (tw == 0 || th == 0 || tw > (1u << 16) || th > (1u << 16))
    throw DataError(where + ": tile size " + std::to_string(tw) + " x " + std::to_string(th) + " is not usable");
  const std::size_t tile_bytes = std::size_t(tw) * th * bytes * (s.separate ? 1 : S);
  const tmsize_t lib = TIFFTileSize(t);
  if (lib <= 0 || std::size_t(lib) != tile_bytes)
    throw DataError(where + ": tile size " + std::to_string(lib) + " bytes, expected " + std::to_string(tile_bytes));
  std::vector<unsigned char> buf(tile_bytes);
  for (std::size_t sample = 0; sample < (s.separate ? S : 1); ++sample)
    for (std::uint32_t y0 = 0; y0 < H; y0 += th)
      for (std::uint32_t x0 = 0; x0 < W; x0 += tw) {
        const ttile_t k = TIFFComputeTile(t, x0, y0, 0, static_cast<std::uint16_t>(sample));
        if (TIFFReadEncodedTile(t, k, buf.data(), static_cast<tmsize_t>(buf.size())) < 0)
          throw IoError(where + ": tile " + std::to_string(k) + " is truncated or corrupt" + take_error());
        const std::size_t rows = std::min<std::size_t>(th, H - y0), cols = std::min<std::size_t>(tw, W - x0);
        for (std::size_t r = 0; r < rows; ++r)
          for (std::size_t x = 0; x < cols; ++x) {
            const std::size_t px_in = r * tw + x;
            if (s.separate || S == 1) {
              std::memcpy(out + (sample * H * W + (y0 + r) * W + x0 + x) * bytes, buf.data() + px_in * bytes, bytes);
            } else {
              for (std::size_t c = 0; c < S; ++c)
                std::memcpy(out + (c * H * W + (y0 + r) * W + x0 + x) * bytes, buf.data() + (px_in * S + c) * bytes, bytes);
            }
          }
      }
}

/// Reads data page `page` into `out` as spp planes (spp, H, W) of native values.
void read_page(TIFF* t, const Scan& s, std::size_t page, const fs::path& path, unsigned char* out) {
  const std::string where = page_where(path, page);
  if (!TIFFSetDirectory(t, s.dirs[page])) throw IoError(where + ": cannot read directory" + take_error());
  if (s.tiled) return read_tiled_page(t, s, where, out);
  const std::size_t bytes = pixel_bytes(s.info.pixel);
  const std::size_t W = s.width, H = s.height, S = static_cast<std::size_t>(s.spp);
  std::uint32_t rps = 0;
  TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &rps);
  if (rps == 0 || rps > H) rps = static_cast<std::uint32_t>(H);
  const tstrip_t nstrips = TIFFNumberOfStrips(t);
  const std::size_t per_sample = (H + rps - 1) / rps;
  if (nstrips != (s.separate ? per_sample * S : per_sample))
    throw DataError(where + ": has " + std::to_string(nstrips) + " strips, expected " +
                    std::to_string(s.separate ? per_sample * S : per_sample));
  const std::size_t strip_bytes = std::size_t(rps) * W * bytes * (s.separate ? 1 : S);
  std::vector<unsigned char> buf(static_cast<std::size_t>(std::max<tmsize_t>(TIFFStripSize(t), 0)) + strip_bytes);
  for (tstrip_t k = 0; k < nstrips; ++k) {
    const std::size_t sample = s.separate ? k / per_sample : 0;
    const std::size_t row0 = (s.separate ? k % per_sample : k) * rps;
    const std::size_t rows = std::min<std::size_t>(rps, H - row0);
    const std::size_t want = rows * W * bytes * (s.separate ? 1 : S);
    const tmsize_t got = TIFFReadEncodedStrip(t, k, buf.data(), static_cast<tmsize_t>(buf.size()));
    if (got < 0 || static_cast<std::size_t>(got) < want)
      throw IoError(where + ": strip " + std::to_string(k) + " is truncated or corrupt" + take_error());
    if (s.separate || S == 1) {
      std::memcpy(out + (sample * H * W + row0 * W) * bytes, buf.data(), want);
    } else {  // de-interleave contiguous samples into planes
      for (std::size_t i = 0; i < rows * W; ++i)
        for (std::size_t c = 0; c < S; ++c)
          std::memcpy(out + (c * H * W + row0 * W + i) * bytes, buf.data() + (i * S + c) * bytes, bytes);
    }
  }
}

template <class Out>
void convert(const unsigned char* src, TiffPixel px, std::size_t n, Out* dst) {
  auto run = [&](auto tag) {
    using In = decltype(tag);
    for (std::size_t i = 0; i < n; ++i) {
      In v;
      std::memcpy(&v, src + i * sizeof(In), sizeof(In));
      dst[i] = static_cast<Out>(v);
    }
  };
  switch (px) {
    case TiffPixel::kUInt8: run(std::uint8_t{}); break;
    case TiffPixel::kInt8: run(std::int8_t{}); break;
    case TiffPixel::kUInt16: run(std::uint16_t{}); break;
    case TiffPixel::kInt16: run(std::int16_t{}); break;
    case TiffPixel::kUInt32: run(std::uint32_t{}); break;
    case TiffPixel::kInt32: run(std::int32_t{}); break;
    case TiffPixel::kFloat32: run(float{}); break;
  }
}

template <class T>
void require_pixel(const Scan& s, const fs::path& path) {
  if (s.info.pixel != pixel_of<T>())
    throw DataError(path.string() + ": pixel type: expected " + to_string(pixel_of<T>()) + ", found " +
                    to_string(s.info.pixel));
}

}  // namespace

const char* to_string(TiffPixel p) {
  switch (p) {
    case TiffPixel::kUInt8: return "uint8";
    case TiffPixel::kUInt16: return "uint16";
    case TiffPixel::kFloat32: return "float32";
    case TiffPixel::kInt8: return "int8";
    case TiffPixel::kInt16: return "int16";
    case TiffPixel::kUInt32: return "uint32";
    case TiffPixel::kInt32: return "int32";
  }
  return "?";
}

std::size_t pixel_bytes(TiffPixel p) {
  switch (p) {
    case TiffPixel::kUInt8:
    case TiffPixel::kInt8: return 1;
    case TiffPixel::kUInt16:
    case TiffPixel::kInt16: return 2;
    default: return 4;
  }
}

TiffInfo read_tiff_info(const fs::path& path) {
  TiffPtr t = open_read(path);
  return scan(t.get(), path).info;
}

template <class T>
std::vector<T> read_tiff(const fs::path& path, TiffInfo* info) {
  TiffPtr t = open_read(path);
  const Scan s = scan(t.get(), path);
  require_pixel<T>(s, path);
  const std::size_t page_values = std::size_t(s.width) * s.height * static_cast<std::size_t>(s.spp);
  std::vector<T> out(page_values * s.dirs.size());
  for (std::size_t p = 0; p < s.dirs.size(); ++p)
    read_page(t.get(), s, p, path, reinterpret_cast<unsigned char*>(out.data() + p * page_values));
  if (info) *info = s.info;
  return out;
}

template <class T>
std::vector<T> read_tiff_planes_as(const fs::path& path, std::size_t first, std::size_t count) {
  TiffPtr t = open_read(path);
  const Scan s = scan(t.get(), path);
  if (first > s.info.pages || count > s.info.pages - first)
    throw DataError(path.string() + ": planes [" + std::to_string(first) + ", " + std::to_string(first + count) +
                    ") out of range (file has " + std::to_string(s.info.pages) + ")");
  const std::size_t plane = std::size_t(s.width) * s.height, S = static_cast<std::size_t>(s.spp);
  const std::size_t bytes = pixel_bytes(s.info.pixel);
  std::vector<T> out(count * plane);
  std::vector<unsigned char> buf(plane * S * bytes);
  for (std::size_t q = first; q < first + count;) {
    const std::size_t page = q / S;
    read_page(t.get(), s, page, path, buf.data());
    for (std::size_t c = q % S; c < S && q < first + count; ++c, ++q)
      convert(buf.data() + c * plane * bytes, s.info.pixel, plane, out.data() + (q - first) * plane);
  }
  return out;
}

template <class T>
std::vector<std::vector<T>> read_tiff_pages(const fs::path& path, TiffInfo* info) {
  TiffInfo local;
  std::vector<T> all = read_tiff<T>(path, &local);
  const std::size_t plane = local.shape.page_values();
  std::vector<std::vector<T>> out(local.pages);
  for (std::size_t p = 0; p < local.pages; ++p)
    out[p].assign(all.begin() + static_cast<std::ptrdiff_t>(p * plane), all.begin() + static_cast<std::ptrdiff_t>((p + 1) * plane));
  if (info) *info = local;
  return out;
}

namespace {

/// "(T 1, Z 1, C 2, Y 64, X 64)"
std::string shape_text(const TiffShape& shape) {
  return "(T " + std::to_string(shape.frames) + ", Z " + std::to_string(shape.slices) + ", C " +
         std::to_string(shape.channels) + ", Y " + std::to_string(shape.height) + ", X " +
         std::to_string(shape.width) + ")";
}

/// Every axis must be >= 1 and `values` must fill the shape.
void check_write_shape(const std::string& file, std::size_t values, const TiffShape& shape) {
  if (shape.frames < 1 || shape.slices < 1 || shape.channels < 1 || shape.height < 1 || shape.width < 1)
    throw DataError(file + ": TIFF shape " + shape_text(shape) + ": every axis must be >= 1");
  if (values != shape.values())
    throw DataError(file + ": " + std::to_string(values) + " values do not fill shape " + shape_text(shape) +
                    " = " + std::to_string(shape.values()));
}

/// The first page's ImageDescription: OME-XML when `opt.ome`, else an ImageJ hyperstack header.
std::string tiff_description(const fs::path& path, const TiffShape& shape, const TiffWriteOptions& opt, TiffPixel px) {
  std::ostringstream desc;
  desc << "ImageJ=1.11a\nimages=" << shape.pages() << '\n';
  if (shape.channels > 1) desc << "channels=" << shape.channels << '\n';
  if (shape.slices > 1) desc << "slices=" << shape.slices << '\n';
  if (shape.frames > 1) desc << "frames=" << shape.frames << '\n';
  if (shape.channels > 1 || shape.frames > 1 || shape.slices > 1) desc << "hyperstack=true\n";
  if (shape.channels > 1) desc << "mode=grayscale\n";
  if (opt.pixel_size_um > 0) desc << "unit=micron\n";
  if (opt.frame_interval_s > 0) desc << "finterval=" << opt.frame_interval_s << '\n';
  desc << "loop=false\n";
  if (opt.ome && !opt.channel_names.empty() && opt.channel_names.size() != std::size_t(shape.channels))
    throw DataError(path.string() + ": " + std::to_string(opt.channel_names.size()) + " channel names for " +
                    std::to_string(shape.channels) + " channels");
  return opt.ome ? make_ome_xml(path.filename().string(), px == TiffPixel::kFloat32 ? "float" : to_string(px),
                                shape.width, shape.height, shape.slices, shape.channels, shape.frames,
                                opt.pixel_size_um, opt.frame_interval_s, opt.channel_names)
                 : desc.str();
}

/// The tags every written page carries.
struct PageTags {
  std::uint32_t width = 0, height = 0, rows_per_strip = 0;
  std::uint16_t bits = 0, format = SAMPLEFORMAT_UINT, compression = COMPRESSION_NONE;
};

template <class T>
PageTags page_tags(const TiffShape& shape, const TiffWriteOptions& opt) {
  PageTags g;
  g.width = static_cast<std::uint32_t>(shape.width);
  g.height = static_cast<std::uint32_t>(shape.height);
  if (opt.compression == TiffWriteOptions::Compression::kDeflate) g.compression = COMPRESSION_ADOBE_DEFLATE;
  if (opt.compression == TiffWriteOptions::Compression::kLzw) g.compression = COMPRESSION_LZW;
  g.bits = static_cast<std::uint16_t>(8 * sizeof(T));
  g.format = pixel_of<T>() == TiffPixel::kFloat32 ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT;
  // Strips of ~64 KiB (at least one row): a good size for every reader and for compression.
  const std::uint32_t row_bytes = static_cast<std::uint32_t>(shape.width * sizeof(T));
  g.rows_per_strip = std::clamp<std::uint32_t>((1u << 16) / std::max(1u, row_bytes), 1u, g.height);
  return g;
}

void set_page_tags(TIFF* tf, const PageTags& g) {
  TIFFSetField(tf, TIFFTAG_SUBFILETYPE, 0);
  TIFFSetField(tf, TIFFTAG_IMAGEWIDTH, g.width);
  TIFFSetField(tf, TIFFTAG_IMAGELENGTH, g.height);
  TIFFSetField(tf, TIFFTAG_BITSPERSAMPLE, g.bits);
  TIFFSetField(tf, TIFFTAG_SAMPLEFORMAT, g.format);
  TIFFSetField(tf, TIFFTAG_SAMPLESPERPIXEL, static_cast<std::uint16_t>(1));
  TIFFSetField(tf, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(tf, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tf, TIFFTAG_COMPRESSION, g.compression);
  TIFFSetField(tf, TIFFTAG_ROWSPERSTRIP, g.rows_per_strip);
}

void set_resolution(TIFF* tf, double pixel_size_um) {
  const float res = static_cast<float>(1.0 / pixel_size_um);
  TIFFSetField(tf, TIFFTAG_XRESOLUTION, res);
  TIFFSetField(tf, TIFFTAG_YRESOLUTION, res);
  TIFFSetField(tf, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
}

/// Writes one (height, width) plane `src` as strips of the current directory.
template <class T>
void write_page_strips(TIFF* tf, const T* src, const PageTags& g, const std::string& file, std::size_t p) {
  const std::uint32_t rps = g.rows_per_strip;
  for (std::uint32_t row = 0, k = 0; row < g.height; row += rps, ++k) {
    const std::uint32_t rows = std::min<std::uint32_t>(rps, g.height - row);
    // libtiff may modify the buffer (byte swapping / predictors): hand it a copy.
    std::vector<T> strip(src + std::size_t(row) * g.width, src + std::size_t(row + rows) * g.width);
    if (TIFFWriteEncodedStrip(tf, k, strip.data(), static_cast<tmsize_t>(strip.size() * sizeof(T))) < 0)
      throw IoError(file + ": page " + std::to_string(p) + ": write failed" + take_error());
  }
}

}  // namespace

template <class T>
void write_tiff(const fs::path& path, const std::vector<T>& data, const TiffShape& shape,
                const TiffWriteOptions& opt) {
  install_handlers();
  const std::string file = path.string();
  check_write_shape(file, data.size(), shape);
  const std::size_t plane = shape.page_values();
  const bool big = data.size() * sizeof(T) + shape.pages() * 512 > (std::size_t{1} << 32) - (std::size_t{1} << 26);
  const std::string description = tiff_description(path, shape, opt, pixel_of<T>());
  const PageTags tags = page_tags<T>(shape, opt);

  write_atomic(path, [&](const fs::path& tmp) {
    g_tiff_error.clear();
    TiffPtr t(TIFFOpen(tmp.c_str(), big ? "w8" : "w"));
    if (!t) throw IoError(file + ": cannot create TIFF" + take_error());
    for (std::size_t p = 0; p < shape.pages(); ++p) {
      TIFF* tf = t.get();
      set_page_tags(tf, tags);
      if (p == 0) {
        TIFFSetField(tf, TIFFTAG_IMAGEDESCRIPTION, description.c_str());
        TIFFSetField(tf, TIFFTAG_SOFTWARE, "taupe");
      }
      if (opt.pixel_size_um > 0) set_resolution(tf, opt.pixel_size_um);
      write_page_strips(tf, data.data() + p * plane, tags, file, p);
      if (!TIFFWriteDirectory(tf)) throw IoError(file + ": page " + std::to_string(p) + ": write failed" + take_error());
    }
    TIFF* raw = t.release();
    TIFFClose(raw);
  });
}

std::vector<std::uint16_t> read_glimpse_tiff(const fs::path& path, int* frames) {
  const TiffInfo info = read_tiff_info(path);
  const TiffShape& s = info.shape;
  const std::string file = path.string();
  auto shape_text = [&] {
    std::string d = "(";
    for (std::size_t i = 0; i < info.dims.size(); ++i) d += (i ? ", " : "") + std::to_string(info.dims[i]);
    return d + ")";
  };
  if (s.height != 64 || s.width != 64)
    throw DataError(file + ": glimpse TIFF must be (T, 2, 64, 64), found " + shape_text());
  if (info.pages % 2 != 0 || info.pages == 0 || s.slices != 1 || (s.channels != 2 && s.channels != 1) ||
      (s.channels == 1 && info.imagej))
    throw DataError(file + ": glimpse TIFF must be (T, 2, 64, 64), found " + shape_text());
  std::vector<std::uint16_t> out;
  if (info.pixel == TiffPixel::kUInt16) {
    out = read_tiff<std::uint16_t>(path);
  } else if (info.pixel == TiffPixel::kUInt8) {
    const auto v = read_tiff<std::uint8_t>(path);
    out.assign(v.begin(), v.end());
  } else {
    throw DataError(file + ": glimpse TIFF pixel type: expected uint8 or uint16, found " + to_string(info.pixel));
  }
  if (frames) *frames = static_cast<int>(info.pages / 2);
  return out;
}

void write_glimpse_tiff(const fs::path& path, const std::vector<std::uint16_t>& images, int frames) {
  write_tiff(path, images, tcyx(frames, 2, 64, 64));
}

template std::vector<std::uint8_t> read_tiff(const fs::path&, TiffInfo*);
template std::vector<std::uint16_t> read_tiff(const fs::path&, TiffInfo*);
template std::vector<float> read_tiff(const fs::path&, TiffInfo*);
template std::vector<float> read_tiff_planes_as(const fs::path&, std::size_t, std::size_t);
template std::vector<double> read_tiff_planes_as(const fs::path&, std::size_t, std::size_t);
template std::vector<std::vector<std::uint8_t>> read_tiff_pages(const fs::path&, TiffInfo*);
template std::vector<std::vector<std::uint16_t>> read_tiff_pages(const fs::path&, TiffInfo*);
template std::vector<std::vector<float>> read_tiff_pages(const fs::path&, TiffInfo*);
template void write_tiff(const fs::path&, const std::vector<std::uint8_t>&, const TiffShape&, const TiffWriteOptions&);
template void write_tiff(const fs::path&, const std::vector<std::uint16_t>&, const TiffShape&, const TiffWriteOptions&);
template void write_tiff(const fs::path&, const std::vector<float>&, const TiffShape&, const TiffWriteOptions&);

}  // namespace taupe
