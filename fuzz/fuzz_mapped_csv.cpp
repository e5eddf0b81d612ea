// libFuzzer: the column-mapped CSV tracks importer (RFC 4180 / whitespace tables, TrackMate's
// extra header rows, id shifting). The first byte picks a column mapping; the rest is the text.
#include <cstdint>
#include <string>
#include <vector>

#include "taupe/core/errors.h"
#include "taupe/io/csv_tracks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const std::vector<std::vector<std::string>> maps = {
      {},
      {"id=TRACK_ID", "t=FRAME", "x=POSITION_X", "y=POSITION_Y"},
      {"id=TrackObjects_Label", "t=ImageNumber", "x=Location_Center_X", "y=Location_Center_Y", "parent=parent"},
      {"id=track_id", "t=t", "x=x", "y=y", "fate=fate"}};
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const auto cols = taupe::io::parse_csv_columns(maps[data[0] % maps.size()], (data[0] & 0x80) ? 0.5 : 1.0);
    std::vector<std::string> notes;
    const auto ts = taupe::io::parse_tracks_csv(text, "fuzz.csv", cols, &notes);
    ts.validate("fuzz.csv");
  } catch (const taupe::DataError&) {
  }
  return 0;
}
