// Hand-built edge cases for the function table (top.h) and the reducers
// (reduce.h), each checking one rule of tests/testdata/README.md
// ("JSON fields") with exact values.
#include "profile/reduce.h"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "profile/profile.h"
#include "profile/testing/profile_builder.h"
#include "profile/top.h"

namespace profile {
namespace {

using ::profile::testing::ProfileBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// Decodes, or records a failure and returns an empty (but usable) profile.
Profile MustDecode(const ProfileBuilder& b) {
  auto p = Decode(b.Raw());
  if (p.ok()) return *std::move(p);
  ADD_FAILURE() << p.status();
  Profile empty;
  empty.sample_types.push_back({"samples", "count"});
  empty.location_begin = {0};
  return empty;
}

ProfileBuilder WithTypes(
    const std::vector<std::pair<std::string, std::string>>& types) {
  ProfileBuilder b;
  for (const auto& [type, unit] : types) b.SampleType(type, unit);
  return b;
}

struct FlatCum {
  absl::int128 flat, cum;
  bool operator==(const FlatCum& o) const {
    return flat == o.flat && cum == o.cum;
  }
};
std::ostream& operator<<(std::ostream& os, const FlatCum& fc) {
  return os << "{flat " << fc.flat << ", cum " << fc.cum << "}";
}

// The function table as name -> {flat, cum}.
std::map<std::string, FlatCum> ByName(const Profile& p,
                                      const FunctionTable& table) {
  std::map<std::string, FlatCum> out;
  for (const FunctionValue& f : table.functions) {
    out[std::string(p.frame_names[f.frame])] = {f.flat, f.cum};
  }
  return out;
}

std::vector<std::string> Names(const std::vector<FunctionShare>& top) {
  std::vector<std::string> names;
  for (const FunctionShare& f : top) names.push_back(f.function);
  return names;
}

absl::int128 I128(int64_t v) { return absl::int128(v); }

// ---------------------------------------------------------------------------
// flat and cum (TabulateFunctions).

TEST(TabulateFunctions, InlinedFramesFlatToInnermostLineCumToEveryLine) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  const uint64_t inlined = b.Location({"main.inner", "main.outer"});
  b.Sample({inlined, b.Frame("main.main")}, {10});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_EQ(t.total, 10);
  EXPECT_EQ(ByName(p, t),
            (std::map<std::string, FlatCum>{{"main.inner", {10, 10}},
                                            {"main.outer", {0, 10}},
                                            {"main.main", {0, 10}}}));
}

TEST(TabulateFunctions, FlatGoesOnlyToTheLeafLocationsFirstLine) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  const uint64_t inlined = b.Location({"main.inl", "main.caller"});
  b.Sample({b.Frame("main.leaf"), inlined, b.Frame("main.main")}, {4});
  const Profile p = MustDecode(b);
  EXPECT_EQ(ByName(p, TabulateFunctions(p, 0).value()),
            (std::map<std::string, FlatCum>{{"main.leaf", {4, 4}},
                                            {"main.inl", {0, 4}},
                                            {"main.caller", {0, 4}},
                                            {"main.main", {0, 4}}}));
}

TEST(TabulateFunctions, RecursionCountsCumOncePerSample) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  b.Stack({"f", "g", "f", "main"}, {5});
  b.Stack({"g", "f", "main"}, {3});
  b.Stack({"f", "f", "f"}, {2});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_EQ(t.total, 10);
  EXPECT_EQ(ByName(p, t), (std::map<std::string, FlatCum>{{"f", {7, 10}},
                                                          {"g", {3, 8}},
                                                          {"main", {0, 8}}}));
}

TEST(TabulateFunctions, FunctionInlinedIntoItselfCountsOnce) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  b.Sample({b.Location({"f", "f"}), b.Frame("main")}, {7});
  const Profile p = MustDecode(b);
  EXPECT_EQ(ByName(p, TabulateFunctions(p, 0).value()),
            (std::map<std::string, FlatCum>{{"f", {7, 7}}, {"main", {0, 7}}}));
}

TEST(TabulateFunctions, TwoFunctionIdsWithOneNameInALocationCountOnce) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  const uint64_t h1 = b.NewFunction("h");
  const uint64_t h2 = b.NewFunction("h");
  b.Sample({b.LocationOfFunctionIds({h1, h2}), b.Frame("main")}, {3});
  b.Sample({b.LocationOfFunctionIds({h2}), b.LocationOfFunctionIds({h1})},
           {2});
  const Profile p = MustDecode(b);
  EXPECT_EQ(ByName(p, TabulateFunctions(p, 0).value()),
            (std::map<std::string, FlatCum>{{"h", {5, 5}}, {"main", {0, 3}}}));
}

TEST(TabulateFunctions, ZeroValueSamplesAreSkippedEverywhere) {
  ProfileBuilder b = WithTypes({{"samples", "count"}, {"cpu", "nanoseconds"}});
  b.Stack({"a", "b"}, {0, 0});
  b.Stack({"c", "b"}, {4, 40});
  b.Stack({"d"}, {0, 50});
  const Profile p = MustDecode(b);
  const FunctionTable by_samples = TabulateFunctions(p, 0).value();
  EXPECT_EQ(by_samples.total, 4);
  EXPECT_EQ(ByName(p, by_samples),
            (std::map<std::string, FlatCum>{{"b", {0, 4}}, {"c", {4, 4}}}));
  const FunctionTable by_cpu = TabulateFunctions(p, 1).value();
  EXPECT_EQ(by_cpu.total, 90);
  EXPECT_EQ(ByName(p, by_cpu),
            (std::map<std::string, FlatCum>{
                {"b", {0, 40}}, {"c", {40, 40}}, {"d", {50, 50}}}));
  EXPECT_THAT(Names(TopByFlat(p, by_samples, 10)), ElementsAre("c", "b"));
}

