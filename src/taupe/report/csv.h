#pragma once
// The tidy tables of the experiments and the report use the project's one CSV reader/writer
// (taupe/dataset/csv.h); these names keep the report's spelling.
#include "taupe/dataset/csv.h"

namespace taupe::report {

using taupe::cell;
using taupe::csv_escape;
using taupe::csv_number;
using taupe::CsvFormat;
using taupe::CsvTable;
using taupe::parse_csv;
using taupe::read_csv;
using taupe::to_csv;
using taupe::write_csv;

}  // namespace taupe::report
