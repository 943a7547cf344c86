//===- LoadDataTest.cpp - a model's data found and checked by its format --===//
//
// tools/LoadData.cpp (in the gradc_driver library): the reader is picked by
// what --data is (here a CSV file), the parts are checked against the model
// (feature count, classes), and a file that does not fit is one error line
// naming the file.
//
//===----------------------------------------------------------------------===//

#include "tools/LoadData.h"

#include "frontend/ModelLoader.h"

#include "gtest/gtest.h"

#include <fstream>

using namespace gradc;

namespace {

constexpr char kModel[] = R"pb(
  name: "table"
  input { name: "row" shape: [3] }
  layer { name: "out" dense { units: 2 activation: SOFTMAX } }
  loss { sparse_categorical_crossentropy {} }
  optimizer { sgd {} }
  training { batch_size: 2 epochs: 1 validation_split: 0 }
  data { csv { target: "label" } }
)pb";

ResolvedModel model() {
  auto file = parseModelText(kModel, "table.pbtxt");
  EXPECT_TRUE(file.ok()) << file.status();
  auto m = checkModel(**file);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

std::string write(const std::string &name, const std::string &text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(LoadData, CsvFileIsReadAndCheckedAgainstTheModel) {
  ResolvedModel m = model();
  std::string csv = write("loaddata_ok.csv", "a,b,c,label\n"
                                             "1,2,3,0\n"
                                             "4,5,6,1\n"
                                             "7,8,9,1\n"
                                             "0,1,0,0\n");
  std::string source;
  auto data = loadModelData(m, csv, /*testOnly=*/false, &source);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(source, csv);
  EXPECT_EQ(data->train.size() + data->validation.size() + data->test.size(),
            4);
  EXPECT_GT(data->train.size(), 0);
}

TEST(LoadData, TooManyClassesIsOneLineNamingTheFile) {
  ResolvedModel m = model();
  std::string csv = write("loaddata_classes.csv", "a,b,c,label\n"
                                                  "1,2,3,0\n"
                                                  "4,5,6,7\n");
  auto data = loadModelData(m, csv, /*testOnly=*/false, nullptr);
  ASSERT_FALSE(data.ok());
  std::string msg(data.status().message());
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_NE(msg.find("loaddata_classes.csv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("out of range"), std::string::npos) << msg;
}

TEST(LoadData, WrongFeatureCountIsRefused) {
  ResolvedModel m = model();
  std::string csv = write("loaddata_features.csv", "a,b,label\n"
                                                   "1,2,0\n"
                                                   "4,5,1\n");
  auto data = loadModelData(m, csv, /*testOnly=*/false, nullptr);
  ASSERT_FALSE(data.ok());
  std::string msg(data.status().message());
  EXPECT_NE(msg.find("loaddata_features.csv"), std::string::npos) << msg;
  EXPECT_NE(msg.find("examples have 2 features, the model input needs 3"),
            std::string::npos)
      << msg;
}

} // namespace
