// Checks every number of every fixture JSON (tests/testdata/*.json, defined
// in tests/testdata/README.md) against the library: counts exactly, ratios
// to 1e-12 relative. The directory can be overridden with
// PPROF_FIXTURE_DIR, e.g. to run over ../shared/fixtures with large-cpu.
#include <dirent.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/reduce.h"
#include "profile/testing/fixture_expectation.pb.h"

namespace profile {
namespace {

using ::pprof_exporter::testing::FixtureExpectation;

std::string FixtureDir() {
  if (const char* dir = std::getenv("PPROF_FIXTURE_DIR")) return dir;
  if (const char* src = std::getenv("TEST_SRCDIR")) {
    return absl::StrCat(src, "/pprof_exporter/tests/testdata");
  }
  return "tests/testdata";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  if (DIR* dir = opendir(FixtureDir().c_str())) {
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (absl::EndsWith(name, ".json")) names.push_back(name);
    }
    closedir(dir);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void ExpectRatio(double actual, double expected, const std::string& what) {
  const double tolerance = 1e-12 * std::max(1.0, std::fabs(expected));
  EXPECT_NEAR(actual, expected, tolerance) << what;
}

class FixtureTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string dir = FixtureDir();
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    ReadFile(absl::StrCat(dir, "/", GetParam())), &expected_,
                    options)
                    .ok());
    auto decoded = Decode(ReadFile(absl::StrCat(dir, "/", expected_.file())));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    profile_ = *std::move(decoded);
    auto kind = ParseKind(expected_.kind());
    ASSERT_TRUE(kind.has_value()) << expected_.kind();
    kind_ = *kind;
  }

  ReduceOptions Options() const {
    ReduceOptions options;
    options.top = 20;
    if (!expected_.gc_regex().empty()) {
      options.gc_regex = std::make_shared<RE2>(expected_.gc_regex());
    }
    if (expected_.services_method() == "label") {
      options.services.method = ServiceCounting::Method::kLabel;
      options.services.label = expected_.service_label();
    } else if (expected_.services_method() == "regex") {
      options.services.method = ServiceCounting::Method::kRegex;
      options.services.regex =
          std::make_shared<RE2>(expected_.service_count_regex());
    }
    return options;
  }

  FixtureExpectation expected_;
  Profile profile_;
  Kind kind_ = Kind::kCpu;
};

TEST_P(FixtureTest, TablesAndTotalsMatch) {
  ASSERT_EQ(profile_.sample_types.size(), expected_.sample_types_size());
  for (int i = 0; i < expected_.sample_types_size(); ++i) {
    EXPECT_EQ(profile_.sample_types[i].type, expected_.sample_types(i).type());
    EXPECT_EQ(profile_.sample_types[i].unit, expected_.sample_types(i).unit());
  }
  EXPECT_EQ(profile_.default_sample_index, expected_.default_sample_index());
  EXPECT_EQ(profile_.sample_types[profile_.default_sample_index].type,
            expected_.default_sample_type());
  for (const auto& [type, total] : expected_.totals()) {
    auto index = profile_.FindSampleType(type);
    ASSERT_TRUE(index.has_value()) << type;
    EXPECT_EQ(SumValues(profile_, *index).value(), total) << type;
  }
  EXPECT_EQ(profile_.duration_nanos, expected_.duration_nanos());
  EXPECT_EQ(profile_.period, expected_.period());
  EXPECT_EQ(profile_.period_type.type, expected_.period_type().type());
  EXPECT_EQ(profile_.period_type.unit, expected_.period_type().unit());
  EXPECT_EQ(profile_.num_samples(), expected_.num_samples());
  EXPECT_EQ(profile_.num_locations(), expected_.num_locations());
  EXPECT_EQ(profile_.num_functions, expected_.num_functions());
}

