//===- TempDirTest.h - a test fixture with its own folder -------*- C++ -*-===//
//
// The fixture of the data reader tests: each test gets an empty folder of
// its own under GoogleTest's TempDir (removed afterwards), writes its input
// files there byte for byte, reads files back, and can run a Python script
// with numpy in that folder to make files the way NumPy writes them.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_TEMPDIRTEST_H
#define GRADC_TESTS_UNIT_TEMPDIRTEST_H

#include "gtest/gtest.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace gradc {

class TempDirTest : public ::testing::Test {
protected:
  void SetUp() override {
    const ::testing::TestInfo *info =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        std::filesystem::path(::testing::TempDir()) /
        (std::string("gradc_") + info->test_suite_name() + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// The path of `name` in the test's folder.
  std::string path(const std::string &name) const {
    return (dir_ / name).string();
  }

  /// Writes `bytes` as `name` (creating its folders); returns its path.
  std::string write(const std::string &name, const std::string &bytes) {
    std::string p = path(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    return p;
  }
  std::string write(const std::string &name,
                    const std::vector<uint8_t> &bytes) {
    return write(name, std::string(bytes.begin(), bytes.end()));
  }

  /// The contents of the file at `file` (a path, not a name).
  std::string read(const std::string &file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  /// Runs `code` with numpy imported as np, in the test's folder.
  void python(const std::string &code) {
    std::string script = path("make.py");
    std::ofstream(script) << "import numpy as np\nimport os\nos.chdir(r'"
                          << dir_.string() << "')\n"
                          << code << "\n";
    int rc = std::system(("/usr/bin/python3 " + script).c_str());
    ASSERT_EQ(rc, 0) << code;
  }

  std::filesystem::path dir_;
};

} // namespace gradc

#endif // GRADC_TESTS_UNIT_TEMPDIRTEST_H
