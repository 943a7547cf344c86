//===- TorchScript.h - numbers from Debian's PyTorch in a test -*- C++ -*-===//
//
// Runs a Python script with /usr/bin/python3 (which has python3-torch) and
// reads the numbers it prints, one per line. Tests skip when PyTorch is not
// installed.
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

/// False when PyTorch is missing or the script fails.
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
  if (!f)
    return false;
  std::fputs(script.c_str(), f);
  std::fclose(f);
  FILE *p = popen(("/usr/bin/python3 " + path).c_str(), "r");
  if (!p)
    return false;
  char line[128];
  while (std::fgets(line, sizeof(line), p))
    values.push_back(std::stod(line));
  bool ok = pclose(p) == 0;
  std::remove(path.c_str());
  return ok;
}

} // namespace gradc::test

#endif // GRADC_TESTS_UNIT_TORCHSCRIPT_H
