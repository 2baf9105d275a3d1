// The sample pass split into shards (Profile::SampleShards, the CPU
// reducer's SampleParallelism) must give exactly what the unsplit pass
// gives: the same samples in the same order, the same sums and ratios bit
// for bit, and on malformed input the error of the first malformed sample.
// The shards run one after another here (profile/ has no threads), in
// profile order and in reverse, since a caller's threads may finish in any
// order.
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/kind.h"
#include "profile/profile.h"
#include "profile/profile.pb.h"
#include "profile/reduce.h"
#include "profile/testing/generate_profile.h"
#include "profile/testing/profile_builder.h"
#include "profile/top.h"

namespace profile {
namespace {

using ::profile::testing::ProfileBuilder;
using ::testing::HasSubstr;

constexpr size_t kShardCounts[] = {1, 2, 3, 7};
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// The generated profile (shaped like large-cpu.pb.gz), uncompressed and
// small enough for a unit test.
std::string GeneratedProfileBytes() {
  testing::GeneratorOptions options;
  options.samples = 20'000;
  options.gzip = false;
  return testing::GenerateCpuProfile(options);
}

const std::string& GeneratedBytes() {
  static const std::string* const bytes =
      new std::string(GeneratedProfileBytes());
  return *bytes;
}

Profile MustDecode(const std::string& bytes) {
  auto p = Decode(bytes);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

// A sample as visited: its locations, values and labels.
struct VisitedSample {
  std::vector<uint32_t> locations;
  std::vector<int64_t> values;
  std::vector<std::pair<uint32_t, uint32_t>> labels;
  bool operator==(const VisitedSample&) const = default;
};

VisitedSample Copy(const SampleRef& s) {
  VisitedSample out{{s.locations.begin(), s.locations.end()},
                    {s.values.begin(), s.values.end()},
                    {}};
  for (const Label& label : s.labels) out.labels.push_back({label.key, label.value});
  return out;
}

// Runs tasks n-1 .. 0: shards must not depend on running in order.
void RunBackwards(size_t n, absl::FunctionRef<void(size_t)> task) {
  for (size_t i = n; i-- > 0;) task(i);
}

SampleParallelism Shards(size_t n, bool backwards) {
  SampleParallelism parallelism;
  parallelism.max_shards = n;
  if (backwards) parallelism.run = RunBackwards;
  return parallelism;
}

// Exact equality: every integer, and every double bit for bit.
void ExpectSameTop(const std::vector<FunctionShare>& a,
                   const std::vector<FunctionShare>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].function, b[i].function) << i;
    EXPECT_EQ(a[i].flat, b[i].flat) << a[i].function;
    EXPECT_EQ(a[i].cum, b[i].cum) << a[i].function;
    EXPECT_EQ(a[i].flat_ratio, b[i].flat_ratio) << a[i].function;
    EXPECT_EQ(a[i].cum_ratio, b[i].cum_ratio) << a[i].function;
  }
}

void ExpectSameCpu(const CpuReduction& a, const CpuReduction& b) {
  EXPECT_EQ(a.sampled_seconds, b.sampled_seconds);
  EXPECT_EQ(a.duration_seconds, b.duration_seconds);
  EXPECT_EQ(a.gc_value, b.gc_value);
  EXPECT_EQ(a.gc_ratio, b.gc_ratio);
  ExpectSameTop(a.top_flat, b.top_flat);
  ExpectSameTop(a.top_cum, b.top_cum);
}

// The function table tabulated shard by shard and merged.
FunctionTable TabulateInShards(const Profile& p, int sample_index,
                               size_t max_shards) {
  const std::vector<SampleShard> shards = p.SampleShards(max_shards);
  FunctionTabulator all(p, sample_index);
  std::vector<FunctionTabulator> others;
  for (size_t i = 1; i < shards.size(); ++i) {
    others.push_back(all.ForAnotherShard());
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    FunctionTabulator& tabulator = i == 0 ? all : others[i - 1];
    EXPECT_TRUE(p.ForEachSample(shards[i], [&](const SampleRef& s) {
                   tabulator.Add(s);
                 }).ok());
  }
  for (FunctionTabulator& other : others) all.Merge(std::move(other));
  return std::move(all).Finish();
}

void ExpectSameTable(const FunctionTable& a, const FunctionTable& b) {
  EXPECT_EQ(a.total, b.total);
  EXPECT_EQ(a.sums, b.sums);
  ASSERT_EQ(a.functions.size(), b.functions.size());
  for (size_t i = 0; i < a.functions.size(); ++i) {
    EXPECT_EQ(a.functions[i].frame, b.functions[i].frame);
    EXPECT_EQ(a.functions[i].flat, b.functions[i].flat);
    EXPECT_EQ(a.functions[i].cum, b.functions[i].cum);
  }
}

TEST(SampleShards, CoverEverySampleOnceInProfileOrder) {
  const Profile p = MustDecode(GeneratedBytes());
  std::vector<VisitedSample> whole;
  ASSERT_TRUE(p.ForEachSample([&](const SampleRef& s) {
                 whole.push_back(Copy(s));
               }).ok());
  for (size_t n : kShardCounts) {
    SCOPED_TRACE(n);
    const std::vector<SampleShard> shards = p.SampleShards(n);
    EXPECT_EQ(shards.size(), n);
    std::vector<VisitedSample> sharded;
    for (const SampleShard& shard : shards) {
      EXPECT_GT(shard.num_samples(), 0u);
      const size_t before = sharded.size();
      ASSERT_TRUE(p.ForEachSample(shard, [&](const SampleRef& s) {
                     sharded.push_back(Copy(s));
                   }).ok());
      EXPECT_EQ(sharded.size() - before, shard.num_samples());
    }
    EXPECT_TRUE(sharded == whole);
  }
}