TEST(TabulateFunctions, SampleWithoutLocationsCountsInTheTotalOnly) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  b.Sample({}, {5});
  b.Stack({"main.f"}, {5});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_EQ(t.total, 10);
  EXPECT_EQ(ByName(p, t),
            (std::map<std::string, FlatCum>{{"main.f", {5, 5}}}));
  const auto top = TopByFlat(p, t, 10);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_DOUBLE_EQ(top[0].flat_ratio, 0.5);
}

TEST(TabulateFunctions, NegativeValuesAddUpAndTotalUsesAbsoluteValues) {
  ProfileBuilder b = WithTypes({{"inuse_space", "bytes"}});
  b.Stack({"a"}, {-10});
  b.Stack({"b"}, {4});
  b.Stack({"c", "b"}, {-6});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_EQ(t.total, 20);
  EXPECT_EQ(ByName(p, t), (std::map<std::string, FlatCum>{{"a", {-10, -10}},
                                                          {"b", {4, -2}},
                                                          {"c", {-6, -6}}}));
}

TEST(TopByFlat, OrdersByAbsoluteFlatWithSignedRatios) {
  ProfileBuilder b = WithTypes({{"inuse_space", "bytes"}});
  b.Stack({"a"}, {-10});
  b.Stack({"b"}, {4});
  b.Stack({"c", "b"}, {-6});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  const auto top = TopByFlat(p, t, 10);
  ASSERT_THAT(Names(top), ElementsAre("a", "c", "b"));
  EXPECT_EQ(top[0].flat, -10);
  EXPECT_DOUBLE_EQ(top[0].flat_ratio, -0.5);
  EXPECT_DOUBLE_EQ(top[1].flat_ratio, -0.3);
  EXPECT_DOUBLE_EQ(top[2].flat_ratio, 0.2);
  EXPECT_DOUBLE_EQ(top[2].cum_ratio, -0.1);
  EXPECT_THAT(Names(TopByCum(p, t, 10)), ElementsAre("a", "c", "b"));
}

TEST(TopByFlat, TiesAreOrderedByNameAscending) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  // Byte order, as Go compares strings: upper case first, UTF-8 last;
  // a negative flat ties with a positive one of the same magnitude.
  for (const char* name : {"c", "y", "\u00b5s", "a", "Z", "b"}) {
    b.Stack({name}, {std::string(name) == "y" ? -5 : 5});
  }
  b.Stack({"big"}, {6});
  const Profile p = MustDecode(b);
  EXPECT_THAT(Names(TopByFlat(p, TabulateFunctions(p, 0).value(), 10)),
              ElementsAre("big", "Z", "a", "b", "c", "y", "\u00b5s"));
}

TEST(TopByCum, OrdersByCumThenNameAndTruncatesToN) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  b.Stack({"leaf1", "mid", "main"}, {6});
  b.Stack({"leaf2", "mid", "main"}, {3});
  b.Stack({"leaf3", "main"}, {1});
  b.Stack({"other"}, {10});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_EQ(t.total, 20);
  const auto cum = TopByCum(p, t, 5);
  ASSERT_THAT(Names(cum), ElementsAre("main", "other", "mid", "leaf1", "leaf2"));
  EXPECT_EQ(cum[0].cum, 10);
  EXPECT_EQ(cum[0].flat, 0);
  EXPECT_DOUBLE_EQ(cum[0].cum_ratio, 0.5);
  EXPECT_DOUBLE_EQ(cum[2].cum_ratio, 0.45);
  EXPECT_THAT(Names(TopByCum(p, t, 2)), ElementsAre("main", "other"));
}

TEST(TopByFlat, TruncatesToNAndListsZeroFlatFunctionsLast) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  b.Stack({"leaf1", "mid", "main"}, {6});
  b.Stack({"leaf2", "mid", "main"}, {3});
  b.Stack({"leaf3", "main"}, {1});
  b.Stack({"other"}, {10});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_THAT(Names(TopByFlat(p, t, 100)),
              ElementsAre("other", "leaf1", "leaf2", "leaf3", "main", "mid"));
  EXPECT_THAT(Names(TopByFlat(p, t, 2)), ElementsAre("other", "leaf1"));
  EXPECT_THAT(TopByFlat(p, t, 0), IsEmpty());
  const auto top = TopByFlat(p, t, 1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].flat, 10);
  EXPECT_EQ(top[0].cum, 10);
  EXPECT_DOUBLE_EQ(top[0].flat_ratio, 0.5);
  EXPECT_DOUBLE_EQ(top[0].cum_ratio, 0.5);
}

TEST(Ratio, IsZeroWhenTotalIsZero) {
  EXPECT_EQ(Ratio(5, 0), 0);
  EXPECT_DOUBLE_EQ(Ratio(1, 4), 0.25);
  EXPECT_DOUBLE_EQ(Ratio(-1, 4), -0.25);
}

// ---------------------------------------------------------------------------
// Values near the int64 limits: sums are 128-bit.

TEST(TabulateFunctions, SumsNearInt64MaxDoNotOverflow) {
  ProfileBuilder b = WithTypes({{"alloc_space", "bytes"}});
  b.Stack({"a", "root"}, {kMax - 1});
  b.Stack({"b", "root"}, {kMax - 1});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  const absl::int128 twice = 2 * I128(kMax - 1);
  EXPECT_EQ(t.total, twice);
  EXPECT_EQ(ByName(p, t),
            (std::map<std::string, FlatCum>{{"a", {kMax - 1, kMax - 1}},
                                            {"b", {kMax - 1, kMax - 1}},
                                            {"root", {0, twice}}}));
  const auto flat = TopByFlat(p, t, 10);
  ASSERT_THAT(Names(flat), ElementsAre("a", "b", "root"));
  EXPECT_DOUBLE_EQ(flat[0].flat_ratio, 0.5);
  EXPECT_DOUBLE_EQ(flat[2].cum_ratio, 1.0);
  EXPECT_EQ(SumValues(p, 0).value(), twice);
}

