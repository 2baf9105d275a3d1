// The synthetic profile generator: deterministic, decodable, and shaped like
// the fixtures' large-cpu.pb.gz.
#include "profile/testing/generate_profile.h"

#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/inflate.h"
#include "profile/options.h"
#include "profile/profile.h"
#include "profile/reduce.h"

namespace profile::testing {
namespace {

GeneratorOptions Small(uint64_t seed) {
  GeneratorOptions options;
  options.seed = seed;
  options.samples = 20'000;
  return options;
}

TEST(GenerateProfileTest, SameSeedSameBytes) {
  const std::string a = GenerateCpuProfile(Small(7));
  const std::string b = GenerateCpuProfile(Small(7));
  ASSERT_FALSE(a.empty());
  EXPECT_TRUE(a == b) << "two runs with seed 7 differ";
  EXPECT_FALSE(a == GenerateCpuProfile(Small(8)));
}

TEST(GenerateProfileTest, RawIsTheGunzippedGzip) {
  GeneratorOptions options = Small(3);
  const std::string gzipped = GenerateCpuProfile(options);
  options.gzip = false;
  const std::string raw = GenerateCpuProfile(options);
  ASSERT_TRUE(IsGzip(gzipped));
  ASSERT_FALSE(IsGzip(raw));
  auto inflated = Gunzip(gzipped, size_t{1} << 30);
  ASSERT_TRUE(inflated.ok()) << inflated.status();
  EXPECT_TRUE(*inflated == raw);
}

TEST(GenerateProfileTest, ScaleMultipliesSamples) {
  GeneratorOptions options = Small(1);
  options.samples = 5'000;
  options.scale = 4;
  auto decoded = Decode(GenerateCpuProfile(options));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->num_samples(), 20'000u);
}

// The default 1x profile against the fixture's description: 300,000
// samples, ~57k locations, ~20k functions, 10-60 deep application stacks,
// ~40 % inlined locations, 57 services, gc_ratio a few percent.
TEST(GenerateProfileTest, LooksLikeTheLargeFixture) {
  const std::string bytes = GenerateCpuProfile(GeneratorOptions{});
  EXPECT_GT(bytes.size(), size_t{8} << 20);
  EXPECT_LT(bytes.size(), size_t{32} << 20);
  auto decoded = Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  const Profile& p = *decoded;

  ASSERT_EQ(p.sample_types.size(), 2u);
  EXPECT_EQ(p.sample_types[0].type, "samples");
  EXPECT_EQ(p.sample_types[0].unit, "count");
  EXPECT_EQ(p.sample_types[1].type, "cpu");
  EXPECT_EQ(p.sample_types[1].unit, "nanoseconds");
  EXPECT_EQ(p.default_sample_index, 1);
  EXPECT_EQ(p.period, 10'000'000);
  EXPECT_EQ(p.period_type.type, "cpu");
  EXPECT_EQ(p.duration_nanos, int64_t{3600} * 1'000'000'000);
  EXPECT_EQ(p.num_mappings, 1u);

  EXPECT_EQ(p.num_samples(), 300'000u);
  EXPECT_GE(p.num_locations(), 50'000u);
  EXPECT_LE(p.num_locations(), 62'000u);
  EXPECT_GE(p.num_functions, 18'000u);
  EXPECT_LE(p.num_functions, 21'000u);

  size_t multi_line = 0;
  for (uint32_t loc = 0; loc < p.num_locations(); ++loc) {
    if (p.frames_of_location(loc).size() >= 2) ++multi_line;
  }
  const double inlined = static_cast<double>(multi_line) / p.num_locations();
  EXPECT_GT(inlined, 0.30);
  EXPECT_LT(inlined, 0.50);

  size_t min_depth = 1000, max_depth = 0, recursive = 0, deep = 0;
  size_t labelled = 0, mismatched_cpu = 0;
  int64_t min_count = INT64_MAX, max_count = 0;
  std::set<std::string> services, components;
  const absl::Status visited = p.ForEachSample([&](const SampleRef& sample) {
    const auto stack = sample.locations;
    min_depth = std::min(min_depth, stack.size());
    max_depth = std::max(max_depth, stack.size());
    if (stack.size() >= 10) ++deep;
    for (size_t i = 1; i < stack.size(); ++i) {
      if (stack[i] == stack[i - 1]) {
        ++recursive;
        break;
      }
    }
    min_count = std::min(min_count, sample.values[0]);
    max_count = std::max(max_count, sample.values[0]);
    if (sample.values[1] != sample.values[0] * 10'000'000) ++mismatched_cpu;
    if (!sample.labels.empty()) ++labelled;
    for (const Label& label : sample.labels) {
      const absl::string_view key = p.string(label.key);
      const std::string value(p.string(label.value));
      if (key == "service") services.insert(value);
      if (key == "component") components.insert(value);
    }
  });
  ASSERT_TRUE(visited.ok()) << visited;
  EXPECT_EQ(mismatched_cpu, 0u) << "cpu must be count x 10 ms";
  EXPECT_GE(min_depth, 3u);
  EXPECT_LE(max_depth, 64u);
  EXPECT_GT(deep, p.num_samples() * 8 / 10);
  EXPECT_GT(recursive, 1000u);
  EXPECT_EQ(min_count, 1);
  EXPECT_EQ(max_count, 50'000);

  EXPECT_EQ(services.size(), 57u);
  EXPECT_EQ(components.size(), 7u);
  EXPECT_GT(labelled, p.num_samples() * 7 / 10);

  const CpuReduction cpu = ReduceCpu(p, p.default_sample_index, {}).value();
  EXPECT_GT(cpu.gc_ratio, 0.01);
  EXPECT_LT(cpu.gc_ratio, 0.20);
  ASSERT_TRUE(cpu.sampled_seconds.has_value());
  EXPECT_GT(*cpu.sampled_seconds, 10'000.0);
  ASSERT_FALSE(cpu.top_flat.empty());
  // No single function dominates: the hottest is a few percent.
  EXPECT_LT(cpu.top_flat[0].flat_ratio, 0.25);
}

}  // namespace
}  // namespace profile::testing
