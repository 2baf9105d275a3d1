// Google Benchmark of decoding and reducing large CPU profiles.
//
//   bazel run -c opt //profile:bench -- --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
//
// Inputs, each benchmarked in turn:
//   fixture  the shared large-cpu.pb.gz: $PPROF_LARGE_PROFILE, else
//            $BUILD_WORKSPACE_DIRECTORY/../shared/fixtures/large-cpu.pb.gz
//            (set by `bazel run`), else ../shared/fixtures/large-cpu.pb.gz
//            from the current directory; skipped with a message if absent
//            (gen1x stands in for it).
//   genNx    the generated profile (profile/testing/generate_profile.h) at
//            scales --scales=1,4,16 (default), seed --seed=1. Generated once,
//            outside the timed loops; a scale that would not fit in memory or
//            take longer than --max_generate_seconds=300 is skipped.
// Benchmarks per input:
//   Gunzip               profile::Gunzip only: the floor for gzipped input
//   DecodeGzipped        profile::Decode of the .pb.gz bytes
//   DecodeRaw            profile::Decode of the uncompressed bytes
//   TopFunctions         TabulateFunctions + TopByFlat + TopByCum (top 10)
//   ReduceCpu            ReduceCpu on a decoded profile (GC regex included)
//   DecodeReduceGzipped  Decode + ReduceCpu from .pb.gz bytes: the whole job
// bytes_per_second is always of the *uncompressed* profile, so the MB/s of
// every benchmark of one input compare directly (Google Benchmark prints
// them in MiB/s). Counters, all in MiB: raw_MiB (input size), gz_MiB,
// peak_MiB (the process's peak RSS while the loop ran; VmHWM is reset before
// it) and extra_MiB (peak_MiB minus the RSS before the loop: the transient
// memory of one iteration, input bytes excluded).
//
// --rss_probe=FILE instead decodes FILE the way `pprof_exporter reduce`
// does (read in 1 MiB chunks through DecodeChunks, sized by the gzip
// trailer) but with the limits raised to 4 GiB, reduces it once, and prints
// the time and peak RSS: for profiles the CLI's default DecodeLimits refuse
// (the 16x one).
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "benchmark/benchmark.h"
#include "profile/decode.h"
#include "profile/inflate.h"
#include "profile/options.h"
#include "profile/profile.h"
#include "profile/reduce.h"
#include "profile/testing/generate_profile.h"
#include "profile/top.h"

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// Large enough for the 16x profile (~480 MB raw); the CLI's defaults
// (64 MiB gzipped, 256 MiB raw) would refuse it.
const profile::DecodeLimits kLimits{size_t{4} << 30, size_t{4} << 30};

// --- memory ---------------------------------------------------------------

// A "VmXXX:" line of /proc/self/status, in kB; -1 if unreadable.
long StatusKb(absl::string_view key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, key) && absl::ConsumePrefix(&rest, ":")) {
      rest = absl::StripAsciiWhitespace(rest);
      absl::ConsumeSuffix(&rest, " kB");
      long kb = 0;
      if (absl::SimpleAtoi(rest, &kb)) return kb;
    }
  }
  return -1;
}

// Resets VmHWM to the current RSS (Linux >= 4.0). False if not allowed.
bool ResetPeakRss() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "5";
  clear_refs.close();
  return static_cast<bool>(clear_refs);
}

double MaxRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is kB
}

long MemAvailableKb() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "MemAvailable:")) {
      rest = absl::StripAsciiWhitespace(rest);
      absl::ConsumeSuffix(&rest, " kB");
      long kb = 0;
      if (absl::SimpleAtoi(rest, &kb)) return kb;
    }
  }
  return -1;
}

// Measures the timed loop's memory: call Start() right before it and
// Finish() right after.
class RssMeter {
 public:
  void Start() {
    malloc_trim(0);  // give back what earlier benchmarks freed
    reset_ok_ = ResetPeakRss();
    before_kb_ = StatusKb("VmRSS");
  }
  void Finish(benchmark::State& state, size_t raw_bytes) {
    const long peak_kb = StatusKb("VmHWM");
    state.counters["raw_MiB"] = static_cast<double>(raw_bytes) / kMiB;
    if (peak_kb < 0 || before_kb_ < 0) return;
    state.counters["peak_MiB"] = peak_kb / 1024.0;
    // Without the reset, VmHWM is the whole run's peak and says nothing
    // about this loop.
    if (reset_ok_) state.counters["extra_MiB"] = (peak_kb - before_kb_) / 1024.0;
  }

