// Tidy CSV: RFC-4180 quoting round trip, exact numbers, errors naming source/line, atomic files.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "taupe/core/errors.h"
#include "taupe/dataset/csv.h"

namespace taupe {
namespace {

TEST(Csv, EscapeQuotesOnlyWhenNeeded) {
  EXPECT_EQ(csv_escape("plain"), "plain");
  EXPECT_EQ(csv_escape("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_escape("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_escape("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_escape(" padded"), "\" padded\"");
  EXPECT_EQ(csv_escape(""), "");
}

TEST(Csv, NumbersRoundTripExactly) {
  EXPECT_EQ(csv_number(0.1), "0.1");
  EXPECT_EQ(csv_number(-2.0), "-2");
  EXPECT_EQ(csv_number(-0.0), "0");
  EXPECT_EQ(csv_number(std::nan("")), "nan");
  EXPECT_EQ(csv_number(-HUGE_VAL), "-inf");
  CsvTable t({"v"});
  const std::vector<double> vals{1.0 / 3.0, 1e-300, 6.02214076e23, -0.8333333333333334, 0.1 + 0.2};
  for (double v : vals) t.add_row({cell(v)});
  const CsvTable back = parse_csv(to_csv(t));
  for (std::size_t i = 0; i < vals.size(); ++i) EXPECT_EQ(back.number(i, "v"), vals[i]) << i;
}

TEST(Csv, RoundTripWithQuoting) {
  CsvTable t({"model", "condition", "class", "value", "note"});
  t.add_row({cell(0), "pc_shift,+0.5", "apoptosis", cell(0.25), "said \"ok\""});
  t.add_row({cell(1), "multi\nline", "mitosis", cell(-1.5), ""});
  t.add_row({cell(2), " lead", "synthetic", cell(std::nan("")), "\r\n"});
  const std::string text = to_csv(t);
  EXPECT_EQ(text.substr(0, text.find('\n')), "model,condition,class,value,note");
  const CsvTable back = parse_csv(text, "mem.csv");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back.header(), t.header());
  EXPECT_EQ(back.rows(), t.rows());
  EXPECT_TRUE(std::isnan(back.number(2, "value")));
  EXPECT_EQ(back.integer(1, "model"), 1);
  EXPECT_EQ(back.numbers("value").size(), 3u);
}

TEST(Csv, ReaderAcceptsCrlfBomAndMissingFinalNewline) {
  const CsvTable t = parse_csv("\xEF\xBB\xBF" "a,b\r\n1,\"x\"\r\n\r\n2,y");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.at(0, "b"), "x");
  EXPECT_EQ(t.at(1, "a"), "2");
}

TEST(Csv, SingleColumnEmptyFieldSurvives) {
  CsvTable t({"only"});
  t.add_row({""});
  t.add_row({"x"});
  const CsvTable back = parse_csv(to_csv(t));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back.at(0, "only"), "");
}

TEST(Csv, ErrorsNameSourceAndRule) {
  auto message = [](const std::string& text) {
    try {
      parse_csv(text, "exp.csv");
    } catch (const DataError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("a,b\n1,\"unterminated\n").find("exp.csv: line 2: unterminated"), std::string::npos);
  EXPECT_EQ(message("a,b\n\n1,2\n1,2,3\n"), "exp.csv: line 4: 3 fields, the header has 2");
  EXPECT_NE(message("a,b\n1,x\"y\n").find("stray quote"), std::string::npos);
  EXPECT_NE(message("a,a\n").find("appears twice"), std::string::npos);
  EXPECT_NE(message("").find("empty CSV"), std::string::npos);
  const CsvTable t = parse_csv("a\nnot-a-number\n", "exp.csv");
  EXPECT_THROW(t.column("b"), DataError);
  try {
    t.number(0, "a");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("exp.csv: row 1, column 'a'"), std::string::npos);
  }
  CsvTable w({"a", "b"});
  EXPECT_THROW(w.add_row({"1"}), DataError);
}

TEST(Csv, FileRoundTripIsAtomic) {
  const auto dir = std::filesystem::temp_directory_path() / ("taupe_csv_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  CsvTable t({"pc", "slope"});
  t.add_row({cell(1), cell(-0.16)});
  write_csv(dir / "slopes.csv", t);
  const CsvTable back = read_csv(dir / "slopes.csv");
  EXPECT_EQ(back.number(0, "slope"), -0.16);
  EXPECT_EQ(back.source(), (dir / "slopes.csv").string());
  for (const auto& e : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  EXPECT_THROW(read_csv(dir / "missing.csv"), IoError);
  std::filesystem::remove_all(dir);
}

/// Rows remember the line they start on (quoted newlines and blank lines counted); the
/// whitespace format reads btrack's space-delimited export.
TEST(Csv, LineNumbersAndWhitespaceTables) {
  const CsvTable t = parse_csv("a,b\n\n1,\"two\nlines\"\n3,4\r\n", "l.csv");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.line_of(0), 3u);
  EXPECT_EQ(t.line_of(1), 5u);
  EXPECT_EQ(t.at(0, "b"), "two\nlines");
  CsvFormat ws;
  ws.whitespace = true;
  const CsvTable w = parse_csv("ID t  x\ty\n\n1 0 2.5   3\n", "w.csv", ws);
  EXPECT_EQ(w.header(), (std::vector<std::string>{"ID", "t", "x", "y"}));
  EXPECT_EQ(w.number(0, "y"), 3.0);
  EXPECT_EQ(w.line_of(0), 3u);
  CsvFormat semi;
  semi.delimiter = ';';
  EXPECT_EQ(parse_csv("a;b\n\"x;y\";2\n", "s.csv", semi).at(0, "a"), "x;y");
}

}  // namespace
}  // namespace taupe
