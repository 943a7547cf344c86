//===- CsvTest.cpp - the CSV reader ---------------------------------------===//
//
// CSV files are written here into a temporary directory: quoting, CRLF, a
// BOM, blank lines, string and integer classes, the test file's mapping,
// regression targets, every cell, column and file error with its
// file:line:col, and a time series' forecasting windows.
//
//===----------------------------------------------------------------------===//

#include "runtime/data/Csv.h"

#include "tests/unit/TempDirTest.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include <string>
#include <vector>

namespace gradc {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

class CsvTest : public TempDirTest {
protected:
  /// Reads a CSV file that must load; classNames start empty.
  Dataset csv(const std::string &text, const CsvOptions &o,
              std::vector<std::string> *names = nullptr) {
    std::vector<std::string> local;
    absl::StatusOr<Dataset> d =
        readCsv(write("d.csv", text), o, names ? names : &local);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? *d : Dataset();
  }
  /// The error message of reading `text` as a CSV file "d.csv".
  std::string csvError(const std::string &text, const CsvOptions &o,
                       std::vector<std::string> names = {}) {
    absl::StatusOr<Dataset> d = readCsv(write("d.csv", text), o, &names);
    EXPECT_FALSE(d.ok());
    return std::string(d.status().message());
  }
};

CsvOptions classes(const std::string &target = "y") {
  CsvOptions o;
  o.targets = {target};
  return o;
}

TEST_F(CsvTest, CsvIntegerClassesAndFeatureOrder) {
  std::vector<std::string> names;
  Dataset d = csv("a,b,y\n1,2.5,3\n-4,5e-1,0\n", classes(), &names);
  EXPECT_EQ(d.height, 1);
  EXPECT_EQ(d.width, 1);
  EXPECT_EQ(d.channels, 2);
  EXPECT_THAT(d.images, ElementsAre(1.0f, 2.5f, -4.0f, 0.5f));
  EXPECT_THAT(d.labels, ElementsAre(3, 0));
  EXPECT_TRUE(names.empty());
  EXPECT_TRUE(d.targets.empty());
  EXPECT_EQ(d.targetWidth, 0);

  CsvOptions o = classes();
  o.features = {"b", "a"};
  d = csv("a,b,y,ignored\n1,2,3,x\n4,5,6,\n", o);
  EXPECT_EQ(d.channels, 2);
  EXPECT_THAT(d.images, ElementsAre(2, 1, 5, 4));
  EXPECT_THAT(d.labels, ElementsAre(3, 6));
}

TEST_F(CsvTest, CsvQuotingCrlfBomAndBlankLines) {
  std::vector<std::string> names;
  Dataset d = csv("\xEF\xBB\xBF\"x,1\",\"y\"\r\n"
                  "\"1.5\",\"say \"\"hi\"\"\r\nthere\"\r\n"
                  "\r\n"
                  "  2 ,plain\r\n"
                  "\n"
                  "3,\"a,b\"",
                  classes(), &names);
  EXPECT_EQ(d.channels, 1);
  EXPECT_THAT(d.images, ElementsAre(1.5f, 2.0f, 3.0f));
  EXPECT_THAT(names, ElementsAre("a,b", "plain", "say \"hi\"\r\nthere"));
  EXPECT_THAT(d.labels, ElementsAre(2, 1, 0));

  // Lines count the line ends inside quotes: the bad cell is on line 6.
  std::string message =
      csvError("x,y\n1,\"multi\nline\"\n\n2,a\nbad,b\n", classes());
  EXPECT_EQ(message, path("d.csv") + ":6:1: error: column 'x': 'bad' is not "
                                     "a number");
  EXPECT_EQ(csvError("x,y\n1,\"open\n2,a\n", classes()),
            path("d.csv") + ":2:2: error: a quoted field is not closed "
                            "before the end of the file");
  EXPECT_THAT(csvError("x,y\n1,\"a\"b\n", classes()),
              StartsWith(path("d.csv") + ":2:2: error: 'b' after the closing "
                                         "quote of a field"));
}

TEST_F(CsvTest, CsvStringClassesSortedAndTestFileMapping) {
  std::vector<std::string> names;
  Dataset d = csv("f,species\n1,zebra\n2,ant\n3,moose\n4,ant\n",
                  classes("species"), &names);
  EXPECT_THAT(names, ElementsAre("ant", "moose", "zebra"));
  EXPECT_THAT(d.labels, ElementsAre(2, 0, 1, 0));

  // A test file keeps the training file's indices, even with one class.
  std::vector<std::string> test = names;
  d = csv("f,species\n1,moose\n", classes("species"), &test);
  EXPECT_THAT(d.labels, ElementsAre(1));
  EXPECT_EQ(test, names);
  EXPECT_EQ(csvError("f,species\n1,moose\n2,cat\n", classes("species"), names),
            path("d.csv") + ":3:2: error: class 'cat' is not one of the "
                            "training file's classes");
  // Mixed integers and strings are strings.
  names.clear();
  d = csv("f,y\n1,10\n2,9\n3,x\n", classes(), &names);
  EXPECT_THAT(names, ElementsAre("10", "9", "x"));
  EXPECT_THAT(d.labels, ElementsAre(0, 1, 2));
  // A test file whose training file had integer labels: a string class is
  // an error, not a mapping of its own.
  CsvOptions integers = classes();
  integers.integerLabels = true;
  d = csv("f,y\n1,3\n2,0\n", integers);
  EXPECT_THAT(d.labels, ElementsAre(3, 0));
  EXPECT_EQ(csvError("f,y\n1,3\n2,cat\n", integers),
            path("d.csv") + ":3:2: error: class 'cat' is not an integer, as "
                            "the training file's class labels are");
}

TEST_F(CsvTest, CsvRegressionWithTwoTargets) {
  CsvOptions o;
  o.targets = {"t2", "t1"};
  o.valueTargets = true;
  Dataset d = csv("t1,a,t2,b\n1,2,3,4\n-1.5,0,1e3,+7\n", o);
  EXPECT_EQ(d.channels, 2);
  EXPECT_THAT(d.images, ElementsAre(2, 4, 0, 7));
  EXPECT_EQ(d.targetWidth, 2);
  EXPECT_THAT(d.targets, ElementsAre(3, 1, 1000, -1.5f));
  EXPECT_THAT(d.labels, ElementsAre(0, 0));
  EXPECT_EQ(csvError("t1,a,t2,b\n1,2,x,4\n", o),
            path("d.csv") + ":2:3: error: column 't2': 'x' is not a number");
}

TEST_F(CsvTest, CsvCellErrors) {
  CsvOptions o = classes();
  EXPECT_EQ(csvError("a,b,y\n1,2,0\n3,abc,1\n", o),
            path("d.csv") + ":3:2: error: column 'b': 'abc' is not a number");
  for (const char *cell : {"nan", "NaN", "inf", "-inf", "1e999", "", "0x10",
                           "1,5", "--1", "+-1"}) {
    SCOPED_TRACE(cell);
    std::string quoted = std::string("\"") + cell + "\"";
    EXPECT_EQ(csvError("a,y\n1,0\n" + quoted + ",1\n", o),
              path("d.csv") + ":3:1: error: column 'a': '" + cell +
                  "' is not a number");
  }
  // Tiny numbers underflow to zero instead of failing.
  Dataset d = csv("a,y\n1e-400,0\n", o);
  EXPECT_THAT(d.images, ElementsAre(0.0f));

  EXPECT_EQ(csvError("a,b,y\n1,2,0\n3,4\n", o),
            path("d.csv") + ":3: error: 2 fields, the header has 3");
  EXPECT_EQ(csvError("a,b,y\n1,2,0,5,6\n", o),
            path("d.csv") + ":2: error: 5 fields, the header has 3");
  EXPECT_EQ(csvError("a,y\n1,-1\n", o),
            path("d.csv") + ":2:2: error: column 'y': class label -1 is "
                            "negative");
  EXPECT_EQ(csvError("a,y\n1,0\n2, \n", o),
            path("d.csv") + ":3:2: error: column 'y': empty class label");
}

TEST_F(CsvTest, CsvColumnAndFileErrors) {
  EXPECT_EQ(csvError("a,b,label\n1,2,0\n", classes("y")),
            path("d.csv") + ": error: no target column 'y'; the header has "
                            "'a', 'b', 'label'");
  CsvOptions o = classes();
  o.features = {"a", "c"};
  EXPECT_EQ(csvError("a,b,y\n1,2,0\n", o),
            path("d.csv") + ": error: no feature column 'c'; the header has "
                            "'a', 'b', 'y'");
  o.features = {"a", "y"};
  EXPECT_EQ(csvError("a,b,y\n1,2,0\n", o),
            path("d.csv") + ": error: column 'y' is both a feature and a "
                            "target");
  CsvOptions two;
  two.targets = {"a", "b"};
  EXPECT_THAT(csvError("a,b,y\n1,2,0\n", two),
              StartsWith(path("d.csv") + ": error: class labels come from "
                                         "one column, 2 target columns"));
  EXPECT_EQ(csvError("y\n1\n", classes()),
            path("d.csv") + ": error: no feature columns: the header has "
                            "only the target columns 'y'");
  EXPECT_EQ(csvError("a,b,a\n1,2,3\n", classes()),
            path("d.csv") + ":1:3: error: column 'a' appears twice in the "
                            "header (columns 1 and 3)");
  EXPECT_EQ(csvError("", classes()),
            path("d.csv") + ": error: the file is empty; expected a header "
                            "row of column names");
  EXPECT_EQ(csvError("\n\r\n\n", classes()),
            path("d.csv") + ": error: the file is empty; expected a header "
                            "row of column names");
  EXPECT_EQ(csvError("a,y\r\n", classes()),
            path("d.csv") + ":1: error: no data rows after the header");

  std::vector<std::string> names;
  absl::StatusOr<Dataset> d = readCsv(dir_.string(), classes(), &names);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(std::string(d.status().message()),
            dir_.string() +
                ": error: CSV file is a directory, expected a regular file");
}

TEST_F(CsvTest, SequenceWindowsOfATimeSeries) {
  // The target is a feature too: its past values predict its next.
  CsvOptions o;
  o.targets = {"t"};
  o.features = {"t", "w"};
  o.valueTargets = true;
  EXPECT_THAT(csvError("t,w\n1,2\n", o),
              ::testing::HasSubstr("both a feature and a target"));
  o.targetsAsFeatures = true;
  Dataset rows = csv("t,w\n1,10\n2,20\n3,30\n4,40\n5,50\n", o);
  absl::StatusOr<Dataset> d = sequenceWindows(rows, 2, 1, "d.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  // Days (1, 2) -> 3, (2, 3) -> 4, (3, 4) -> 5: a [2, 2] sequence each.
  EXPECT_EQ(d->size(), 3);
  EXPECT_EQ(d->height, 2);
  EXPECT_EQ(d->width, 2);
  EXPECT_EQ(d->channels, 1);
  EXPECT_THAT(d->images, ElementsAre(1, 10, 2, 20, 2, 20, 3, 30, 3, 30, 4, 40));
  EXPECT_THAT(d->targets, ElementsAre(3, 4, 5));
  // Two days ahead; horizon 0 (prediction) labels a window by its last row.
  d = sequenceWindows(rows, 2, 2, "d.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->targets, ElementsAre(4, 5));
  d = sequenceWindows(rows, 3, 0, "d.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->targets, ElementsAre(3, 4, 5));
  // Class labels follow their rows too.
  Dataset labelled = csv("y,a\n0,1\n1,2\n2,3\n", classes());
  d = sequenceWindows(labelled, 1, 1, "d.csv");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_THAT(d->labels, ElementsAre(1, 2));
  // Too few rows, impossible lengths: one line naming the file.
  EXPECT_EQ(sequenceWindows(rows, 4, 2, "d.csv").status().message(),
            "d.csv: error: 5 rows, a window of 4 and a horizon of 2 need 6");
  EXPECT_THAT(
      std::string(sequenceWindows(rows, 0, 1, "d.csv").status().message()),
      StartsWith("d.csv: error: a sequence length in [1, 4096]"));
  EXPECT_FALSE(sequenceWindows(rows, 2, -1, "d.csv").ok());
  EXPECT_FALSE(sequenceWindows(rows, int64_t(1) << 40, 1, "d.csv").ok());
}

} // namespace
} // namespace gradc