TEST_P(FixtureTest, TopFlatMatchesPprof) {
  auto index = profile_.FindSampleType(expected_.top_flat_sample_type());
  ASSERT_TRUE(index.has_value());
  const FunctionTable table = TabulateFunctions(profile_, *index).value();
  const auto top = TopByFlat(profile_, table, expected_.top_flat_size());
  ASSERT_EQ(top.size(), expected_.top_flat_size());
  for (int i = 0; i < expected_.top_flat_size(); ++i) {
    const auto& want = expected_.top_flat(i);
    SCOPED_TRACE(absl::StrCat("rank ", i, " ", want.function()));
    EXPECT_EQ(top[i].function, want.function());
    EXPECT_EQ(top[i].flat, want.flat());
    EXPECT_EQ(top[i].cum, want.cum());
    ExpectRatio(top[i].flat_ratio, want.flat_ratio(), "flat_ratio");
    ExpectRatio(top[i].cum_ratio, want.cum_ratio(), "cum_ratio");
  }
}

TEST_P(FixtureTest, KindFiguresMatch) {
  if (kind_ != Kind::kMutex && kind_ != Kind::kBlock) {
    auto guessed = GuessKind(profile_);
    ASSERT_TRUE(guessed.ok()) << guessed.status();
    EXPECT_EQ(*guessed, kind_);
  }
  auto reduction = Reduce(kind_, profile_, Options());
  ASSERT_TRUE(reduction.ok()) << reduction.status();
  if (const auto* cpu = std::get_if<CpuReduction>(&*reduction)) {
    ExpectRatio(*cpu->sampled_seconds, expected_.cpu_seconds(), "cpu_seconds");
    EXPECT_EQ(cpu->gc_value, expected_.gc_value());
    ExpectRatio(cpu->gc_ratio, expected_.gc_ratio(), "gc_ratio");
  } else if (const auto* g = std::get_if<GoroutineReduction>(&*reduction)) {
    EXPECT_EQ(g->goroutines, expected_.goroutines());
    EXPECT_EQ(g->services, expected_.services());
    ExpectRatio(*g->goroutines_per_service,
                expected_.goroutines_per_service(), "goroutines_per_service");
    // label_values are defined for the service label in both goroutine
    // files; reduce by label to check them whatever the counting method.
    ReduceOptions by_label = Options();
    by_label.services.method = ServiceCounting::Method::kLabel;
    by_label.services.label = expected_.service_label();
    const auto labelled = ReduceGoroutine(
        profile_, profile_.default_sample_index, by_label).value();
    ASSERT_EQ(labelled.label_values.size(), expected_.label_values_size());
    for (const auto& [value, count] : labelled.label_values) {
      EXPECT_EQ(count, expected_.label_values().at(value)) << value;
    }
    ASSERT_EQ(g->by_function.size(), expected_.by_function_size());
    for (int i = 0; i < expected_.by_function_size(); ++i) {
      EXPECT_EQ(g->by_function[i].first, expected_.by_function(i).function());
      EXPECT_EQ(g->by_function[i].second,
                expected_.by_function(i).goroutines());
    }
  } else if (const auto* c = std::get_if<ContentionReduction>(&*reduction)) {
    EXPECT_EQ(*c->contentions, expected_.contentions());
    ExpectRatio(*c->delay_seconds, expected_.delay_seconds(), "delay_seconds");
    auto delay = profile_.FindSampleType("delay");
    ASSERT_TRUE(delay.has_value());
    EXPECT_EQ(SumValues(profile_, *delay).value(), expected_.delay_nanos());
  } else if (const auto* h = std::get_if<HeapReduction>(&*reduction)) {
    EXPECT_EQ(*h->inuse_bytes, expected_.totals().at("inuse_space"));
    EXPECT_EQ(*h->alloc_bytes, expected_.totals().at("alloc_space"));
    EXPECT_EQ(*h->inuse_objects, expected_.totals().at("inuse_objects"));
    EXPECT_EQ(*h->alloc_objects, expected_.totals().at("alloc_objects"));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FixtureTest, ::testing::ValuesIn(FixtureNames()),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = info.param.substr(0, info.param.size() - 5);
      for (char& c : name) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

// Guards against a wrong directory silently instantiating no tests.
TEST(FixtureDirectory, HasFixtures) { EXPECT_GE(FixtureNames().size(), 7u); }

}  // namespace
}  // namespace profile