TEST(TabulateFunctions, ManyMaximalValuesOnOneFunctionDoNotOverflow) {
  ProfileBuilder b = WithTypes({{"alloc_space", "bytes"}});
  for (int i = 0; i < 3; ++i) b.Stack({"f"}, {kMax});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_EQ(t.total, 3 * I128(kMax));
  EXPECT_EQ(ByName(p, t), (std::map<std::string, FlatCum>{
                              {"f", {3 * I128(kMax), 3 * I128(kMax)}}}));
}

TEST(TabulateFunctions, Int64MinHasAnAbsoluteValue) {
  ProfileBuilder b = WithTypes({{"inuse_space", "bytes"}});
  b.Stack({"pos"}, {kMax});
  b.Stack({"neg"}, {kMin});
  const Profile p = MustDecode(b);
  const FunctionTable t = TabulateFunctions(p, 0).value();
  EXPECT_EQ(t.total, I128(kMax) - I128(kMin));  // 2^64 - 1
  const auto top = TopByFlat(p, t, 10);
  ASSERT_THAT(Names(top), ElementsAre("neg", "pos"));
  EXPECT_EQ(top[0].flat, kMin);
  EXPECT_DOUBLE_EQ(top[0].flat_ratio, -0.5);
  EXPECT_DOUBLE_EQ(top[1].flat_ratio, 0.5);
  EXPECT_EQ(SumValues(p, 0).value(), -1);
}

