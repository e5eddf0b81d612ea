#pragma once
// The one CSV reader/writer of the project: tidy tables written by the experiments, prediction
// and export, and every CSV an importer reads (tracks tables, fate tables, spot tables).
//
// Format: UTF-8, header row, comma separator, '\n' line ends; fields quoted per RFC 4180 when
// they contain a comma, quote, CR or LF or start/end with a space (quotes doubled inside).
// The reader also accepts CRLF line ends, a UTF-8 BOM and a trailing newline or none; with
// CsvFormat::whitespace it reads space/tab-delimited tables (btrack's export_CSV) instead. Numbers are written
// in the shortest form that reads back to the same double ("0.1", "1e-07", "nan").
// Files are written atomically (core/atomic_file.h).
//
//   CsvTable t({"model", "pc", "shift", "true_class", "fraction_apoptosis"});
//   t.add_row({cell(0), cell(1), cell(-0.5), "apoptosis", cell(0.83)});
//   write_csv(dir / "pc_shift.csv", t);
//   CsvTable back = read_csv(dir / "pc_shift.csv");
//   double f = back.number(0, "fraction_apoptosis");
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace taupe {

/// Shortest round-trip text of a double ("0.1", "-2", "1e-07"); NaN → "nan", ±inf → "inf"/"-inf".
std::string csv_number(double v);
inline std::string cell(double v) { return csv_number(v); }
inline std::string cell(int v) { return std::to_string(v); }
inline std::string cell(long v) { return std::to_string(v); }
inline std::string cell(long long v) { return std::to_string(v); }
inline std::string cell(unsigned v) { return std::to_string(v); }
inline std::string cell(unsigned long v) { return std::to_string(v); }
inline std::string cell(unsigned long long v) { return std::to_string(v); }
inline std::string cell(bool v) { return v ? "true" : "false"; }

/// One field, quoted if needed (RFC 4180).
std::string csv_escape(const std::string& field);

/// How a CSV is delimited. `whitespace`: fields separated by runs of spaces/tabs (no quoting),
/// as btrack's export_CSV writes them.
struct CsvFormat {
  char delimiter = ',';
  bool whitespace = false;
};

class CsvTable {
 public:
  CsvTable() = default;
  /// Throws DataError on an empty or duplicate column name.
  explicit CsvTable(std::vector<std::string> header);

  const std::vector<std::string>& header() const { return header_; }
  const std::vector<std::vector<std::string>>& rows() const { return rows_; }
  std::size_t size() const { return rows_.size(); }
  std::size_t columns() const { return header_.size(); }

  /// Appends a row; throws DataError when its width differs from the header.
  void add_row(std::vector<std::string> row);
  /// Same, recording the line of the source file it came from (see line_of).
  void add_row(std::vector<std::string> row, std::size_t line);
  /// Index of a column; throws DataError naming the column (and `source_` if read from a file).
  std::size_t column(const std::string& name) const;
  bool has_column(const std::string& name) const;
  const std::string& at(std::size_t row, const std::string& col) const;
  /// Parses a numeric field ("nan"/"inf" accepted); throws DataError naming row/column.
  double number(std::size_t row, const std::string& col) const;
  std::int64_t integer(std::size_t row, const std::string& col) const;
  /// All values of a numeric column.
  std::vector<double> numbers(const std::string& col) const;

  /// Line of the file where row `row` starts (1-based; the header is line 1 unless blank lines
  /// precede it); 0 for rows added in memory.
  std::size_t line_of(std::size_t row) const { return row < lines_.size() ? lines_[row] : 0; }
  /// Where the table came from ("<memory>" or the file), used in error messages.
  const std::string& source() const { return source_; }
  void set_source(std::string s) { source_ = std::move(s); }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> lines_;   ///< parsed rows' line numbers
  std::string source_ = "<memory>";
};

/// CSV text of a table.
std::string to_csv(const CsvTable& t);
/// Parses CSV text (first record = header); throws DataError naming `source`, the line and the
/// rule (unterminated quote, stray quote, wrong field count).
CsvTable parse_csv(const std::string& text, const std::string& source = "<memory>", const CsvFormat& format = {});
/// Atomic write.
void write_csv(const std::filesystem::path& path, const CsvTable& t);
/// Reads and parses; IoError if unreadable, DataError if malformed.
CsvTable read_csv(const std::filesystem::path& path, const CsvFormat& format = {});

}  // namespace taupe
