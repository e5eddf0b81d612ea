#include "taupe/dataset/types.h"

#include <algorithm>
#include <cctype>

#include "taupe/core/errors.h"

namespace taupe {
namespace {

std::string normalise(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '-' || c == ' ') c = '_';
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

std::string to_string(CellType t) {
  switch (t) {
    case CellType::kUnknown: return "unknown";
    case CellType::kWildType: return "wt";
    case CellType::kScrib: return "scrib";
  }
  return "celltype(" + std::to_string(static_cast<int>(t)) + ")";
}

std::string to_string(Fate f) {
  switch (f) {
    case Fate::kCensored: return "censored";
    case Fate::kMitosis: return "mitosis";
    case Fate::kApoptosis: return "apoptosis";
    case Fate::kLeftField: return "left_field";
  }
  return "fate(" + std::to_string(static_cast<int>(f)) + ")";
}

CellType cell_type_from_string(const std::string& s) {
  const std::string n = normalise(s);
  if (n == "wt" || n == "wild_type" || n == "wildtype" || n == "gfp") return CellType::kWildType;
  if (n == "scrib" || n == "scribble" || n == "rfp") return CellType::kScrib;
  if (n == "unknown") return CellType::kUnknown;
  throw DataError("unknown cell type '" + s + "': expected one of wt, wild_type, gfp, scrib, rfp, unknown");
}

Fate fate_from_string(const std::string& s) {
  const std::string n = normalise(s);
  if (n == "mitosis" || n == "mit" || n == "divide" || n == "division") return Fate::kMitosis;
  if (n == "apoptosis" || n == "apop" || n == "death") return Fate::kApoptosis;
  if (n == "censored" || n == "none") return Fate::kCensored;
  if (n == "left_field" || n == "leftfield" || n == "left") return Fate::kLeftField;
  throw DataError("unknown fate '" + s + "': expected one of mitosis, apoptosis, censored (none), left_field");
}

}  // namespace taupe