TEST(ReduceHeap, TotalsNearInt64MaxDoNotOverflow) {
  ProfileBuilder b = WithTypes({{"inuse_space", "bytes"}});
  b.Stack({"a"}, {kMax});
  b.Stack({"b"}, {kMax});
  const Profile p = MustDecode(b);
  auto r = Reduce(Kind::kHeap, p, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& heap = std::get<HeapReduction>(*r);
  ASSERT_TRUE(heap.inuse_bytes.has_value());
  EXPECT_DOUBLE_EQ(*heap.inuse_bytes, 2.0 * static_cast<double>(kMax));
  ASSERT_EQ(heap.top_flat.size(), 2u);
  EXPECT_DOUBLE_EQ(heap.top_flat[0].flat_ratio, 0.5);
}

// gperftools' C++ heap profiles: in-use only, named objects and space.
TEST(ReduceHeap, GperftoolsHeapProfileIsReadAsPprofDoes) {
  ProfileBuilder b = WithTypes({{"objects", "count"}, {"space", "bytes"}});
  b.Stack({"tcmalloc::allocate", "main"}, {3, 3072});
  b.Stack({"Cache::Insert", "main"}, {1, 1024});
  const Profile p = MustDecode(b);
  auto kind = GuessKind(p);
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(*kind, Kind::kHeap);
  auto r = Reduce(Kind::kHeap, p, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& heap = std::get<HeapReduction>(*r);
  EXPECT_EQ(heap.inuse_bytes, 4096);
  EXPECT_EQ(heap.inuse_objects, 4);
  EXPECT_FALSE(heap.alloc_bytes.has_value());
  ASSERT_THAT(Names(heap.top_flat), ElementsAre("tcmalloc::allocate", "Cache::Insert", "main"));
  EXPECT_DOUBLE_EQ(heap.top_flat[0].flat_ratio, 0.75);
  EXPECT_FALSE(Reduce(Kind::kAllocs, p, {}).ok());
}

// ---------------------------------------------------------------------------
// Kinds.

TEST(GuessKind, CpuProfileHasACpuSampleType) {
  const Profile p = MustDecode(
      WithTypes({{"samples", "count"}, {"cpu", "nanoseconds"}}));
  auto kind = GuessKind(p);
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(*kind, Kind::kCpu);
}

TEST(GuessKind, GoroutineProfileHasAGoroutineSampleType) {
  const Profile p = MustDecode(WithTypes({{"goroutine", "count"}}));
  auto kind = GuessKind(p);
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(*kind, Kind::kGoroutine);
}

ProfileBuilder HeapTypes() {
  return WithTypes({{"alloc_objects", "count"},
                    {"alloc_space", "bytes"},
                    {"inuse_objects", "count"},
                    {"inuse_space", "bytes"}});
}

TEST(GuessKind, HeapProfileWithoutDefaultSampleTypeIsHeap) {
  auto kind = GuessKind(MustDecode(HeapTypes()));
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(*kind, Kind::kHeap);
}

TEST(GuessKind, HeapProfilePreferringAllocationsIsAllocs) {
  for (const char* preferred : {"alloc_space", "alloc_objects"}) {
    SCOPED_TRACE(preferred);
    ProfileBuilder b = HeapTypes();
    b.DefaultSampleType(preferred);
    auto kind = GuessKind(MustDecode(b));
    ASSERT_TRUE(kind.ok()) << kind.status();
    EXPECT_EQ(*kind, Kind::kAllocs);
  }
}

TEST(GuessKind, HeapProfilePreferringInuseObjectsIsHeap) {
  ProfileBuilder b = HeapTypes();
  b.DefaultSampleType("inuse_objects");
  auto kind = GuessKind(MustDecode(b));
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(*kind, Kind::kHeap);
}

TEST(GuessKind, MutexAndBlockAreAmbiguous) {
  const Profile p = MustDecode(
      WithTypes({{"contentions", "count"}, {"delay", "nanoseconds"}}));
  const absl::Status status = GuessKind(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("mutex and block"));
}

TEST(GuessKind, UnknownSampleTypesAreInvalidAndNamed) {
  const Profile p = MustDecode(WithTypes({{"retained", "bytes"}}));
  const absl::Status status = GuessKind(p).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("retained/bytes"));
}

TEST(Reduce, KindMismatchIsInvalidArgumentNamingTheSampleTypes) {
  const Profile goroutine = MustDecode(WithTypes({{"goroutine", "count"}}));
  absl::Status status = Reduce(Kind::kCpu, goroutine, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("not a cpu profile"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("goroutine/count"));

  const Profile cpu = MustDecode(
      WithTypes({{"samples", "count"}, {"cpu", "nanoseconds"}}));
  for (Kind kind : {Kind::kHeap, Kind::kAllocs, Kind::kGoroutine,
                    Kind::kMutex, Kind::kBlock}) {
    SCOPED_TRACE(KindName(kind));
    status = Reduce(kind, cpu, {}).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr("samples/count, cpu/nanoseconds"));
  }
}

TEST(Reduce, EachKindYieldsItsReduction) {
  struct Case {
    Kind kind;
    ProfileBuilder builder;
    size_t variant_index;
  };
  const Case cases[] = {
      {Kind::kCpu, WithTypes({{"samples", "count"}, {"cpu", "nanoseconds"}}),
       0},
      {Kind::kHeap, HeapTypes(), 1},
      {Kind::kAllocs, HeapTypes(), 1},
      {Kind::kGoroutine, WithTypes({{"goroutine", "count"}}), 2},
      {Kind::kMutex,
       WithTypes({{"contentions", "count"}, {"delay", "nanoseconds"}}), 3},
      {Kind::kBlock,
       WithTypes({{"contentions", "count"}, {"delay", "nanoseconds"}}), 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(KindName(c.kind));
    auto r = Reduce(c.kind, MustDecode(c.builder), {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->index(), c.variant_index);
  }
}

// A valid profile without samples reduces to zeros (and empty lists).
TEST(Reduce, ProfileWithoutSamplesReducesToZeros) {
  {
    ProfileBuilder b = WithTypes({{"samples", "count"}, {"cpu", "nanoseconds"}});
    auto r = Reduce(Kind::kCpu, MustDecode(b), {});
    ASSERT_TRUE(r.ok()) << r.status();
    const auto& cpu = std::get<CpuReduction>(*r);
    EXPECT_EQ(cpu.sampled_seconds, 0.0);
    EXPECT_EQ(cpu.duration_seconds, 0.0);
    EXPECT_EQ(cpu.gc_ratio, 0.0);
    EXPECT_THAT(cpu.top_flat, IsEmpty());
    EXPECT_THAT(cpu.top_cum, IsEmpty());
  }
  {
    auto r = Reduce(Kind::kHeap, MustDecode(HeapTypes()), {});
    ASSERT_TRUE(r.ok()) << r.status();
    const auto& heap = std::get<HeapReduction>(*r);
    EXPECT_EQ(heap.inuse_bytes, 0.0);
    EXPECT_EQ(heap.inuse_objects, 0.0);
    EXPECT_EQ(heap.alloc_bytes, 0.0);
    EXPECT_EQ(heap.alloc_objects, 0.0);
    EXPECT_THAT(heap.top_flat, IsEmpty());
  }
  {
    ReduceOptions options;
    options.services.method = ServiceCounting::Method::kLabel;
    options.services.label = "service";
    auto r = Reduce(Kind::kGoroutine,
                    MustDecode(WithTypes({{"goroutine", "count"}})), options);
    ASSERT_TRUE(r.ok()) << r.status();
    const auto& g = std::get<GoroutineReduction>(*r);
    EXPECT_EQ(g.goroutines, 0);
    EXPECT_EQ(g.services, 0);
    EXPECT_EQ(g.goroutines_per_service, std::nullopt);
    EXPECT_THAT(g.label_values, IsEmpty());
    EXPECT_THAT(g.by_function, IsEmpty());
  }
  {
    auto r = Reduce(
        Kind::kMutex,
        MustDecode(WithTypes({{"contentions", "count"}, {"delay", "nanoseconds"}})),
        {});
    ASSERT_TRUE(r.ok()) << r.status();
    const auto& c = std::get<ContentionReduction>(*r);
    EXPECT_EQ(c.delay_seconds, 0.0);
    EXPECT_EQ(c.contentions, 0.0);
    EXPECT_THAT(c.top_flat, IsEmpty());
  }
}

// ---------------------------------------------------------------------------
// CPU.

ProfileBuilder CpuTypes() {
  ProfileBuilder b = WithTypes({{"samples", "count"}, {"cpu", "nanoseconds"}});
  b.PeriodType("cpu", "nanoseconds", 10'000'000);
  return b;
}

CpuReduction MustReduceCpu(const ProfileBuilder& b,
                           const ReduceOptions& options = {}) {
  auto r = Reduce(Kind::kCpu, MustDecode(b), options);
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return {};
  }
  return std::get<CpuReduction>(*r);
}

TEST(ReduceCpu, GcRatioCountsASampleOnceEvenWithSeveralGcFrames) {
  ProfileBuilder b = CpuTypes();
  b.DurationNanos(5'000'000'000);
  b.Stack({"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"},
          {30, 300'000'000});
  b.Stack({"main.work", "main.main"}, {70, 700'000'000});
  const CpuReduction cpu = MustReduceCpu(b);
  EXPECT_DOUBLE_EQ(cpu.gc_ratio, 0.3);
  ASSERT_TRUE(cpu.sampled_seconds.has_value());
  EXPECT_DOUBLE_EQ(*cpu.sampled_seconds, 1.0);
  EXPECT_DOUBLE_EQ(cpu.duration_seconds, 5.0);
}

TEST(ReduceCpu, GcFrameInAnInlinedLineCounts) {
  ProfileBuilder b = CpuTypes();
  const uint64_t assist = b.Location({"runtime.gcAssistAlloc", "runtime.mallocgc"});
  b.Sample({b.Frame("main.leaf"), assist, b.Frame("main.main")},
           {1, 250'000'000});
  b.Stack({"main.leaf", "main.main"}, {3, 750'000'000});
  EXPECT_DOUBLE_EQ(MustReduceCpu(b).gc_ratio, 0.25);
}

TEST(ReduceCpu, DefaultGcRegexMatchesWholeNamesOnly) {
  ProfileBuilder b = CpuTypes();
  b.Stack({"runtime.gcDrainX"}, {1, 100});
  b.Stack({"xruntime.gcDrain"}, {1, 100});
  b.Stack({"runtime.gcDrain.func1"}, {1, 100});
  b.Stack({"runtime.gcBgMarkWorker"}, {1, 100});
  EXPECT_DOUBLE_EQ(MustReduceCpu(b).gc_ratio, 0.25);
}

TEST(ReduceCpu, CustomGcRegexReplacesTheDefault) {
  ProfileBuilder b = CpuTypes();
  b.Stack({"runtime.gcDrain"}, {1, 100});
  b.Stack({"main.churnLoop", "main.main"}, {1, 300});
  b.Stack({"main.work", "main.main"}, {1, 600});
  ReduceOptions options;
  options.gc_regex = std::make_shared<RE2>(R"(main\.churn.*)");
  EXPECT_DOUBLE_EQ(MustReduceCpu(b, options).gc_ratio, 0.3);
  // Whole-name match: a prefix is not enough.
  options.gc_regex = std::make_shared<RE2>(R"(main\.churn)");
  EXPECT_DOUBLE_EQ(MustReduceCpu(b, options).gc_ratio, 0.0);
}

TEST(ReduceCpu, SampledSecondsComeFromNanoseconds) {
  ProfileBuilder b = CpuTypes();
  b.Stack({"main.a"}, {150, 1'500'000'000});
  b.Stack({"main.b"}, {100, 1'000'000'001});
  const CpuReduction cpu = MustReduceCpu(b);
  ASSERT_TRUE(cpu.sampled_seconds.has_value());
  EXPECT_DOUBLE_EQ(*cpu.sampled_seconds, 2.500000001);
}

TEST(ReduceCpu, TopListsUseTheCpuValueNotTheSampleCount) {
  ProfileBuilder b = CpuTypes();
  b.Stack({"main.many", "main.main"}, {10, 100});
  b.Stack({"main.heavy", "main.main"}, {1, 900});
  const CpuReduction cpu = MustReduceCpu(b);
  ASSERT_THAT(Names(cpu.top_flat), ElementsAre("main.heavy", "main.many",
                                               "main.main"));
  EXPECT_EQ(cpu.top_flat[0].flat, 900);
  EXPECT_DOUBLE_EQ(cpu.top_flat[0].flat_ratio, 0.9);
  ASSERT_THAT(Names(cpu.top_cum), ElementsAre("main.main", "main.heavy",
                                              "main.many"));
  EXPECT_EQ(cpu.top_cum[0].cum, 1000);
}

TEST(ReduceCpu, TopListsAreTruncatedToTheOption) {
  ProfileBuilder b = CpuTypes();
  for (int i = 0; i < 5; ++i) b.Stack({"f" + std::to_string(i)}, {1, i + 1});
  ReduceOptions options;
  options.top = 2;
  const CpuReduction cpu = MustReduceCpu(b, options);
  EXPECT_THAT(Names(cpu.top_flat), ElementsAre("f4", "f3"));
  EXPECT_THAT(Names(cpu.top_cum), ElementsAre("f4", "f3"));
}

TEST(ReduceCpu, UnknownCpuUnitLeavesSampledSecondsEmpty) {
  ProfileBuilder b = WithTypes({{"samples", "count"}, {"cpu", "cycles"}});
  b.Stack({"runtime.gcDrain"}, {1, 10});
  b.Stack({"main.main"}, {1, 30});
  const CpuReduction cpu = MustReduceCpu(b);
  EXPECT_EQ(cpu.sampled_seconds, std::nullopt);
  EXPECT_DOUBLE_EQ(cpu.gc_ratio, 0.25);
}

TEST(ReduceCpu, ProfileWithoutCpuTypeHasNoSampledSeconds) {
  ProfileBuilder b = WithTypes({{"samples", "count"}});
  b.Stack({"runtime.gcDrain"}, {1});
  b.Stack({"main.main"}, {3});
  const CpuReduction cpu = MustReduceCpu(b);
  EXPECT_EQ(cpu.sampled_seconds, std::nullopt);
  EXPECT_DOUBLE_EQ(cpu.gc_ratio, 0.25);
}

TEST(InBaseUnits, ConvertsKnownUnitsOnly) {
  EXPECT_EQ(InBaseUnits(7, "count"), 7.0);
  EXPECT_EQ(InBaseUnits(7, "bytes"), 7.0);
  EXPECT_EQ(InBaseUnits(7, "seconds"), 7.0);
  EXPECT_EQ(InBaseUnits(1'500'000'000, "nanoseconds"), 1.5);
  EXPECT_EQ(InBaseUnits(1'500'000, "microseconds"), 1.5);
  EXPECT_EQ(InBaseUnits(1'500, "milliseconds"), 1.5);
  EXPECT_EQ(InBaseUnits(7, "cycles"), std::nullopt);
  EXPECT_EQ(InBaseUnits(7, ""), std::nullopt);
}

// ---------------------------------------------------------------------------
// Mutex and block.

TEST(ReduceContention, MicrosecondDelayIsConvertedToSeconds) {
  ProfileBuilder b =
      WithTypes({{"contentions", "count"}, {"delay", "microseconds"}});
  b.Stack({"sync.(*Mutex).Unlock", "main.contender"}, {30, 1'500'000});
  b.Stack({"runtime.chanrecv1", "main.consumer"}, {12, 500'000});
  for (Kind kind : {Kind::kMutex, Kind::kBlock}) {
    SCOPED_TRACE(KindName(kind));
    auto r = Reduce(kind, MustDecode(b), {});
    ASSERT_TRUE(r.ok()) << r.status();
    const auto& c = std::get<ContentionReduction>(*r);
    ASSERT_TRUE(c.delay_seconds.has_value());
    EXPECT_DOUBLE_EQ(*c.delay_seconds, 2.0);
    ASSERT_TRUE(c.contentions.has_value());
    EXPECT_DOUBLE_EQ(*c.contentions, 42.0);
    ASSERT_THAT(Names(c.top_flat),
                ElementsAre("sync.(*Mutex).Unlock", "runtime.chanrecv1",
                            "main.consumer", "main.contender"));
    EXPECT_EQ(c.top_flat[0].flat, 1'500'000);
    EXPECT_DOUBLE_EQ(c.top_flat[0].flat_ratio, 0.75);
  }
}

TEST(ReduceContention, NanosecondDelayIsConvertedToSeconds) {
  ProfileBuilder b =
      WithTypes({{"contentions", "count"}, {"delay", "nanoseconds"}});
  b.Stack({"main.wait"}, {3, 2'500'000'000});
  auto r = Reduce(Kind::kBlock, MustDecode(b), {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& c = std::get<ContentionReduction>(*r);
  EXPECT_EQ(c.delay_seconds, 2.5);
  EXPECT_EQ(c.contentions, 3.0);
}

TEST(ReduceContention, MissingDelayTypeLeavesDelayEmpty) {
  ProfileBuilder b = WithTypes({{"contentions", "count"}});
  b.Stack({"main.wait"}, {3});
  auto r = Reduce(Kind::kMutex, MustDecode(b), {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& c = std::get<ContentionReduction>(*r);
  EXPECT_EQ(c.delay_seconds, std::nullopt);
  EXPECT_EQ(c.contentions, 3.0);
}

// ---------------------------------------------------------------------------
// Goroutines.

GoroutineReduction MustReduceGoroutine(const ProfileBuilder& b,
                                       const ReduceOptions& options) {
  auto r = Reduce(Kind::kGoroutine, MustDecode(b), options);
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return {};
  }
  return std::get<GoroutineReduction>(*r);
}

ReduceOptions StaticServices(int64_t n) {
  ReduceOptions options;
  options.services.method = ServiceCounting::Method::kStatic;
  options.services.static_count = n;
  return options;
}

TEST(ReduceGoroutine, StaticServiceCount) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"runtime.gopark", "main.main"}, {6});
  b.Stack({"runtime.gopark", "main.worker"}, {4});
  const GoroutineReduction g = MustReduceGoroutine(b, StaticServices(4));
  EXPECT_EQ(g.goroutines, 10);
  EXPECT_EQ(g.services, 4);
  EXPECT_EQ(g.goroutines_per_service, 2.5);
  EXPECT_THAT(g.label_values, IsEmpty());
}

TEST(ReduceGoroutine, NoServicesMeansNoGoroutinesPerService) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"runtime.gopark", "main.main"}, {6});
  const GoroutineReduction g = MustReduceGoroutine(b, StaticServices(0));
  EXPECT_EQ(g.goroutines, 6);
  EXPECT_EQ(g.services, 0);
  EXPECT_EQ(g.goroutines_per_service, std::nullopt);
}

ReduceOptions LabelServices(const std::string& label) {
  ReduceOptions options;
  options.services.method = ServiceCounting::Method::kLabel;
  options.services.label = label;
  return options;
}

TEST(ReduceGoroutine, LabelCountsDistinctValuesAndGoroutinesPerValue) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"runtime.gopark", "main.a"}, {3}, {{"service", "a"}});
  b.Stack({"runtime.gopark", "main.b"}, {2}, {{"service", "b"}});
  b.Stack({"runtime.gopark", "main.a2"}, {1},
          {{"component", "x"}, {"service", "a"}});
  b.Stack({"runtime.gopark", "main.main"}, {4});
  // "c" is a value of another key; it is not a service.
  b.Stack({"runtime.gopark", "main.other"}, {5}, {{"other", "c"}});
  // The same key and value twice on one sample counts once.
  b.Stack({"runtime.gopark", "main.dup"}, {2},
          {{"service", "d"}, {"service", "d"}});
  // Two values of the key on one sample count for each value.
  b.Stack({"runtime.gopark", "main.multi"}, {1},
          {{"service", "e"}, {"service", "a"}});
  const GoroutineReduction g = MustReduceGoroutine(b, LabelServices("service"));
  EXPECT_EQ(g.goroutines, 18);
  EXPECT_THAT(g.label_values, ElementsAre(Pair("a", 5), Pair("b", 2),
                                          Pair("d", 2), Pair("e", 1)));
  EXPECT_EQ(g.services, 4);
  EXPECT_EQ(g.goroutines_per_service, 4.5);
}

TEST(ReduceGoroutine, LabelNotPresentMeansNoServices) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"runtime.gopark", "main.a"}, {3}, {{"component", "a"}});
  const GoroutineReduction g = MustReduceGoroutine(b, LabelServices("service"));
  EXPECT_EQ(g.goroutines, 3);
  EXPECT_EQ(g.services, 0);
  EXPECT_EQ(g.goroutines_per_service, std::nullopt);
  EXPECT_THAT(g.label_values, IsEmpty());
}

TEST(ReduceGoroutine, LabelKeyThatOnlyOccursAsAValueMeansNoServices) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"runtime.gopark", "main.a"}, {3}, {{"component", "service"}});
  const GoroutineReduction g = MustReduceGoroutine(b, LabelServices("service"));
  EXPECT_EQ(g.services, 0);
  EXPECT_THAT(g.label_values, IsEmpty());
}

ReduceOptions RegexServices(const std::string& regex) {
  ReduceOptions options;
  options.services.method = ServiceCounting::Method::kRegex;
  options.services.regex = std::make_shared<RE2>(regex);
  return options;
}

TEST(ReduceGoroutine, RegexCountsGoroutinesWhoseStackHasAMatchingFunction) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  const std::vector<std::string> supervisor = {
      "runtime.gopark", "runtime.selectgo", "main.(*service).supervise",
      "runtime.goexit"};
  b.Stack(supervisor, {1}, {{"service", "svc-1"}});
  b.Stack(supervisor, {2}, {{"service", "svc-2"}});
  // Matching through an inlined line.
  b.Sample({b.Frame("runtime.gopark"),
            b.Location({"main.(*service).supervise", "main.run"})},
           {1});
  // Not whole-name matches.
  b.Stack({"runtime.gopark", "main.(*service).supervisor"}, {4});
  b.Stack({"main.(*service).supervise.func1"}, {1});
  const GoroutineReduction g =
      MustReduceGoroutine(b, RegexServices(R"(^main\.\(\*service\)\.supervise$)"));
  EXPECT_EQ(g.goroutines, 9);
  EXPECT_EQ(g.services, 4);
  EXPECT_EQ(g.goroutines_per_service, 2.25);
  EXPECT_THAT(g.label_values, IsEmpty());
}

TEST(ReduceGoroutine, RegexCountsAStackOnceWhateverItsMatches) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"main.s", "main.s", "main.t"}, {3});
  const GoroutineReduction g = MustReduceGoroutine(b, RegexServices("main\\..*"));
  EXPECT_EQ(g.services, 3);
}

