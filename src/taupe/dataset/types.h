#pragma once
// Small shared vocabulary of the data containers: cell types, fates, mask codes.
#include <cstdint>
#include <string>

namespace taupe {

/// Cell type. Channel 0 = GFP = wild type (WT); channel 1 = RFP = scribble knockdown (scrib).
enum class CellType : std::int8_t { kUnknown = 0, kWildType = 1, kScrib = 2 };

/// How a track ended. Stored as int8 with these values (docs/formats.md).
enum class Fate : std::int8_t { kCensored = 0, kMitosis = 1, kApoptosis = 2, kLeftField = 3 };

/// Classes of the temporal model, in the paper's order.
enum class FateClass : int { kMitosis = 0, kApoptosis = 1, kSynthetic = 2 };
inline constexpr int kNumClasses = 3;
inline constexpr const char* kClassNames[kNumClasses] = {"mitosis", "apoptosis", "synthetic"};

/// Glimpse mask pixel codes (uint8): bits 0-1 = cell type of the pixel's instance
/// (0 background, 1 WT, 2 scrib), bit 2 = pixel belongs to the central (tracked) cell.
inline constexpr std::uint8_t kMaskBackground = 0;
inline constexpr std::uint8_t kMaskTypeBits = 0x3;
inline constexpr std::uint8_t kMaskCentral = 0x4;
inline std::uint8_t mask_code(CellType t, bool central) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(t) | (central ? kMaskCentral : 0));
}
inline CellType mask_type(std::uint8_t code) { return static_cast<CellType>(code & kMaskTypeBits); }
inline bool mask_is_central(std::uint8_t code) { return (code & kMaskCentral) != 0; }

/// Glimpse geometry fixed by the tau-VAE: 64 x 64 pixels, 2 channels.
inline constexpr int kGlimpseSize = 64;
inline constexpr int kGlimpseChannels = 2;

std::string to_string(CellType t);
std::string to_string(Fate f);
/// Parses "wt"/"wild_type"/"gfp", "scrib"/"rfp"; throws DataError otherwise.
CellType cell_type_from_string(const std::string& s);
/// Parses "mitosis", "apoptosis", "censored"/"none", "left_field"; throws DataError otherwise.
Fate fate_from_string(const std::string& s);

}  // namespace taupe