 private:
  bool reset_ok_ = false;
  long before_kb_ = -1;
};

// --- inputs ---------------------------------------------------------------

struct InputSpec {
  std::string name;  // "fixture", "gen1x", ...
  std::string path;  // fixture: the file
  int scale = 0;     // generated: the scale
};

struct Input {
  std::string name;
  std::string error;  // non-empty: unavailable, and why
  std::string gzipped, raw;
  std::optional<profile::Profile> decoded;
};

uint64_t g_seed = 1;
double g_max_generate_seconds = 300;
// Seconds per generated 1x unit, from the last generation (0: none yet).
double g_generate_seconds_per_unit = 0;
// Uncompressed bytes per generated 1x unit (0: none yet).
double g_raw_bytes_per_unit = 0;

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(bytes).str();
}

void Load(const InputSpec& spec, Input& input) {
  input.name = spec.name;
  if (!spec.path.empty()) {
    auto bytes = ReadFile(spec.path);
    if (!bytes) {
      input.error = absl::StrCat("cannot read ", spec.path);
      return;
    }
    input.gzipped = *std::move(bytes);
  } else {
    // Skip what would not fit or take too long, judging by the last
    // generation (the 16x profile needs ~16 times the 1x's resources).
    if (g_raw_bytes_per_unit > 0) {
      // Generation, gzip, raw copy and a decoded Profile at once: about
      // 6 bytes of RSS per uncompressed byte, measured at 4x; keep a margin.
      const double need_kb = 8 * g_raw_bytes_per_unit * spec.scale / 1024;
      const long available_kb = MemAvailableKb();
      if (available_kb > 0 && need_kb > available_kb) {
        input.error = absl::StrCat(
            "skipped: would need ~", static_cast<long>(need_kb / 1024),
            " MiB, only ", available_kb / 1024, " MiB available");
        return;
      }
    }
    if (g_generate_seconds_per_unit > 0) {
      const double predicted = g_generate_seconds_per_unit * spec.scale;
      if (predicted > g_max_generate_seconds) {
        input.error = absl::StrCat(
            "skipped: generation would take ~", static_cast<long>(predicted),
            " s (> --max_generate_seconds=", g_max_generate_seconds, ")");
        return;
      }
    }
    profile::testing::GeneratorOptions options;
    options.seed = g_seed;
    options.scale = spec.scale;
    std::fprintf(stderr, "bench: generating %s (seed %llu) ...\n",
                 spec.name.c_str(), static_cast<unsigned long long>(g_seed));
    const auto start = std::chrono::steady_clock::now();
    input.gzipped = profile::testing::GenerateCpuProfile(options);
    const double seconds = std::chrono::duration<double>(
                               std::chrono::steady_clock::now() - start)
                               .count();
    g_generate_seconds_per_unit = seconds / spec.scale;
    std::fprintf(stderr, "bench: generated %s: %.1f MB gzipped in %.1f s\n",
                 spec.name.c_str(), input.gzipped.size() / 1e6, seconds);
  }
  auto raw = profile::Gunzip(input.gzipped, kLimits.max_decompressed_bytes);
  if (!raw.ok()) {
    input.error = absl::StrCat("gunzip: ", raw.status().ToString());
    return;
  }
  input.raw = *std::move(raw);
  if (spec.path.empty()) {
    g_raw_bytes_per_unit = static_cast<double>(input.raw.size()) / spec.scale;
  }
  std::fprintf(stderr, "bench: input %s: %.1f MB gzipped, %.1f MB raw\n",
               spec.name.c_str(), input.gzipped.size() / 1e6,
               input.raw.size() / 1e6);
}

// One input at a time is kept: benchmarks are registered input by input, so
// each input is loaded once, and the previous one's memory is returned first.
Input& GetInput(const InputSpec& spec) {
  static std::unique_ptr<Input> current;
  if (current == nullptr || current->name != spec.name) {
    current.reset();
    malloc_trim(0);
    current = std::make_unique<Input>();
    Load(spec, *current);
  }
  return *current;
}

// The input with its decoded profile, or nullptr after SkipWithError.
Input* Prepare(benchmark::State& state, const InputSpec& spec,
               bool need_decoded) {
  Input& input = GetInput(spec);
  if (input.error.empty() && need_decoded && !input.decoded) {
    auto decoded = profile::Decode(input.raw, kLimits);
    if (decoded.ok()) {
      input.decoded = *std::move(decoded);
    } else {
      input.error = absl::StrCat("decode: ", decoded.status().ToString());
    }
  }
  if (!input.error.empty()) {
    state.SkipWithError(absl::StrCat(input.name, ": ", input.error).c_str());
    return nullptr;
  }
  return &input;
}