TEST(ReduceGoroutine, RegexWithoutMatchesMeansNoServices) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"runtime.gopark", "main.main"}, {2});
  const GoroutineReduction g = MustReduceGoroutine(b, RegexServices("nothing"));
  EXPECT_EQ(g.services, 0);
  EXPECT_EQ(g.goroutines_per_service, std::nullopt);

  ReduceOptions no_regex;
  no_regex.services.method = ServiceCounting::Method::kRegex;
  const GoroutineReduction none = MustReduceGoroutine(b, no_regex);
  EXPECT_EQ(none.services, 0);
  EXPECT_EQ(none.goroutines_per_service, std::nullopt);
}

TEST(ReduceGoroutine, ByFunctionUsesTheFirstApplicationFrameFromTheLeaf) {
  ProfileBuilder b = WithTypes({{"goroutine", "count"}});
  b.Stack({"runtime.gopark", "runtime.selectgo", "main.(*service).supervise",
           "runtime.goexit"},
          {3});
  // Only standard library: the leaf frame.
  b.Stack({"runtime.gopark", "net/http.(*conn).serve", "runtime.goexit"}, {2});
  // golang.org/x/... is not the standard library.
  b.Stack({"runtime.gopark", "golang.org/x/net/http2.(*Framer).ReadFrame",
           "tailscale.com/tsnet.(*Server).Up", "runtime.goexit"},
          {2});
  // Inlined lines count in order, innermost first.
  b.Sample({b.Frame("runtime.gopark"),
            b.Location({"sync.runtime_SemacquireMutex", "sync.(*Mutex).lockSlow",
                        "sync.(*Mutex).Lock", "main.(*service).lockWait"}),
            b.Frame("runtime.goexit")},
           {1});
  b.Stack({"internal/poll.runtime_pollWait", "internal/poll.(*FD).Accept",
           "net.(*TCPListener).accept", "tailscale.com/tsnet.(*Server).Up"},
          {1});
  b.Stack({"runtime.gopark", "main.main"}, {1});
  b.Stack({"runtime.notetsleepg", "os/signal.signal_recv", "os/signal.loop"},
          {1});
  b.Stack({"main.zero"}, {0});  // zero-valued samples are skipped
  const GoroutineReduction g = MustReduceGoroutine(b, StaticServices(1));
  EXPECT_EQ(g.goroutines, 11);
  EXPECT_THAT(g.by_function,
              ElementsAre(Pair("main.(*service).supervise", 3),
                          Pair("golang.org/x/net/http2.(*Framer).ReadFrame", 2),
                          Pair("runtime.gopark", 2),
                          Pair("main.(*service).lockWait", 1),
                          Pair("main.main", 1),
                          Pair("runtime.notetsleepg", 1),
                          Pair("tailscale.com/tsnet.(*Server).Up", 1)));

  ReduceOptions top3 = StaticServices(1);
  top3.top = 3;
  EXPECT_THAT(MustReduceGoroutine(b, top3).by_function,
              ElementsAre(Pair("main.(*service).supervise", 3),
                          Pair("golang.org/x/net/http2.(*Framer).ReadFrame", 2),
                          Pair("runtime.gopark", 2)));
}

