// Runs every file of tests/corpus/inputs/ through Decode, DecodeChunks (as
// a file reader does), GuessKind and Reduce for every kind, and checks the
// outcome EXPECTED gives it: the error (status code and a substring of the
// message), "ok" with figures, or just "bounded". Pathological inputs carry
// a time limit; every input's peak memory growth must stay below 256 MiB
// plus its decompression cap. EXPECTED's header describes its format.
#include <sys/resource.h>

#include <algorithm>
#include <time.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/inflate.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "profile/profile.h"
#include "profile/reduce.h"

namespace profile {
namespace {

namespace fs = std::filesystem;

// Sanitizers make everything slower and hold freed memory in quarantine;
// the limits are about orders of magnitude, so scale them rather than skip.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PPROF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define PPROF_SANITIZED 1
#endif
#endif
#ifdef PPROF_SANITIZED
constexpr double kSlowdown = 10;  // ASan at -O1: tight loops of small pushes
constexpr int64_t kExtraMemoryMiB = 512;  // quarantine, redzones, shadow
#elif !defined(__OPTIMIZE__)
constexpr double kSlowdown = 5;  // fastbuild: -O0
constexpr int64_t kExtraMemoryMiB = 0;
#else
constexpr double kSlowdown = 1;
constexpr int64_t kExtraMemoryMiB = 0;
#endif

constexpr int64_t kMiB = 1 << 20;

struct Entry {
  std::string file;
  int line = 0;
  DecodeLimits limits;
  double time_limit_s = 0;  // 0: measured, not asserted
  enum class Outcome { kError, kOk, kBounded };
  Outcome outcome = Outcome::kError;
  std::string code;     // error: e.g. INVALID_ARGUMENT
  std::string message;  // error: a substring of the message
  std::map<std::string, std::string> figures;  // ok: what to compare
};

// gtest names a failing parameter by this instead of its bytes.
void PrintTo(const Entry& e, std::ostream* os) {
  *os << e.file << " (EXPECTED:" << e.line << ")";
}

std::string CorpusDir() {
  if (const char* dir = std::getenv("PPROF_CORPUS_DIR")) return dir;
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/",
                      workspace ? workspace : "pprof_exporter",
                      "/tests/corpus");
}

// Splits a line into words; a word may be a "double-quoted string" (no
// escapes).
std::vector<std::string> Words(absl::string_view line, std::string* error) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t') {
      ++i;
      continue;
    }
    if (line[i] == '"') {
      const size_t end = line.find('"', i + 1);
      if (end == absl::string_view::npos) {
        *error = "unterminated quote";
        return {};
      }
      words.emplace_back(line.substr(i + 1, end - i - 1));
      i = end + 1;
      continue;
    }
    size_t end = line.find_first_of(" \t", i);
    if (end == absl::string_view::npos) end = line.size();
    words.emplace_back(line.substr(i, end - i));
    i = end;
  }
  return words;
}

struct Index {
  std::vector<Entry> entries;
  std::vector<std::string> errors;
};

