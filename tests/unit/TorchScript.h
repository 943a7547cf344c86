//===- TorchScript.h - numbers from Debian's PyTorch in a test -*- C++ -*-===//
//
// Runs a Python script with /usr/bin/python3 (which has python3-torch) and
// reads the numbers it prints, one per line. A test skips only when PyTorch
// is not installed; a reference script that fails, or prints anything but
// numbers, fails the test.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_TORCHSCRIPT_H
#define GRADC_TESTS_UNIT_TORCHSCRIPT_H

#include "gtest/gtest.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <vector>

namespace gradc::test {

/// Runs `script` and appends the numbers it prints to `values`. False only
/// when PyTorch is not installed (the caller skips); a script that cannot be
/// written or run, exits non-zero or prints a line that is not a number is a
/// failure of the current test (and leaves `values` short).
inline bool runTorchScript(const std::string &script,
                           std::vector<double> &values) {
  if (std::system("/usr/bin/python3 -c 'import torch' 2>/dev/null") != 0)
    return false;
  // One file per test and process: ctest runs the tests in parallel.
  std::string path =
      testing::TempDir() + "torch_" +
      testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
      std::to_string(getpid()) + ".py";
  FILE *f = std::fopen(path.c_str(), "w");
  if (!f) {
    ADD_FAILURE() << "cannot write the PyTorch reference script " << path;
    return true;
  }
  std::fputs(script.c_str(), f);
  std::fclose(f);
  FILE *p =
      popen(("/usr/bin/python3 " + path + " 2>" + path + ".err").c_str(), "r");
  if (!p) {
    ADD_FAILURE() << "cannot run /usr/bin/python3 " << path;
    return true;
  }
  std::string output;
  bool numbers = true;
  char line[4096];
  while (std::fgets(line, sizeof(line), p)) {
    output += line;
    char *end = nullptr;
    double v = std::strtod(line, &end);
    if (end == line || (*end != '\n' && *end != '\0'))
      numbers = false;
    else if (numbers)
      values.push_back(v);
  }
  int status = pclose(p);
  if (std::FILE *e = std::fopen((path + ".err").c_str(), "r")) {
    while (std::fgets(line, sizeof(line), e))
      output += line;
    std::fclose(e);
  }
  std::remove((path + ".err").c_str());
  if (status != 0 || !numbers)
    ADD_FAILURE() << "the PyTorch reference script "
                  << (status != 0 ? "failed"
                                  : "printed a line that is not a number")
                  << ":\n"
                  << script << "\n--- its output:\n"
                  << output;
  else
    std::remove(path.c_str());
  return true;
}

} // namespace gradc::test

#endif // GRADC_TESTS_UNIT_TORCHSCRIPT_H