TEST(IsApplicationFunction, MainAndModulePathsAreApplicationCode) {
  EXPECT_TRUE(IsApplicationFunction("main.main"));
  EXPECT_TRUE(IsApplicationFunction("main.(*service).supervise"));
  EXPECT_TRUE(IsApplicationFunction("main.main.func1"));
  EXPECT_TRUE(IsApplicationFunction("tailscale.com/tsnet.(*Server).Up"));
  EXPECT_TRUE(
      IsApplicationFunction("golang.org/x/net/http2.(*Framer).ReadFrame"));
  EXPECT_TRUE(IsApplicationFunction("github.com/a/b/c.F"));
  EXPECT_TRUE(IsApplicationFunction("gopkg.in/yaml%2ev3.(*parser).parse"));
}

TEST(IsApplicationFunction, StandardLibraryIsNot) {
  EXPECT_FALSE(IsApplicationFunction("runtime.gopark"));
  EXPECT_FALSE(IsApplicationFunction("net/http.(*conn).serve"));
  EXPECT_FALSE(IsApplicationFunction("internal/poll.(*FD).Accept"));
  EXPECT_FALSE(IsApplicationFunction("sync.(*Mutex).Lock"));
  EXPECT_FALSE(IsApplicationFunction("encoding/json.(*encodeState).marshal"));
  EXPECT_FALSE(IsApplicationFunction("mainly.F"));
  EXPECT_FALSE(IsApplicationFunction("os/signal.loop"));
}

