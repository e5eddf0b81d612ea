#pragma once
// OME-XML (the ImageDescription of an OME-TIFF), parsed with pugixml: what taupe uses of the
// first Image's Pixels element. Namespaced (ome:Pixels) and plain element names are accepted.
#include <string>
#include <vector>

namespace taupe {

struct OmePixels {
  long long nx = 0, ny = 0, nz = 0, nc = 0, nt = 0;
  std::string dimension_order;          ///< e.g. "XYCZT": X, Y, then the fastest-varying plane axis
  double pixel_size_um = 0;             ///< PhysicalSizeX in µm (0: absent or unknown unit)
  double time_increment_s = 0;          ///< TimeIncrement in s (0: absent or unknown unit)
  std::vector<std::string> channel_names;   ///< one per Channel element ("" when unnamed)
  /// File plane index of plane (t, z, c) under dimension_order.
  long long plane_index(long long t, long long z, long long c) const;
};

/// Parses OME-XML text. Returns false when it is well-formed but holds no OME/Image/Pixels
/// (then other metadata may describe the file); DataError "<where>: OME-XML: <rule>" when it is
/// not well-formed or a Pixels size / DimensionOrder / Channel count is invalid.
bool parse_ome_xml(const std::string& xml, const std::string& where, OmePixels* out);

/// OME-XML for one single-file OME-TIFF image (DimensionOrder XYCZT, µm, s). `type` is the OME
/// pixel type ("uint8", "uint16", "float").
std::string make_ome_xml(const std::string& name, const std::string& type, int nx, int ny, int nz, int nc,
                         int nt, double pixel_size_um, double time_increment_s,
                         const std::vector<std::string>& channel_names);

}  // namespace taupe
