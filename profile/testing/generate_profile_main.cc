// Writes a large synthetic Go CPU profile (see generate_profile.h).
//
//   bazel run -c opt //profile:generate_profile -- --scale=4 --out=/tmp/4x.pb.gz
//
// Flags: --scale=N (default 1: 300,000 samples), --seed=S (default 1),
// --samples=N (samples at scale 1), --out=FILE (required; "-" for stdout),
// --raw (uncompressed profile.proto instead of gzip).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "profile/testing/generate_profile.h"

namespace {

constexpr char kUsage[] =
    "usage: generate_profile --out=FILE [--scale=N] [--seed=S] [--samples=N] "
    "[--raw]\n";

int Usage(absl::string_view problem) {
  std::cerr << "generate_profile: " << problem << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  profile::testing::GeneratorOptions options;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--raw") {
      options.gzip = false;
    } else if (absl::ConsumePrefix(&arg, "--scale=")) {
      if (!absl::SimpleAtoi(arg, &options.scale) || options.scale < 1) {
        return Usage("--scale must be a positive integer");
      }
    } else if (absl::ConsumePrefix(&arg, "--seed=")) {
      if (!absl::SimpleAtoi(arg, &options.seed)) {
        return Usage("--seed must be an unsigned integer");
      }
    } else if (absl::ConsumePrefix(&arg, "--samples=")) {
      if (!absl::SimpleAtoi(arg, &options.samples) || options.samples < 1) {
        return Usage("--samples must be a positive integer");
      }
    } else if (absl::ConsumePrefix(&arg, "--out=")) {
      out_path = std::string(arg);
    } else {
      return Usage(std::string("unknown argument ") + argv[i]);
    }
  }
  if (out_path.empty()) return Usage("--out=FILE is required");
  // `bazel run` starts us in the runfiles tree; resolve relative paths
  // against the directory the user ran bazel from.
  if (const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
      cwd != nullptr && out_path != "-" && out_path[0] != '/') {
    out_path = std::string(cwd) + "/" + out_path;
  }

  const auto start = std::chrono::steady_clock::now();
  const std::string bytes = profile::testing::GenerateCpuProfile(options);
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  if (out_path == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::cout.flush();
    if (!std::cout) return Usage("cannot write to stdout");
  } else {
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::cerr << "generate_profile: cannot write " << out_path << "\n";
      return 1;
    }
  }
  std::fprintf(stderr,
               "generate_profile: %lld samples (scale %d, seed %llu), %zu "
               "bytes %s in %.2f s\n",
               static_cast<long long>(options.samples * options.scale),
               options.scale, static_cast<unsigned long long>(options.seed),
               bytes.size(), options.gzip ? "gzipped" : "raw", seconds);
  return 0;
}