TEST(IsApplicationFunction, NamelessFramesAreNot) {
  EXPECT_FALSE(IsApplicationFunction("<unknown>"));
  EXPECT_FALSE(IsApplicationFunction("[libc.so.6]"));
  EXPECT_FALSE(IsApplicationFunction(""));
}

// ---------------------------------------------------------------------------
// Heap and allocs.

ProfileBuilder SmallHeap() {
  ProfileBuilder b = HeapTypes();
  b.Stack({"main.alloc", "main.main"}, {10, 1000, 2, 200});
  b.Stack({"bytes.growSlice", "main.buf", "main.main"}, {5, 4096, 1, 4096});
  b.Stack({"main.temp", "main.main"}, {100, 50000, 0, 0});
  return b;
}

TEST(ReduceHeap, TotalsOfAllFourSampleTypes) {
  for (Kind kind : {Kind::kHeap, Kind::kAllocs}) {
    SCOPED_TRACE(KindName(kind));
    auto r = Reduce(kind, MustDecode(SmallHeap()), {});
    ASSERT_TRUE(r.ok()) << r.status();
    const auto& h = std::get<HeapReduction>(*r);
    EXPECT_EQ(h.inuse_bytes, 4296.0);
    EXPECT_EQ(h.inuse_objects, 3.0);
    EXPECT_EQ(h.alloc_bytes, 55096.0);
    EXPECT_EQ(h.alloc_objects, 115.0);
  }
}

