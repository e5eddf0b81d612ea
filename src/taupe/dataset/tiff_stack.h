#pragma once
// Multi-page TIFF stacks (libtiff) with ImageJ hyperstack axis metadata.
//
// Layout: a stack is a sequence of 2-D pages (Y, X), stored in ImageJ hyperstack order --
// channel fastest, then slice (z), then frame (t) -- so the values of a stack are the C-order
// array (T, Z, C, Y, X). The writer puts an ImageJ ImageDescription ("ImageJ=1.11a\nimages=N\n
// channels=C\nslices=Z\nframes=T\nhyperstack=true\n...") on the first page, so Fiji, napari and
// Python's tifffile read back (T, C, Y, X) (axes of size 1 squeezed). The reader recovers the
// axes from an ImageJ description, else from tifffile's JSON description ({"shape": [...]}),
// else as (pages, Y, X); pages with several samples per pixel (contiguous or planar) count as
// channels: (pages, S, Y, X).
//
// OME-TIFF: an OME-XML description (parsed with pugixml) gives the axes in any DimensionOrder,
// the physical pixel size, the time increment and the channel names; it wins over the others.
// Tiled pages are read like stripped ones.
//
// Strict: palette/bilevel images, unsupported sample formats / bit depths and
// pages whose size or type differ from the first page are refused with a DataError naming the
// file and the page. A missing/unreadable file is an IoError.
//
// Pixel types written: uint8, uint16, float32. Pixel types read: those plus int8, int16,
// uint32, int32 (through the converting readers).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taupe {

enum class TiffPixel : std::uint8_t { kUInt8, kUInt16, kFloat32, kInt8, kInt16, kUInt32, kInt32 };
/// "uint8", "uint16", "float32", ...
const char* to_string(TiffPixel p);
/// Bytes per value.
std::size_t pixel_bytes(TiffPixel p);

/// Hyperstack shape; pages = frames * slices * channels, each (height, width).
struct TiffShape {
  int frames = 1, slices = 1, channels = 1, height = 0, width = 0;
  std::size_t pages() const { return std::size_t(frames) * std::size_t(slices) * std::size_t(channels); }
  std::size_t page_values() const { return std::size_t(height) * std::size_t(width); }
  std::size_t values() const { return pages() * page_values(); }
  bool operator==(const TiffShape& o) const {
    return frames == o.frames && slices == o.slices && channels == o.channels && height == o.height && width == o.width;
  }
};

/// (T, C, Y, X) shape, the common movie / glimpse case.
inline TiffShape tcyx(int frames, int channels, int height, int width) {
  TiffShape s;
  s.frames = frames;
  s.channels = channels;
  s.height = height;
  s.width = width;
  return s;
}

struct TiffInfo {
  TiffShape shape;                 ///< hyperstack view (see header comment)
  TiffPixel pixel = TiffPixel::kUInt16;
  std::size_t pages = 0;           ///< 2-D planes (a page with S samples counts S planes)
  std::vector<std::size_t> dims;   ///< logical shape, slowest first, as the metadata states it
                                   ///< (e.g. {T, C, Y, X}; ImageJ: axes of size 1 dropped)
  std::string axes;                ///< letters for dims, e.g. "TCYX" ("" when unknown / JSON shape)
  bool imagej = false;             ///< an ImageJ description was found
  bool ome = false;                ///< an OME-XML description (OME-TIFF) gave the axes
  std::vector<std::string> channel_names;   ///< OME-XML Channel Name attributes (may be empty)
  double pixel_size_um = 0;        ///< from ImageJ unit=micron + XResolution; 0 = unknown
  double frame_interval_s = 0;     ///< ImageJ finterval (seconds); 0 = unknown
  std::string description;         ///< raw ImageDescription of the first page
};

struct TiffWriteOptions {
  enum class Compression { kNone, kDeflate, kLzw };
  Compression compression = Compression::kNone;  ///< kNone: fastest, readable everywhere
  double pixel_size_um = 0;        ///< > 0: written as resolution + ImageJ unit=micron
  double frame_interval_s = 0;     ///< > 0: written as ImageJ finterval
  bool imagej = true;              ///< write the ImageJ hyperstack description
  /// Write OME-TIFF instead: OME-XML (DimensionOrder XYCZT, PhysicalSizeX/Y in µm,
  /// TimeIncrement in s, channel names) in the first page's ImageDescription, which Fiji
  /// (Bio-Formats) and napari (tifffile) read as calibrated axes.
  bool ome = false;
  std::vector<std::string> channel_names;   ///< OME channel names (empty or one per channel)
};

/// Shape, pixel type and metadata without reading pixels.
TiffInfo read_tiff_info(const std::filesystem::path& path);

/// Whole stack as (T, Z, C, Y, X) values. T must be uint8_t, uint16_t or float and match the
/// file's pixel type exactly (DataError "expected uint16, found float32" otherwise).
template <class T>
std::vector<T> read_tiff(const std::filesystem::path& path, TiffInfo* info = nullptr);

/// Planes [first, first + count) (each height*width values, page order) converted to T
/// (float or double; exact for every supported pixel type with double). Streaming path.
template <class T>
std::vector<T> read_tiff_planes_as(const std::filesystem::path& path, std::size_t first, std::size_t count);

/// Plain API: one vector per plane (height*width values each); T must match the pixel type.
template <class T>
std::vector<std::vector<T>> read_tiff_pages(const std::filesystem::path& path, TiffInfo* info = nullptr);

/// Writes `data` = (T, Z, C, Y, X) values as shape.pages() pages, atomically (temp + rename).
/// T = uint8_t, uint16_t or float. Files above ~3.9 GiB are written as BigTIFF.
template <class T>
void write_tiff(const std::filesystem::path& path, const std::vector<T>& data, const TiffShape& shape,
                const TiffWriteOptions& options = {});

/// cellx-predict glimpse TIFFs: (T, 2, 64, 64). Accepts uint8 or uint16 files whose axes are
/// (T, 2, 64, 64) by metadata, or 2*T pages of 64 x 64 without metadata; returns uint16
/// values and sets `frames`. DataError naming the file if the shape is anything else.
std::vector<std::uint16_t> read_glimpse_tiff(const std::filesystem::path& path, int* frames);
void write_glimpse_tiff(const std::filesystem::path& path, const std::vector<std::uint16_t>& images, int frames);

}  // namespace taupe