TEST(SampleShards, AtMostOneShardPerSample) {
  ProfileBuilder b;
  b.SampleType("samples", "count");
  b.Stack({"a"}, {1});
  b.Stack({"b"}, {2});
  const Profile p = MustDecode(b.Raw());
  const std::vector<SampleShard> shards = p.SampleShards(7);
  ASSERT_EQ(shards.size(), 2u);
  EXPECT_EQ(shards[0].num_samples(), 1u);
  EXPECT_EQ(shards[1].num_samples(), 1u);
}

TEST(SampleShards, ProfileWithoutSamplesHasOneEmptyShard) {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  const Profile p = MustDecode(b.Raw());
  const std::vector<SampleShard> shards = p.SampleShards(3);
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_EQ(shards[0].num_samples(), 0u);
  auto whole = ReduceCpu(p, 1, {});
  auto sharded = ReduceCpu(p, 1, {}, Shards(3, /*backwards=*/true));
  ASSERT_TRUE(whole.ok() && sharded.ok());
  ExpectSameCpu(*sharded, *whole);
}

TEST(FunctionTabulator, MergedShardsEqualOnePass) {
  const Profile p = MustDecode(GeneratedBytes());
  for (int index = 0; index < 2; ++index) {
    const FunctionTable whole = TabulateFunctions(p, index).value();
    for (size_t n : kShardCounts) {
      SCOPED_TRACE(n);
      ExpectSameTable(TabulateInShards(p, index, n), whole);
    }
  }
}

TEST(FunctionTabulator, MergedSumsBeyondInt64AreExact) {
  // Each shard's 64-bit cum of "root" overflows at another sample, and
  // "f" goes up and down past both limits.
  ProfileBuilder b;
  b.SampleType("inuse_space", "bytes");
  for (int i = 0; i < 5; ++i) b.Stack({"f", "root"}, {kMax});
  for (int i = 0; i < 9; ++i) b.Stack({"f", "g", "root"}, {kMin});
  for (int i = 0; i < 4; ++i) b.Stack({"g", "root"}, {kMax - i});
  const Profile p = MustDecode(b.Raw());
  const FunctionTable whole = TabulateFunctions(p, 0).value();
  for (size_t n : kShardCounts) {
    SCOPED_TRACE(n);
    ExpectSameTable(TabulateInShards(p, 0, n), whole);
  }
}

TEST(ReduceCpu, ShardedEqualsUnsharded) {
  const Profile p = MustDecode(GeneratedBytes());
  ReduceOptions options;
  options.top = 1000;  // the rounding of many small ratios, too
  auto whole = Reduce(Kind::kCpu, p, options);
  ASSERT_TRUE(whole.ok()) << whole.status();
  const CpuReduction& expected = std::get<CpuReduction>(*whole);
  ASSERT_GT(expected.gc_value, 0);
  for (bool backwards : {false, true}) {
    for (size_t n : kShardCounts) {
      SCOPED_TRACE(::testing::PrintToString(n) +
                   (backwards ? " backwards" : ""));
      auto sharded = Reduce(Kind::kCpu, p, options, nullptr,
                            Shards(n, backwards));
      ASSERT_TRUE(sharded.ok()) << sharded.status();
      ExpectSameCpu(std::get<CpuReduction>(*sharded), expected);
    }
  }
}

// The generated profile with sample `first` given an unknown location and
// sample `second` (later) a value too many: two different errors.
std::string WithTwoMalformedSamples(int first, int second) {
  perftools::profiles::Profile proto;
  EXPECT_TRUE(proto.ParseFromString(GeneratedBytes()));
  EXPECT_LT(second, proto.sample_size());
  proto.mutable_sample(first)->set_location_id(0, 987654321);
  proto.mutable_sample(second)->add_value(1);
  return proto.SerializeAsString();
}

TEST(ReduceCpu, ShardedReportsTheFirstMalformedSample) {
  // Both in the last shard of 2 and 3 and in two shards of 7; then one in
  // an early shard and one in the last.
  for (const auto& [first, second] :
       std::vector<std::pair<int, int>>{{17'000, 19'000}, {3'000, 19'990}}) {
    const Profile p = MustDecode(WithTwoMalformedSamples(first, second));
    const absl::Status whole = ReduceCpu(p, 1, {}).status();
    ASSERT_EQ(whole.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(whole.message(), HasSubstr("unknown location id 987654321"));
    for (bool backwards : {false, true}) {
      for (size_t n : kShardCounts) {
        SCOPED_TRACE(::testing::PrintToString(n) +
                     (backwards ? " backwards" : ""));
        EXPECT_EQ(ReduceCpu(p, 1, {}, Shards(n, backwards)).status(), whole);
      }
    }
  }
  // The other error first, in an earlier shard than the other.
  const Profile p = MustDecode(WithTwoMalformedSamples(19'990, 15'000));
  const absl::Status whole = ReduceCpu(p, 1, {}).status();
  EXPECT_THAT(whole.message(), HasSubstr("values for 2 sample types"));
  for (size_t n : kShardCounts) {
    EXPECT_EQ(ReduceCpu(p, 1, {}, Shards(n, true)).status(), whole) << n;
  }
}

}  // namespace
}  // namespace profile