TEST(ReduceHeap, HeapRanksByInuseSpace) {
  auto r = Reduce(Kind::kHeap, MustDecode(SmallHeap()), {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& h = std::get<HeapReduction>(*r);
  // main.temp holds nothing in use, so it is not listed at all.
  EXPECT_THAT(Names(h.top_flat),
              ElementsAre("bytes.growSlice", "main.alloc", "main.buf",
                          "main.main"));
  EXPECT_EQ(h.top_flat[0].flat, 4096);
  EXPECT_THAT(Names(h.top_cum), ElementsAre("main.main", "bytes.growSlice",
                                            "main.buf", "main.alloc"));
  EXPECT_EQ(h.top_cum[0].cum, 4296);
  EXPECT_DOUBLE_EQ(h.top_cum[0].cum_ratio, 1.0);
}

TEST(ReduceHeap, AllocsRankByAllocSpace) {
  auto r = Reduce(Kind::kAllocs, MustDecode(SmallHeap()), {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& h = std::get<HeapReduction>(*r);
  ASSERT_THAT(Names(h.top_flat),
              ElementsAre("main.temp", "bytes.growSlice", "main.alloc",
                          "main.buf", "main.main"));
  EXPECT_EQ(h.top_flat[0].flat, 50000);
  EXPECT_DOUBLE_EQ(h.top_flat[0].flat_ratio, 50000.0 / 55096.0);
}

TEST(ReduceHeap, MissingSampleTypesLeaveTheirTotalsEmpty) {
  ProfileBuilder b = WithTypes({{"retained", "bytes"}});
  b.Stack({"malloc", "main"}, {128});
  const Profile p = MustDecode(b);
  const HeapReduction h =
      ReduceHeap(p, 0, {}, /*cumulative=*/false, nullptr).value();
  EXPECT_EQ(h.inuse_bytes, std::nullopt);
  EXPECT_EQ(h.inuse_objects, std::nullopt);
  EXPECT_EQ(h.alloc_bytes, std::nullopt);
  EXPECT_EQ(h.alloc_objects, std::nullopt);
  ASSERT_THAT(Names(h.top_flat), ElementsAre("malloc", "main"));
  EXPECT_EQ(h.top_flat[0].flat, 128);
  // Reduce() itself refuses a profile without any heap sample type.
  const absl::Status status = Reduce(Kind::kHeap, p, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("retained/bytes"));
}

TEST(ReduceHeap, InuseOnlyProfileHasNoAllocTotals) {
  ProfileBuilder b =
      WithTypes({{"inuse_objects", "count"}, {"inuse_space", "bytes"}});
  b.Stack({"main.alloc"}, {2, 64});
  for (Kind kind : {Kind::kHeap, Kind::kAllocs}) {
    SCOPED_TRACE(KindName(kind));
    auto r = Reduce(kind, MustDecode(b), {});
    ASSERT_TRUE(r.ok()) << r.status();
    const auto& h = std::get<HeapReduction>(*r);
    EXPECT_EQ(h.inuse_bytes, 64.0);
    EXPECT_EQ(h.inuse_objects, 2.0);
    EXPECT_EQ(h.alloc_bytes, std::nullopt);
    EXPECT_EQ(h.alloc_objects, std::nullopt);
    ASSERT_EQ(h.top_flat.size(), 1u);
    EXPECT_EQ(h.top_flat[0].flat, 64);
  }
}

}  // namespace
}  // namespace profile
