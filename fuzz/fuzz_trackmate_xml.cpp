// libFuzzer: the TrackMate XML reader (pugixml parse, spots, edges, division splitting, lineage
// checks). The input is the XML text.
#include <cstdint>
#include <string>

#include "taupe/core/errors.h"
#include "taupe/io/trackmate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const taupe::io::TrackMateData d = taupe::io::parse_trackmate_xml(text, "fuzz.xml");
    d.tracks.validate("fuzz.xml");
  } catch (const taupe::DataError&) {
  }
  return 0;
}
