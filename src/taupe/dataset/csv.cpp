#include "taupe/dataset/csv.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "taupe/core/atomic_file.h"
#include "taupe/core/errors.h"

namespace taupe {

std::string csv_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == 0.0) return "0";  // also -0
  std::array<char, 64> buf{};
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), res.ptr);
}

std::string csv_escape(const std::string& field) {
  const bool quote = field.find_first_of(",\"\r\n") != std::string::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!quote) return field;
  std::string s = "\"";
  for (char c : field) {
    if (c == '"') s += '"';
    s += c;
  }
  s += '"';
  return s;
}

CsvTable::CsvTable(std::vector<std::string> header) : header_(std::move(header)) {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i].empty()) throw DataError(source_ + ": CSV column " + std::to_string(i) + " has an empty name");
    for (std::size_t k = 0; k < i; ++k)
      if (header_[k] == header_[i]) throw DataError(source_ + ": CSV column '" + header_[i] + "' appears twice");
  }
}

void CsvTable::add_row(std::vector<std::string> row) {
  if (row.size() != header_.size())
    throw DataError(source_ + ": CSV row " + std::to_string(rows_.size() + 1) + " has " + std::to_string(row.size()) +
                    " fields, header has " + std::to_string(header_.size()));
  rows_.push_back(std::move(row));
}

void CsvTable::add_row(std::vector<std::string> row, std::size_t line) {
  lines_.resize(rows_.size(), 0);
  add_row(std::move(row));
  lines_.push_back(line);
}

bool CsvTable::has_column(const std::string& name) const {
  return std::find(header_.begin(), header_.end(), name) != header_.end();
}

std::size_t CsvTable::column(const std::string& name) const {
  auto it = std::find(header_.begin(), header_.end(), name);
  if (it == header_.end()) throw DataError(source_ + ": no CSV column '" + name + "'");
  return static_cast<std::size_t>(it - header_.begin());
}

const std::string& CsvTable::at(std::size_t row, const std::string& col) const {
  const std::size_t c = column(col);
  if (row >= rows_.size())
    throw DataError(source_ + ": CSV row " + std::to_string(row) + " out of range (" + std::to_string(rows_.size()) +
                    " rows)");
  return rows_[row][c];
}

double CsvTable::number(std::size_t row, const std::string& col) const {
  const std::string& s = at(row, col);
  if (s == "nan" || s == "NaN") return std::nan("");
  if (s == "inf") return HUGE_VAL;
  if (s == "-inf") return -HUGE_VAL;
  double v = 0.0;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (!s.empty() && *b == '+') ++b;
  auto res = std::from_chars(b, e, v);
  if (s.empty() || res.ec != std::errc() || res.ptr != e)
    throw DataError(source_ + ": row " + std::to_string(row + 1) + ", column '" + col + "': '" + s +
                    "' is not a number");
  return v;
}

std::int64_t CsvTable::integer(std::size_t row, const std::string& col) const {
  const std::string& s = at(row, col);
  std::int64_t v = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || res.ec != std::errc() || res.ptr != s.data() + s.size())
    throw DataError(source_ + ": row " + std::to_string(row + 1) + ", column '" + col + "': '" + s +
                    "' is not an integer");
  return v;
}

std::vector<double> CsvTable::numbers(const std::string& col) const {
  std::vector<double> v;
  v.reserve(rows_.size());
  for (std::size_t r = 0; r < rows_.size(); ++r) v.push_back(number(r, col));
  return v;
}

std::string to_csv(const CsvTable& t) {
  std::string out;
  auto line = [&](const std::vector<std::string>& fields) {
    if (fields.size() == 1 && fields[0].empty()) {  // keep a lone empty field distinct from a blank line
      out += "\"\"\n";
      return;
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) out += ',';
      out += csv_escape(fields[i]);
    }
    out += '\n';
  };
  line(t.header());
  for (const auto& r : t.rows()) line(r);
  return out;
}

