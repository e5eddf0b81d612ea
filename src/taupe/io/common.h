#pragma once
// Shared vocabulary of the importers/exporters: option maps, fate labels, pixel conversion,
// the import summary object and output-directory rules.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "taupe/dataset/types.h"

namespace taupe::io {

/// What an import or export did (`brief()` for the terminal).
struct IoSummary {
  std::string what;                        ///< e.g. "import cellx"
  std::vector<std::filesystem::path> outputs;
  std::map<std::string, std::size_t> counts;   ///< e.g. {"trajectories", 12}, {"mitosis", 5}
  std::vector<std::string> notes;          ///< conversions applied, defaults used
  std::string brief() const;
};

/// Fate of a label folder / fate-table entry: mitosis|mit|mitotic, apoptosis|apop|apoptotic
/// (case-insensitive), censored, left_field; then `label_map` (lower-cased keys) wins.
/// Throws DataError "<where>: label '<name>': unknown fate label (...)".
Fate fate_from_label(const std::string& name, const std::map<std::string, Fate>& label_map,
                     const std::string& where);
/// Parses "a=b,c=d" (also repeated options joined by ',') into pairs; ConfigError naming `option`.
std::map<std::string, std::string> parse_key_values(const std::vector<std::string>& items, const std::string& option);
/// "name=fate" entries -> map with lower-cased names.
std::map<std::string, Fate> parse_label_map(const std::vector<std::string>& items);

/// Channel map: which input channel is GFP (WT) and which RFP (scrib).
struct ChannelMap {
  int gfp = 0;
  int rfp = 1;
};
/// Parses {"gfp=0,rfp=1"}; ConfigError on unknown names, duplicates or negatives.
ChannelMap parse_channel_map(const std::vector<std::string>& items);

/// Pixel values (doubles read from a TIFF) -> uint16. Values that are all integral in
/// [0, 65535] are kept exactly; otherwise the array is rescaled linearly from [min, max] to
/// [0, 65535] (rounded) and `rescaled` is set. Non-finite values were rejected on read.
std::vector<std::uint16_t> to_uint16(const std::vector<double>& v, bool* rescaled);

/// Label values (doubles read from a mask TIFF) -> uint32; DataError naming `where` if a value
/// is negative, non-integral or above 2^32-1.
std::vector<std::uint32_t> to_labels(const std::vector<double>& v, const std::string& where);

/// Lower-case ASCII copy.
std::string lower(std::string s);
/// Sorted regular files in `dir` with one of `extensions` (lower-case, with dot).
std::vector<std::filesystem::path> list_files(const std::filesystem::path& dir,
                                              const std::vector<std::string>& extensions);
/// Sorted sub-directories of `dir`.
std::vector<std::filesystem::path> list_dirs(const std::filesystem::path& dir);
/// Refuses to import into an existing non-empty output (IoError) unless `overwrite`.
void check_output(const std::filesystem::path& out, bool overwrite);

}  // namespace taupe::io
