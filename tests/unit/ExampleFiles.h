//===- ExampleFiles.h - the example models a test reads ---------*- C++ -*-===//
//
// The path of a model under examples/ and a file's bytes, for the frontend
// tests that start from the example models.
//
//===----------------------------------------------------------------------===//

#ifndef GRADC_TESTS_UNIT_EXAMPLEFILES_H
#define GRADC_TESTS_UNIT_EXAMPLEFILES_H

#include <fstream>
#include <sstream>
#include <string>

namespace gradc::test {

/// The whole content of `path` (empty when it cannot be read).
inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// examples/`name` in the source tree.
inline std::string examplePath(const std::string &name) {
  return std::string(GRADC_SOURCE_DIR) + "/examples/" + name;
}

} // namespace gradc::test

#endif // GRADC_TESTS_UNIT_EXAMPLEFILES_H