namespace {

/// Records of a CSV text and the line each starts on.
struct CsvRecords {
  std::vector<std::vector<std::string>> fields;
  std::vector<std::size_t> lines;
};

/// Runs of spaces/tabs separate fields; no quoting. Blank lines are skipped.
void split_whitespace_records(const std::string& text, std::size_t i, CsvRecords& out) {
  const std::size_t n = text.size();
  std::size_t line = 1;
  while (i < n) {
    const std::size_t eol = std::min(text.find('\n', i), n);
    std::vector<std::string> r;
    std::size_t p = i;
    for (;;) {
      while (p < eol && (text[p] == ' ' || text[p] == '\t' || text[p] == '\r')) ++p;
      if (p >= eol) break;
      const std::size_t q = std::min(text.find_first_of(" \t\r", p), eol);
      r.push_back(text.substr(p, q - p));
      p = q;
    }
    if (!r.empty()) {
      out.fields.push_back(std::move(r));
      out.lines.push_back(line);
    }
    ++line;
    i = eol + 1;
  }
}

/// Reads the quoted field whose opening quote is text[i] into `field` (doubled quotes read as
/// one); leaves `i` after the closing quote and counts the line breaks inside into `line`.
void read_quoted_field(const std::string& text, std::size_t& i, std::size_t& line, std::string& field,
                       const std::string& source) {
  const std::size_t n = text.size();
  const std::size_t start_line = line;
  ++i;
  for (;;) {
    if (i >= n) throw DataError(source + ": line " + std::to_string(start_line) + ": unterminated quoted CSV field");
    if (text[i] == '"') {
      if (i + 1 < n && text[i + 1] == '"') {
        field += '"';
        i += 2;
        continue;
      }
      ++i;
      return;
    }
    if (text[i] == '\n') ++line;
    field += text[i++];
  }
}

/// RFC 4180 records separated by `delim`: CR, LF or CRLF end a record; a line holding nothing
/// (not even `""`) is skipped.
void split_delimited_records(const std::string& text, std::size_t i, char delim, const std::string& source,
                             CsvRecords& out) {
  std::vector<std::string> rec;
  std::string field;
  std::size_t line = 1, record_line = 1;
  const std::size_t n = text.size();
  bool any = false;     // current field has content (or was quoted)
  bool quoted = false;  // current record had a quoted field (so `""` alone is not a blank line)
  auto end_field = [&] {
    rec.push_back(std::move(field));
    field.clear();
  };
  auto end_record = [&] {
    end_field();
    const bool blank = rec.size() == 1 && rec[0].empty() && !quoted;
    if (!blank) {
      out.fields.push_back(std::move(rec));
      out.lines.push_back(record_line);
    }
    rec.clear();
    any = false;
    quoted = false;
  };
  while (i < n) {
    if (!any && field.empty() && rec.empty()) record_line = line;
    const char c = text[i];
    if (c == '"' && field.empty() && !any) {
      read_quoted_field(text, i, line, field, source);
      any = true;
      quoted = true;
      if (i < n && text[i] != delim && text[i] != '\n' && text[i] != '\r')
        throw DataError(source + ": line " + std::to_string(line) + ": unexpected character after a closing quote");
      continue;
    }
    if (c == delim) {
      end_field();
      any = false;
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      ++i;
      end_record();
      ++line;
      continue;
    }
    if (c == '"') throw DataError(source + ": line " + std::to_string(line) + ": stray quote inside an unquoted field");
    field += c;
    any = true;
    ++i;
  }
  if (any || !field.empty() || !rec.empty()) end_record();
}

/// The first record is the header; every other record must have as many fields.
CsvTable table_of(CsvRecords& records, const std::string& source) {
  if (records.fields.empty()) throw DataError(source + ": empty CSV (no header)");
  CsvTable t;
  try {
    t = CsvTable(records.fields[0]);
  } catch (const DataError& e) {
    throw DataError(source + ": CSV header: " + e.what());
  }
  t.set_source(source);
  for (std::size_t r = 1; r < records.fields.size(); ++r) {
    if (records.fields[r].size() != t.columns())
      throw DataError(source + ": line " + std::to_string(records.lines[r]) + ": " +
                      std::to_string(records.fields[r].size()) + " fields, the header has " + std::to_string(t.columns()));
    t.add_row(std::move(records.fields[r]), records.lines[r]);
  }
  return t;
}

}  // namespace

CsvTable parse_csv(const std::string& text, const std::string& source, const CsvFormat& format) {
  std::size_t i = 0;
  if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;  // UTF-8 BOM
  CsvRecords records;
  if (format.whitespace) split_whitespace_records(text, i, records);
  else split_delimited_records(text, i, format.delimiter, source, records);
  return table_of(records, source);
}

void write_csv(const std::filesystem::path& path, const CsvTable& t) { write_text_atomic(path, to_csv(t)); }

CsvTable read_csv(const std::filesystem::path& path, const CsvFormat& format) {
  return parse_csv(read_text_file(path), path.string(), format);
}

}  // namespace taupe
