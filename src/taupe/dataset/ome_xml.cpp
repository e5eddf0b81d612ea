#include "taupe/dataset/ome_xml.h"

#include <pugixml.hpp>

#include <cstring>
#include <sstream>

#include "taupe/core/errors.h"

namespace taupe {
namespace {

const char* local_name(const pugi::xml_node& n) {
  const char* name = n.name();
  const char* colon = std::strrchr(name, ':');
  return colon ? colon + 1 : name;
}
pugi::xml_node child(const pugi::xml_node& n, const char* local) {
  for (pugi::xml_node c : n.children())
    if (std::strcmp(local_name(c), local) == 0) return c;
  return {};
}

/// Length in µm of `v` given in OME `unit` (UnitsLength; default µm); 0 if the unit is unknown.
double length_um(double v, const std::string& unit) {
  if (unit.empty() || unit == "\xC2\xB5m" || unit == "um" || unit == "micron") return v;
  if (unit == "nm") return v * 1e-3;
  if (unit == "mm") return v * 1e3;
  if (unit == "cm") return v * 1e4;
  if (unit == "m") return v * 1e6;
  return 0;
}
/// Seconds of `v` given in OME `unit` (UnitsTime; default s); 0 if the unit is unknown.
double time_s(double v, const std::string& unit) {
  if (unit.empty() || unit == "s") return v;
  if (unit == "ms") return v * 1e-3;
  if (unit == "min") return v * 60;
  if (unit == "h") return v * 3600;
  return 0;
}

}  // namespace

long long OmePixels::plane_index(long long t, long long z, long long c) const {
  long long index = 0, stride = 1;
  for (std::size_t k = 2; k < 5; ++k) {
    const char a = dimension_order[k];
    index += (a == 'Z' ? z : a == 'C' ? c : t) * stride;
    stride *= a == 'Z' ? nz : a == 'C' ? nc : nt;
  }
  return index;
}

bool parse_ome_xml(const std::string& xml, const std::string& where, OmePixels* out) {
  const std::string w = where + ": OME-XML";
  pugi::xml_document doc;
  const pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size());
  if (!r) throw DataError(w + ": not well-formed at byte " + std::to_string(r.offset) + ": " + r.description());
  pugi::xml_node ome = doc.first_child();
  while (ome && std::strcmp(local_name(ome), "OME") != 0) ome = ome.next_sibling();
  const pugi::xml_node pixels = child(child(ome, "Image"), "Pixels");
  if (!pixels) return false;
  OmePixels p;
  auto size = [&](const char* name) -> long long {
    const pugi::xml_attribute a = pixels.attribute(name);
    if (!a) throw DataError(w + ": Pixels: attribute " + std::string(name) + " missing");
    const long long v = a.as_llong(-1);
    if (v < 1 || v > (1LL << 31))
      throw DataError(w + ": Pixels: " + std::string(name) + " = '" + std::string(a.value()).substr(0, 30) +
                      "' must be an integer >= 1");
    return v;
  };
  p.nx = size("SizeX");
  p.ny = size("SizeY");
  p.nz = size("SizeZ");
  p.nc = size("SizeC");
  p.nt = size("SizeT");
  if (p.nz * p.nc > (1LL << 31) / p.nt) throw DataError(w + ": Pixels: SizeZ x SizeC x SizeT is too large");
  p.dimension_order = pixels.attribute("DimensionOrder").value();
  const std::string& o = p.dimension_order;
  if (o.size() != 5 || o.compare(0, 2, "XY") != 0 || o.find('Z', 2) == std::string::npos ||
      o.find('C', 2) == std::string::npos || o.find('T', 2) == std::string::npos)
    throw DataError(w + ": Pixels: DimensionOrder '" + o.substr(0, 30) +
                    "' is not one of XYZCT, XYZTC, XYCZT, XYCTZ, XYTZC, XYTCZ");
  if (const pugi::xml_attribute a = pixels.attribute("PhysicalSizeX"))
    p.pixel_size_um = length_um(a.as_double(0), pixels.attribute("PhysicalSizeXUnit").value());
  if (const pugi::xml_attribute a = pixels.attribute("TimeIncrement"))
    p.time_increment_s = time_s(a.as_double(0), pixels.attribute("TimeIncrementUnit").value());
  if (!(p.pixel_size_um >= 0) || !(p.pixel_size_um < 1e9)) p.pixel_size_um = 0;
  if (!(p.time_increment_s >= 0) || !(p.time_increment_s < 1e12)) p.time_increment_s = 0;
  for (pugi::xml_node c : pixels.children())
    if (std::strcmp(local_name(c), "Channel") == 0) p.channel_names.push_back(c.attribute("Name").value());
  if (!p.channel_names.empty() && static_cast<long long>(p.channel_names.size()) != p.nc)
    throw DataError(w + ": " + std::to_string(p.channel_names.size()) + " Channel elements for SizeC = " +
                    std::to_string(p.nc));
  *out = std::move(p);
  return true;
}

std::string make_ome_xml(const std::string& name, const std::string& type, int nx, int ny, int nz, int nc,
                         int nt, double pixel_size_um, double time_increment_s,
                         const std::vector<std::string>& channel_names) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node ome = doc.append_child("OME");
  ome.append_attribute("xmlns") = "http://www.openmicroscopy.org/Schemas/OME/2016-06";
  ome.append_attribute("xmlns:xsi") = "http://www.w3.org/2001/XMLSchema-instance";
  ome.append_attribute("xsi:schemaLocation") =
      "http://www.openmicroscopy.org/Schemas/OME/2016-06 http://www.openmicroscopy.org/Schemas/OME/2016-06/ome.xsd";
  ome.append_attribute("Creator") = "taupe";
  pugi::xml_node image = ome.append_child("Image");
  image.append_attribute("ID") = "Image:0";
  image.append_attribute("Name") = name.c_str();
  pugi::xml_node pixels = image.append_child("Pixels");
  pixels.append_attribute("ID") = "Pixels:0";
  pixels.append_attribute("DimensionOrder") = "XYCZT";
  pixels.append_attribute("Type") = type.c_str();
  pixels.append_attribute("SizeX") = nx;
  pixels.append_attribute("SizeY") = ny;
  pixels.append_attribute("SizeZ") = nz;
  pixels.append_attribute("SizeC") = nc;
  pixels.append_attribute("SizeT") = nt;
  if (pixel_size_um > 0) {
    pixels.append_attribute("PhysicalSizeX") = pixel_size_um;
    pixels.append_attribute("PhysicalSizeXUnit") = "\xC2\xB5m";
    pixels.append_attribute("PhysicalSizeY") = pixel_size_um;
    pixels.append_attribute("PhysicalSizeYUnit") = "\xC2\xB5m";
  }
  if (time_increment_s > 0) {
    pixels.append_attribute("TimeIncrement") = time_increment_s;
    pixels.append_attribute("TimeIncrementUnit") = "s";
  }
  for (int c = 0; c < nc; ++c) {
    pugi::xml_node ch = pixels.append_child("Channel");
    ch.append_attribute("ID") = ("Channel:0:" + std::to_string(c)).c_str();
    ch.append_attribute("SamplesPerPixel") = 1;
    if (!channel_names.empty()) ch.append_attribute("Name") = channel_names[std::size_t(c)].c_str();
  }
  pugi::xml_node td = pixels.append_child("TiffData");
  td.append_attribute("IFD") = 0;
  td.append_attribute("PlaneCount") = static_cast<long long>(nz) * nc * nt;
  std::ostringstream os;
  doc.save(os, "", pugi::format_raw);
  return os.str();
}

}  // namespace taupe