const Index& LoadIndex() {
  static const Index* const index = [] {
    auto* index = new Index;
    const std::string path = CorpusDir() + "/EXPECTED";
    std::ifstream in(path);
    if (!in) {
      index->errors.push_back("cannot read " + path);
      return index;
    }
    std::string text;
    int number = 0;
    while (std::getline(in, text)) {
      ++number;
      const absl::string_view line = absl::StripAsciiWhitespace(text);
      if (line.empty() || line[0] == '#') continue;
      std::string error;
      std::vector<std::string> words = Words(line, &error);
      auto fail = [&](absl::string_view why) {
        index->errors.push_back(
            absl::StrCat("EXPECTED:", number, ": ", why, ": ", line));
      };
      if (!error.empty() || words.size() < 2) {
        fail(error.empty() ? "too few words" : error);
        continue;
      }
      Entry e;
      e.file = words[0];
      e.line = number;
      size_t w = 1;
      bool bad = false;
      auto is_outcome = [](const std::string& word) {
        return word == "ok" || word == "error" || word == "bounded";
      };
      for (; w < words.size() && !is_outcome(words[w]); ++w) {
        std::pair<std::string, std::string> kv =
            absl::StrSplit(words[w], absl::MaxSplits('=', 1));
        uint64_t bytes = 0;
        if (kv.first == "max_decompressed" &&
            absl::SimpleAtoi(kv.second, &bytes)) {
          e.limits.max_decompressed_bytes = bytes;
        } else if (kv.first == "time_limit_s" &&
                   absl::SimpleAtod(kv.second, &e.time_limit_s)) {
        } else {
          fail("unknown option " + words[w]);
          bad = true;
        }
      }
      if (bad) continue;
      if (w == words.size()) {
        fail("no outcome (ok, error or bounded)");
        continue;
      }
      if (words[w] == "error") {
        if (words.size() != w + 3) {
          fail("error needs CODE \"message substring\"");
          continue;
        }
        e.outcome = Entry::Outcome::kError;
        e.code = words[w + 1];
        e.message = words[w + 2];
      } else if (words[w] == "bounded") {
        if (words.size() != w + 1) {
          fail("bounded takes nothing after it");
          continue;
        }
        e.outcome = Entry::Outcome::kBounded;
      } else {
        e.outcome = Entry::Outcome::kOk;
        for (++w; w < words.size(); ++w) {
          std::pair<std::string, std::string> kv =
              absl::StrSplit(words[w], absl::MaxSplits('=', 1));
          e.figures[kv.first] = kv.second;
        }
      }
      index->entries.push_back(std::move(e));
    }
    return index;
  }();
  return *index;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Str(absl::int128 v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// Peak RSS of this process, reset before each input where the kernel
// allows it (/proc/self/clear_refs "5" resets VmHWM); else getrusage's
// lifetime peak, whose growth still bounds the input's.
class PeakMemory {
 public:
  PeakMemory() {
    std::ofstream clear("/proc/self/clear_refs");
    reset_ = static_cast<bool>(clear << "5" << std::flush);
    start_kib_ = PeakKiB();
  }
  int64_t GrowthKiB() const { return PeakKiB() - start_kib_; }
  bool reset() const { return reset_; }

 private:
  int64_t PeakKiB() const {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (absl::StartsWith(line, "VmHWM:")) {
        int64_t kib = 0;
        std::istringstream(line.substr(6)) >> kib;
        return kib;
      }
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
  }

  bool reset_ = false;
  int64_t start_kib_ = 0;
};

ReduceOptions Options() {
  ReduceOptions options;
  options.top = 10;
  options.services.method = ServiceCounting::Method::kLabel;
  options.services.label = "service";
  return options;
}

// Decode's outcome, and if it succeeded, the samples': Decode leaves them
// to the reducers' pass over them (profile.h), but a malformed one is an
// error of the input all the same.
absl::Status StatusOfInput(const absl::StatusOr<Profile>& decoded) {
  if (!decoded.ok()) return decoded.status();
  return decoded->ForEachSample([](const SampleRef&) {});
}

// What the daemon does with a decoded profile: GuessKind, and Reduce for
// every kind (the ones that do not fit fail).
struct Reduced {
  absl::StatusOr<Kind> kind = absl::UnknownError("not run");
  std::vector<std::pair<Kind, absl::StatusOr<Reduction>>> reductions;
};

Reduced ReduceAll(const Profile& p) {
  Reduced out;
  out.kind = GuessKind(p);
  const ReduceOptions options = Options();
  for (Kind k : kAllKinds) out.reductions.emplace_back(k, Reduce(k, p, options));
  return out;
}

// Every figure EXPECTED may name.
std::map<std::string, std::string> Figures(const Profile& p,
                                           const Reduced& reduced) {
  std::map<std::string, std::string> f;
  f["samples"] = absl::StrCat(p.num_samples());
  f["locations"] = absl::StrCat(p.num_locations());
  f["functions"] = absl::StrCat(p.num_functions);
  f["sample_types"] = absl::StrCat(p.sample_types.size());
  if (p.sample_types.size() <= 8) {
    for (size_t i = 0; i < p.sample_types.size(); ++i) {
      f["sum." + p.sample_types[i].type] =
          Str(SumValues(p, static_cast<int>(i)).value());
    }
  }
  const absl::StatusOr<Kind>& kind = reduced.kind;
  f["kind"] = kind.ok() ? std::string(KindName(*kind))
              : kind.status().code() == absl::StatusCode::kFailedPrecondition
                  ? "contention"
                  : "none";
  std::vector<std::string> reduces;
  for (const auto& [k, r] : reduced.reductions) {
    const std::string name(KindName(k));
    if (!r.ok()) {
      f[name + ".error"] =
          std::string(absl::StatusCodeToString(r.status().code()));
      continue;
    }
    reduces.push_back(name);
    auto top = [&](const std::vector<FunctionShare>& flat,
                   const std::vector<FunctionShare>& cum) {
      if (!flat.empty()) {
        f[name + ".top_flat"] =
            absl::StrCat(flat[0].function, ":", Str(flat[0].flat));
      }
      if (!cum.empty()) {
        f[name + ".top_cum"] =
            absl::StrCat(cum[0].function, ":", Str(cum[0].cum));
      }
    };
    if (const auto* cpu = std::get_if<CpuReduction>(&*r)) {
      top(cpu->top_flat, cpu->top_cum);
      f[name + ".gc_value"] = Str(cpu->gc_value);
    } else if (const auto* heap = std::get_if<HeapReduction>(&*r)) {
      top(heap->top_flat, heap->top_cum);
    } else if (const auto* c = std::get_if<ContentionReduction>(&*r)) {
      top(c->top_flat, c->top_cum);
    } else if (const auto* g = std::get_if<GoroutineReduction>(&*r)) {
      f[name + ".goroutines"] = absl::StrCat(g->goroutines);
      f[name + ".services"] = absl::StrCat(g->services);
      if (!g->by_function.empty()) {
        f[name + ".by_function"] = absl::StrCat(g->by_function[0].first, ":",
                                                g->by_function[0].second);
      }
    }
  }
  f["reduces"] = reduces.empty() ? "none" : absl::StrJoin(reduces, ",");
  return f;
}

// The input read in 64 KiB pieces with the size hint of its gzip trailer,
// bounded by deflate's maximum ratio, as the CLI reads a file
// (exporter/reduce_command.cc).
absl::StatusOr<Profile> DecodeAsFile(absl::string_view bytes,
                                     const DecodeLimits& limits) {
  size_t at = 0;
  const size_t hint =
      bytes.size() >= 4
          ? std::min(GzipSizeHint(bytes.substr(bytes.size() - 4)),
                     bytes.size() * 1032)
          : 0;
  return DecodeChunks(
      [&]() -> absl::StatusOr<absl::string_view> {
        const absl::string_view chunk = bytes.substr(at, 64 << 10);
        at += chunk.size();
        return chunk;
      },
      hint, limits);
}

TEST(CorpusIndex, ParsesAndNamesEveryInputOnce) {
  const Index& index = LoadIndex();
  EXPECT_EQ(index.errors, std::vector<std::string>{});
  std::set<std::string> listed;
  for (const Entry& e : index.entries) {
    EXPECT_TRUE(listed.insert(e.file).second)
        << e.file << " listed twice (EXPECTED:" << e.line << ")";
  }
  std::set<std::string> present;
  for (const auto& file : fs::directory_iterator(CorpusDir() + "/inputs")) {
    present.insert(file.path().filename().string());
  }
  for (const std::string& file : present) {
    EXPECT_TRUE(listed.count(file)) << "inputs/" << file
                                    << " has no entry in EXPECTED";
  }
  for (const std::string& file : listed) {
    EXPECT_TRUE(present.count(file)) << "EXPECTED names missing inputs/"
                                     << file;
  }
  EXPECT_GE(index.entries.size(), 40u);
}

std::string Describe(const std::map<std::string, std::string>& figures) {
  return absl::StrJoin(figures, " ", absl::PairFormatter("="));
}

class CorpusTest : public ::testing::TestWithParam<Entry> {};

// CPU seconds this process has used. The limits below guard against
// amplification (work out of all proportion to the input), so they count
// CPU time: wall time would also count the other processes of a loaded
// machine.
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

TEST_P(CorpusTest, HasItsExpectedOutcomeWithinTimeAndMemory) {
  const Entry& e = GetParam();
  const std::string path = CorpusDir() + "/inputs/" + e.file;
  SCOPED_TRACE(absl::StrCat("inputs/", e.file, " (EXPECTED:", e.line, ")"));
  const std::string bytes = ReadFile(path);

  // Decode and every reduction; then the same input read as a file.
  const PeakMemory memory;
  const double start = CpuSeconds();
  absl::StatusOr<Profile> decoded = Decode(bytes, e.limits);
  Reduced reduced;
  if (decoded.ok()) reduced = ReduceAll(*decoded);
  const double decode_reduce_s = CpuSeconds() - start;
  const absl::Status status = StatusOfInput(decoded);
  if (decoded.ok() && !status.ok()) {
    // A malformed sample: every reduction fails, with that error unless
    // the profile is not of its kind at all.
    for (const auto& [kind, r] : reduced.reductions) {
      ASSERT_FALSE(r.ok()) << KindName(kind) << " reduced a malformed profile";
      if (!absl::StartsWith(r.status().message(), "not a ")) {
        EXPECT_EQ(r.status(), status) << KindName(kind);
      }
    }
  }
  std::map<std::string, std::string> figures;
  if (status.ok()) figures = Figures(*decoded, reduced);
  reduced = Reduced();
  size_t samples = 0, locations = 0;
  std::vector<std::string> frame_names;
  if (decoded.ok()) {
    samples = decoded->num_samples();
    locations = decoded->num_locations();
    // Copied: they point into the decoded profile, released below.
    frame_names = std::vector<std::string>(decoded->frame_names.begin(),
                                           decoded->frame_names.end());
  }
  decoded = absl::CancelledError("released");
  const double file_start = CpuSeconds();
  absl::StatusOr<Profile> from_file = DecodeAsFile(bytes, e.limits);
  const double file_s = CpuSeconds() - file_start;
  const int64_t growth_mib = memory.GrowthKiB() / 1024;

  std::cout << e.file << ": " << (status.ok() ? "ok" : status.ToString())
            << "\n  decode+reduce " << decode_reduce_s * 1e3
            << " ms, decode from 64 KiB chunks " << file_s * 1e3
            << " ms, peak memory growth " << growth_mib << " MiB"
            << (memory.reset() ? "" : " (lifetime peak)") << "\n";
  if (!figures.empty()) std::cout << "  " << Describe(figures) << "\n";
  RecordProperty("decode_reduce_ms", static_cast<int>(decode_reduce_s * 1e3));
  RecordProperty("peak_memory_growth_mib", static_cast<int>(growth_mib));

  // The outcome.
  if (e.outcome == Entry::Outcome::kOk) {
    ASSERT_TRUE(status.ok()) << status;
    for (const auto& [key, want] : e.figures) {
      auto it = figures.find(key);
      if (it == figures.end()) {
        ADD_FAILURE() << "no figure " << key << "; there are: "
                      << Describe(figures);
      } else {
        EXPECT_EQ(it->second, want) << key;
      }
    }
  } else if (e.outcome == Entry::Outcome::kError) {
    ASSERT_FALSE(status.ok()) << "decoded, but EXPECTED says " << e.code
                              << " \"" << e.message << "\"; figures: "
                              << Describe(figures);
    EXPECT_EQ(absl::StatusCodeToString(status.code()), e.code) << status;
    EXPECT_NE(status.message().find(e.message), absl::string_view::npos)
        << status << "\ndoes not contain \"" << e.message << "\"";
  }
  // Reading it as a file makes no difference.
  const absl::Status file_status = StatusOfInput(from_file);
  EXPECT_EQ(file_status.code(), status.code()) << file_status;
  if (!status.ok() && e.outcome == Entry::Outcome::kError) {
    EXPECT_NE(file_status.message().find(e.message), absl::string_view::npos)
        << file_status;
  } else if (from_file.ok()) {
    EXPECT_EQ(from_file->num_samples(), samples);
    EXPECT_EQ(from_file->num_locations(), locations);
    EXPECT_EQ(std::vector<std::string>(from_file->frame_names.begin(),
                                       from_file->frame_names.end()),
              frame_names);
  }

  // Limits, not benchmarks: orders of magnitude.
  if (e.time_limit_s > 0) {
    EXPECT_LT(decode_reduce_s, e.time_limit_s * kSlowdown)
        << "Decode and every Reduce took too long";
    EXPECT_LT(file_s, e.time_limit_s * kSlowdown)
        << "DecodeChunks took too long";
  }
  const int64_t cap_mib =
      static_cast<int64_t>(e.limits.max_decompressed_bytes / kMiB);
  EXPECT_LT(growth_mib, 256 + cap_mib + kExtraMemoryMiB)
      << "peak memory grew by " << growth_mib << " MiB";
}

std::string TestName(const ::testing::TestParamInfo<Entry>& info) {
  std::string name = info.param.file;
  for (char& c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Inputs, CorpusTest,
                         ::testing::ValuesIn(LoadIndex().entries), TestName);

}  // namespace
}  // namespace profile
