// For tests that read the captured profiles of tests/testdata: from the
// runfiles under `bazel test`, else relative to the checkout's root.
#ifndef PPROF_EXPORTER_EXPORTER_TESTING_FIXTURE_H_
#define PPROF_EXPORTER_EXPORTER_TESTING_FIXTURE_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace exporter::testing {

inline std::string FixtureDir() {
  if (const char* src = std::getenv("TEST_SRCDIR")) {
    return absl::StrCat(src, "/pprof_exporter/tests/testdata");
  }
  return "tests/testdata";
}

// The bytes of tests/testdata/<name>; empty if it cannot be read.
inline std::string ReadFixture(const std::string& name) {
  std::ifstream in(FixtureDir() + "/" + name, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace exporter::testing

#endif  // PPROF_EXPORTER_EXPORTER_TESTING_FIXTURE_H_
