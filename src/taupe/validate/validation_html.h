#pragma once
// validation.html: the study's table and figure as a self-contained page (report/html.h).
#include <filesystem>
#include <string>
#include <vector>

namespace taupe::validate {

struct Validation;

/// One forest-plot panel per verdict: rows are seeds grouped by world, each the verdict's
/// estimate with its interval, coloured by outcome, with lines at zero and ±margin (the margin
/// the world's runs report). One SVG string per verdict, in the cells' verdict order.
std::vector<std::string> effect_size_panels(const Validation& v);

/// Writes the page atomically: headline, the world × verdict table, per-run table, figure.
void write_validation_html(const Validation& v, const std::filesystem::path& path);

}  // namespace taupe::validate
