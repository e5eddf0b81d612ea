// libFuzzer: the text track formats. The first byte picks the parser; the rest is the text.
#include <cstdint>
#include <string>

#include "taupe/core/errors.h"
#include "taupe/io/csv_tracks.h"
#include "taupe/io/ctc.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    switch (data[0] % 4) {
      case 0: {
        const auto ts = taupe::io::parse_ctc_tracks(text, "fuzz.txt");
        ts.validate("fuzz.txt");
        break;
      }
      case 1: {
        const auto ts = taupe::io::parse_tracks_csv(text, "fuzz.csv");
        ts.validate("fuzz.csv");
        break;
      }
      case 2: (void)taupe::io::parse_fate_table(text, "fates.csv"); break;
      default: (void)taupe::io::parse_graph_json(text, "graph.json"); break;
    }
  } catch (const taupe::DataError&) {
  }
  return 0;
}