// --- benchmarks -----------------------------------------------------------

void BM_Gunzip(benchmark::State& state, const InputSpec& spec) {
  Input* input = Prepare(state, spec, false);
  if (input == nullptr) return;
  RssMeter rss;
  rss.Start();
  for (auto _ : state) {
    auto raw = profile::Gunzip(input->gzipped, kLimits.max_decompressed_bytes);
    if (!raw.ok()) {
      state.SkipWithError(raw.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(raw->data());
  }
  rss.Finish(state, input->raw.size());
  state.counters["gz_MiB"] = input->gzipped.size() / kMiB;
  state.SetBytesProcessed(state.iterations() * input->raw.size());
}

void DecodeLoop(benchmark::State& state, const Input& input,
                absl::string_view bytes) {
  RssMeter rss;
  rss.Start();
  for (auto _ : state) {
    auto decoded = profile::Decode(bytes, kLimits);
    if (!decoded.ok()) {
      state.SkipWithError(decoded.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded->num_locations());
  }
  rss.Finish(state, input.raw.size());
  state.SetBytesProcessed(state.iterations() * input.raw.size());
}

void BM_DecodeGzipped(benchmark::State& state, const InputSpec& spec) {
  Input* input = Prepare(state, spec, false);
  if (input == nullptr) return;
  DecodeLoop(state, *input, input->gzipped);
}

void BM_DecodeRaw(benchmark::State& state, const InputSpec& spec) {
  Input* input = Prepare(state, spec, false);
  if (input == nullptr) return;
  DecodeLoop(state, *input, input->raw);
}

void BM_TopFunctions(benchmark::State& state, const InputSpec& spec) {
  Input* input = Prepare(state, spec, true);
  if (input == nullptr) return;
  const profile::Profile& p = *input->decoded;
  RssMeter rss;
  rss.Start();
  for (auto _ : state) {
    auto tabulated = profile::TabulateFunctions(p, p.default_sample_index);
    if (!tabulated.ok()) {
      state.SkipWithError(tabulated.status().ToString().c_str());
      break;
    }
    const profile::FunctionTable& table = *tabulated;
    auto flat = profile::TopByFlat(p, table, 10);
    auto cum = profile::TopByCum(p, table, 10);
    benchmark::DoNotOptimize(flat.data());
    benchmark::DoNotOptimize(cum.data());
  }
  rss.Finish(state, input->raw.size());
  state.SetBytesProcessed(state.iterations() * input->raw.size());
}

void BM_ReduceCpu(benchmark::State& state, const InputSpec& spec) {
  Input* input = Prepare(state, spec, true);
  if (input == nullptr) return;
  const profile::Profile& p = *input->decoded;
  const profile::ReduceOptions options;  // default GC regex, top 10
  RssMeter rss;
  rss.Start();
  double gc_ratio = 0;
  for (auto _ : state) {
    auto r = profile::ReduceCpu(p, p.default_sample_index, options);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    gc_ratio = r->gc_ratio;
    benchmark::DoNotOptimize(r->top_flat.data());
  }
  rss.Finish(state, input->raw.size());
  state.counters["gc_ratio"] = gc_ratio;
  state.SetBytesProcessed(state.iterations() * input->raw.size());
}

void BM_DecodeReduceGzipped(benchmark::State& state, const InputSpec& spec) {
  Input* input = Prepare(state, spec, false);
  if (input == nullptr) return;
  const profile::ReduceOptions options;
  RssMeter rss;
  rss.Start();
  for (auto _ : state) {
    auto decoded = profile::Decode(input->gzipped, kLimits);
    if (!decoded.ok()) {
      state.SkipWithError(decoded.status().ToString().c_str());
      break;
    }
    auto r =
        profile::ReduceCpu(*decoded, decoded->default_sample_index, options);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(r->top_flat.data());
  }
  rss.Finish(state, input->raw.size());
  state.SetBytesProcessed(state.iterations() * input->raw.size());
}

// --- main -----------------------------------------------------------------

std::string FixturePath() {
  if (const char* path = std::getenv("PPROF_LARGE_PROFILE")) return path;
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  return absl::StrCat(workspace != nullptr ? workspace : ".",
                      "/../shared/fixtures/large-cpu.pb.gz");
}

// Decode + reduce one file like the CLI does (exporter/reduce_command.cc:
// chunked reads, gzip trailer as size hint), with raised limits; prints the
// time and the process's peak RSS.
int RssProbe(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "bench: cannot read " << path << "\n";
    return 1;
  }
  size_t size_hint = 0;
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  if (file_size >= 4) {
    char trailer[4];
    in.seekg(file_size - 4);
    in.read(trailer, 4);
    size_hint = std::min<size_t>(profile::GzipSizeHint({trailer, 4}),
                                 static_cast<size_t>(file_size) * 1032);
  }
  in.clear();
  in.seekg(0);
  std::string buffer(1 << 20, '\0');
  auto decoded = profile::DecodeChunks(
      [&]() -> absl::StatusOr<absl::string_view> {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        if (in.bad()) return absl::DataLossError("read error");
        return absl::string_view(buffer.data(),
                                 static_cast<size_t>(in.gcount()));
      },
      size_hint, kLimits);
  if (!decoded.ok()) {
    std::cerr << "bench: " << path << ": " << decoded.status() << "\n";
    return 1;
  }
  const auto r = profile::ReduceCpu(*decoded, decoded->default_sample_index,
                                    profile::ReduceOptions{});
  if (!r.ok()) {
    std::cerr << "bench: " << path << ": " << r.status() << "\n";
    return 1;
  }
  const double seconds = std::chrono::duration<double>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  std::printf(
      "%s: %lld bytes, %zu samples, read+decode+reduce %.2f s, gc_ratio "
      "%.4f, peak RSS %.1f MiB\n",
      path.c_str(), static_cast<long long>(file_size), decoded->num_samples(),
      seconds, r->gc_ratio, MaxRssMiB());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Our own flags first; the rest go to Google Benchmark.
  std::vector<int> scales = {1, 4, 16};
  std::optional<std::string> probe;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--scales=")) {
      scales.clear();
      for (absl::string_view s : absl::StrSplit(arg, ',', absl::SkipEmpty())) {
        int scale = 0;
        if (!absl::SimpleAtoi(s, &scale) || scale < 1) {
          std::cerr << "bench: bad --scales=" << arg << "\n";
          return 2;
        }
        scales.push_back(scale);
      }
    } else if (absl::ConsumePrefix(&arg, "--seed=")) {
      if (!absl::SimpleAtoi(arg, &g_seed)) {
        std::cerr << "bench: bad --seed\n";
        return 2;
      }
    } else if (absl::ConsumePrefix(&arg, "--max_generate_seconds=")) {
      if (!absl::SimpleAtod(arg, &g_max_generate_seconds)) {
        std::cerr << "bench: bad --max_generate_seconds\n";
        return 2;
      }
    } else if (absl::ConsumePrefix(&arg, "--rss_probe=")) {
      probe = std::string(arg);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (probe) {
    std::string path = *probe;
    const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
    if (cwd != nullptr && !path.empty() && path[0] != '/') {
      path = absl::StrCat(cwd, "/", path);
    }
    return RssProbe(path);
  }

  std::vector<InputSpec> inputs;
  const std::string fixture = FixturePath();
  if (std::ifstream(fixture).good()) {
    inputs.push_back({"fixture", fixture, 0});
  } else {
    std::fprintf(stderr,
                 "bench: no large fixture at %s (set PPROF_LARGE_PROFILE); "
                 "gen1x stands in for it\n",
                 fixture.c_str());
    if (std::find(scales.begin(), scales.end(), 1) == scales.end()) {
      scales.insert(scales.begin(), 1);
    }
  }
  for (int scale : scales) {
    inputs.push_back({absl::StrCat("gen", scale, "x"), "", scale});
  }

  using Fn = void (*)(benchmark::State&, const InputSpec&);
  const std::pair<const char*, Fn> kBenchmarks[] = {
      {"Gunzip", BM_Gunzip},
      {"DecodeGzipped", BM_DecodeGzipped},
      {"DecodeRaw", BM_DecodeRaw},
      {"TopFunctions", BM_TopFunctions},
      {"ReduceCpu", BM_ReduceCpu},
      {"DecodeReduceGzipped", BM_DecodeReduceGzipped},
  };
  for (const InputSpec& input : inputs) {
    for (const auto& [name, fn] : kBenchmarks) {
      benchmark::RegisterBenchmark(
          absl::StrCat(name, "/", input.name).c_str(),
          [fn = fn, input](benchmark::State& state) { fn(state, input); })
          ->Unit(benchmark::kMillisecond);
    }
  }

  int bench_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&bench_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::fprintf(stderr, "bench: peak RSS of the whole run (ru_maxrss): %.1f MiB\n",
               MaxRssMiB());
  return 0;
}
