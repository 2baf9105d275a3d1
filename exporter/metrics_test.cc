#include "exporter/metrics.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "exporter/testing/fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "profile/reduce.h"

namespace exporter {
namespace {

using ::prometheus::MetricFamily;
using ::prometheus::MetricType;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

using testing::FixtureDir;
using testing::ReadFixture;

std::vector<std::string> Names(const std::vector<MetricFamily>& families) {
  std::vector<std::string> names;
  for (const auto& f : families) names.push_back(f.name);
  return names;
}

const MetricFamily* Find(const std::vector<MetricFamily>& families,
                         const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

LabelPairs Labels(const prometheus::ClientMetric& m) {
  LabelPairs labels;
  for (const auto& l : m.label) labels.emplace_back(l.name, l.value);
  return labels;
}

// --- FamilyBuilder ---

TEST(FamilyBuilderTest, GroupsByFamilyInFirstSeenOrder) {
  FamilyBuilder b;
  b.Gauge("b_gauge", "help b", {{"x", "1"}}, 1);
  b.Counter("a_total", "help a", {{"x", "1"}}, 2);
  b.Gauge("b_gauge", "help b", {{"x", "2"}}, 3);
  b.Gauge("c_gauge", "help c", {}, 4);
  b.Counter("a_total", "help a", {{"x", "2"}}, 5);
  const auto families = std::move(b).Build();
  ASSERT_THAT(Names(families), ElementsAre("b_gauge", "a_total", "c_gauge"));
  EXPECT_EQ(families[0].type, MetricType::Gauge);
  EXPECT_EQ(families[1].type, MetricType::Counter);
  EXPECT_EQ(families[0].metric.size(), 2u);
  EXPECT_EQ(families[1].metric.size(), 2u);
  EXPECT_EQ(families[2].metric.size(), 1u);

  EXPECT_EQ(SerializeText(families),
            "# HELP b_gauge help b\n"
            "# TYPE b_gauge gauge\n"
            "b_gauge{x=\"1\"} 1\n"
            "b_gauge{x=\"2\"} 3\n"
            "# HELP a_total help a\n"
            "# TYPE a_total counter\n"
            "a_total{x=\"1\"} 2\n"
            "a_total{x=\"2\"} 5\n"
            "# HELP c_gauge help c\n"
            "# TYPE c_gauge gauge\n"
            "c_gauge 4\n");
}

TEST(FamilyBuilderTest, DuplicateSeriesKeepsTheFirst) {
  FamilyBuilder b;
  b.Gauge("g", "first help", {{"target", "t"}, {"k", "v"}}, 1);
  b.Gauge("g", "second help", {{"target", "t"}, {"k", "v"}}, 2);
  b.Gauge("g", "h", {{"target", "t"}, {"k", "w"}}, 3);  // other labels: kept
  b.Gauge("g", "h", {{"target", "t"}}, 4);              // fewer labels: kept
  const auto families = std::move(b).Build();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].help, "first help");
  ASSERT_EQ(families[0].metric.size(), 3u);
  EXPECT_EQ(families[0].metric[0].gauge.value, 1);
  EXPECT_EQ(families[0].metric[1].gauge.value, 3);
  EXPECT_EQ(families[0].metric[2].gauge.value, 4);
}

TEST(FamilyBuilderTest, LabelBoundariesAreNotAmbiguous) {
  // {a="b,c"} and {a="b", c=""} style collisions must stay distinct series.
  FamilyBuilder b;
  b.Gauge("g", "h", {{"a", "bc"}}, 1);
  b.Gauge("g", "h", {{"ab", "c"}}, 2);
  b.Gauge("g", "h", {{"a", "b"}, {"c", ""}}, 3);
  const auto families = std::move(b).Build();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].metric.size(), 3u);
}

TEST(FamilyBuilderTest, HeapAndAllocsBothCarryHeapTotalsOnce) {
  profile::HeapReduction heap;
  heap.inuse_bytes = 100;
  heap.inuse_objects = 10;
  heap.alloc_bytes = 1000;
  heap.alloc_objects = 50;
  heap.top_flat = {{"main.a", 1, 1, 0.5, 0.5}};
  heap.top_cum = {{"main.a", 1, 1, 0.5, 0.5}};
  profile::HeapReduction allocs = heap;
  allocs.inuse_bytes = 200;  // a later scrape: must not replace the first
  allocs.alloc_bytes = 2000;
  allocs.top_flat = {{"main.b", 1, 1, 0.25, 0.25}};
  allocs.top_cum = {{"main.b", 1, 1, 0.25, 0.25}};

  FamilyBuilder b;
  const LabelPairs target = {{"target", "t"}};
  AddReduction(profile::Kind::kHeap, heap, target, &b);
  AddReduction(profile::Kind::kAllocs, allocs, target, &b);
  const auto families = std::move(b).Build();
  const std::string text = SerializeText(families);

  const MetricFamily* inuse = Find(families, "pprof_heap_inuse_bytes");
  ASSERT_NE(inuse, nullptr);
  ASSERT_EQ(inuse->metric.size(), 1u);
  EXPECT_EQ(inuse->metric[0].gauge.value, 100);
  const MetricFamily* alloc = Find(families, "pprof_heap_alloc_bytes_total");
  ASSERT_NE(alloc, nullptr);
  ASSERT_EQ(alloc->metric.size(), 1u);
  EXPECT_EQ(alloc->metric[0].counter.value, 1000);
  EXPECT_NE(Find(families, "pprof_heap_flat_ratio"), nullptr);
  EXPECT_NE(Find(families, "pprof_allocs_flat_ratio"), nullptr);
  // One HELP/TYPE per family in the text.
  for (const auto& f : families) {
    const std::string type_line = absl::StrCat("# TYPE ", f.name, " ");
    size_t count = 0;
    for (size_t at = text.find(type_line); at != std::string::npos;
         at = text.find(type_line, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << f.name;
  }
}

TEST(AddReductionTest, HeapTotalsFromTheHeapProfileOnly) {
  profile::HeapReduction r;
  r.inuse_bytes = 1;
  r.inuse_objects = 2;
  r.alloc_bytes = 3;
  r.alloc_objects = 4;
  r.top_flat = {{"main.a", 1, 1, 0.5, 0.5}};
  r.top_cum = {{"main.a", 1, 1, 0.5, 0.5}};
  const LabelPairs target = {{"target", "t"}};
  FamilyBuilder allocs;
  AddReduction(profile::Kind::kAllocs, r, target, &allocs,
               /*totals_elsewhere=*/true);
  EXPECT_THAT(Names(std::move(allocs).Build()),
              ElementsAre("pprof_allocs_flat_ratio", "pprof_allocs_cum_ratio"));
  FamilyBuilder heap;
  AddReduction(profile::Kind::kHeap, r, target, &heap);
  EXPECT_THAT(Names(std::move(heap).Build()),
              ElementsAre("pprof_heap_inuse_bytes", "pprof_heap_inuse_objects",
                          "pprof_heap_alloc_bytes_total",
                          "pprof_heap_alloc_objects_total",
                          "pprof_heap_flat_ratio", "pprof_heap_cum_ratio"));
}

// --- AddReduction ---

const LabelPairs& TargetLabelsForTest() {
  static const auto* labels =
      new LabelPairs{{"target", "svc"}, {"env", "prod"}, {"host", "h1"}};
  return *labels;
}

profile::FunctionShare Share(const std::string& function, double ratio) {
  profile::FunctionShare s;
  s.function = function;
  s.flat = 1;
  s.cum = 1;
  s.flat_ratio = ratio;
  s.cum_ratio = ratio;
  return s;
}

// Every series starts with the target labels; at most `extra` follows.
void ExpectLabels(const std::vector<MetricFamily>& families) {
  const LabelPairs& target = TargetLabelsForTest();
  for (const auto& f : families) {
    // Counters and only counters end in _total.
    EXPECT_EQ(f.type == MetricType::Counter, absl::EndsWith(f.name, "_total"))
        << f.name;
    EXPECT_THAT(f.help, HasSubstr("(from the last successful profile scrape)"))
        << f.name;
    const bool by_function = absl::EndsWith(f.name, "_flat_ratio") ||
                             absl::EndsWith(f.name, "_cum_ratio") ||
                             absl::EndsWith(f.name, "_by_function");
    const bool by_service = f.name == "pprof_service_goroutines";
    const bool by_state = f.name == "pprof_goroutines_by_state";
    for (const auto& m : f.metric) {
      const LabelPairs labels = Labels(m);
      ASSERT_GE(labels.size(), target.size()) << f.name;
      EXPECT_EQ(LabelPairs(labels.begin(), labels.begin() + target.size()),
                target)
          << f.name;
      if (by_function) {
        ASSERT_EQ(labels.size(), target.size() + 1) << f.name;
        EXPECT_EQ(labels.back().first, "function") << f.name;
      } else if (by_service) {
        ASSERT_EQ(labels.size(), target.size() + 1) << f.name;
        EXPECT_EQ(labels.back().first, "service") << f.name;
      } else if (by_state) {
        ASSERT_EQ(labels.size(), target.size() + 1) << f.name;
        EXPECT_EQ(labels.back().first, "state") << f.name;
      } else {
        EXPECT_EQ(labels.size(), target.size()) << f.name;
      }
    }
  }
}

std::vector<MetricFamily> Reduced(profile::Kind kind,
                                  const profile::Reduction& reduction) {
  FamilyBuilder b;
  AddReduction(kind, reduction, TargetLabelsForTest(), &b);
  return std::move(b).Build();
}

TEST(AddReductionTest, Cpu) {
  profile::CpuReduction r;
  r.sampled_seconds = 4.5;
  r.duration_seconds = 5;
  r.gc_ratio = 0.25;
  r.gc_idle_ratio = 0.125;
  r.top_flat = {Share("main.hashLoop", 0.4), Share("main.sortLoop", 0.2)};
  r.top_cum = {Share("runtime.main", 0.9)};
  const auto families = Reduced(profile::Kind::kCpu, r);
  EXPECT_THAT(Names(families),
              ElementsAre("pprof_cpu_sampled_seconds",
                          "pprof_cpu_duration_seconds", "pprof_cpu_gc_ratio",
                          "pprof_cpu_gc_idle_ratio", "pprof_cpu_flat_ratio",
                          "pprof_cpu_cum_ratio"));
  EXPECT_EQ(Find(families, "pprof_cpu_gc_idle_ratio")->metric[0].gauge.value,
            0.125);
  ExpectLabels(families);
  EXPECT_EQ(Find(families, "pprof_cpu_sampled_seconds")->metric[0].gauge.value,
            4.5);
  EXPECT_EQ(Find(families, "pprof_cpu_gc_ratio")->metric[0].gauge.value, 0.25);
  const MetricFamily* flat = Find(families, "pprof_cpu_flat_ratio");
  ASSERT_EQ(flat->metric.size(), 2u);
  EXPECT_EQ(Labels(flat->metric[0]).back().second, "main.hashLoop");
  EXPECT_EQ(flat->metric[0].gauge.value, 0.4);
  EXPECT_EQ(Labels(flat->metric[1]).back().second, "main.sortLoop");

  // Without the cpu sample type: no sampled seconds, the rest stays.
  r.sampled_seconds.reset();
  EXPECT_EQ(Find(Reduced(profile::Kind::kCpu, r), "pprof_cpu_sampled_seconds"),
            nullptr);
}

TEST(AddReductionTest, HeapAndAllocs) {
  profile::HeapReduction r;
  r.inuse_bytes = 1;
  r.inuse_objects = 2;
  r.alloc_bytes = 3;
  r.alloc_objects = 4;
  r.top_flat = {Share("main.a", 0.5)};
  r.top_cum = {Share("main.b", 0.7)};
  auto families = Reduced(profile::Kind::kHeap, r);
  EXPECT_THAT(Names(families),
              ElementsAre("pprof_heap_inuse_bytes", "pprof_heap_inuse_objects",
                          "pprof_heap_alloc_bytes_total",
                          "pprof_heap_alloc_objects_total",
                          "pprof_heap_flat_ratio", "pprof_heap_cum_ratio"));
  ExpectLabels(families);
  EXPECT_EQ(Find(families, "pprof_heap_alloc_objects_total")
                ->metric[0].counter.value,
            4);

  families = Reduced(profile::Kind::kAllocs, r);
  EXPECT_THAT(Names(families),
              ElementsAre("pprof_heap_inuse_bytes", "pprof_heap_inuse_objects",
                          "pprof_heap_alloc_bytes_total",
                          "pprof_heap_alloc_objects_total",
                          "pprof_allocs_flat_ratio", "pprof_allocs_cum_ratio"));
  ExpectLabels(families);

  // Missing sample types leave their series out.
  profile::HeapReduction empty;
  EXPECT_THAT(Names(Reduced(profile::Kind::kHeap, empty)), ElementsAre());
}

TEST(AddReductionTest, Goroutine) {
  profile::GoroutineReduction r;
  r.goroutines = 48;
  r.services = 8;
  r.goroutines_per_service = 6;
  r.label_values = {{"svc-0", 4}, {"svc-1", 4}};
  r.by_function = {{"main.(*service).supervise", 8}, {"runtime.gopark", 3}};
  const auto families = Reduced(profile::Kind::kGoroutine, r);
  EXPECT_THAT(Names(families),
              ElementsAre("pprof_goroutines", "pprof_services",
                          "pprof_goroutines_per_service",
                          "pprof_service_goroutines",
                          "pprof_goroutines_by_function"));
  ExpectLabels(families);
  EXPECT_EQ(Find(families, "pprof_goroutines")->metric[0].gauge.value, 48);
  const MetricFamily* by_service = Find(families, "pprof_service_goroutines");
  ASSERT_EQ(by_service->metric.size(), 2u);
  EXPECT_EQ(Labels(by_service->metric[1]).back(),
            (std::pair<std::string, std::string>("service", "svc-1")));
  const MetricFamily* by_function =
      Find(families, "pprof_goroutines_by_function");
  ASSERT_EQ(by_function->metric.size(), 2u);
  EXPECT_EQ(Labels(by_function->metric[0]).back(),
            (std::pair<std::string, std::string>(
                "function", "main.(*service).supervise")));
  EXPECT_EQ(by_function->metric[0].gauge.value, 8);

  // Without services: no per-service ratio.
  r.goroutines_per_service.reset();
  r.label_values.clear();
  EXPECT_THAT(Names(Reduced(profile::Kind::kGoroutine, r)),
              ElementsAre("pprof_goroutines", "pprof_services",
                          "pprof_goroutines_by_function"));
}

TEST(AddReductionTest, GoroutineWaitsFromADebug2Dump) {
  profile::GoroutineReduction r;
  r.goroutines = 6;
  r.services = 1;
  r.by_function = {{"main.(*service).inboxLoop", 2}};
  profile::GoroutineWaits& w = r.waits.emplace();
  w.by_state = {{"chan receive", 2}, {"IO wait", 1}};
  w.stuck = 3;
  w.stuck_by_function = {{"main.(*service).inboxLoop", 2},
                         {"main.mutexContender", 1}};
  w.longest_wait_seconds = 1200;
  const auto families = Reduced(profile::Kind::kGoroutine, r);
  EXPECT_THAT(Names(families),
              ElementsAre("pprof_goroutines", "pprof_services",
                          "pprof_goroutines_by_function",
                          "pprof_goroutines_by_state", "pprof_goroutines_stuck",
                          "pprof_goroutines_stuck_by_function",
                          "pprof_goroutines_longest_wait_seconds"));
  ExpectLabels(families);
  const MetricFamily* by_state = Find(families, "pprof_goroutines_by_state");
  ASSERT_NE(by_state, nullptr);
  ASSERT_EQ(by_state->metric.size(), 2u);
  EXPECT_EQ(Labels(by_state->metric[1]).back(),
            (std::pair<std::string, std::string>("state", "IO wait")));
  EXPECT_EQ(by_state->metric[1].gauge.value, 1);
  EXPECT_EQ(Find(families, "pprof_goroutines_stuck")->metric[0].gauge.value,
            3);
  const MetricFamily* stuck = Find(families, "pprof_goroutines_stuck_by_function");
  ASSERT_NE(stuck, nullptr);
  ASSERT_EQ(stuck->metric.size(), 2u);
  EXPECT_EQ(Labels(stuck->metric[1]).back().second, "main.mutexContender");
  EXPECT_EQ(Find(families, "pprof_goroutines_longest_wait_seconds")
                ->metric[0].gauge.value,
            1200);
}

// A target that scrapes the goroutine profile too takes its counts from
// there: the dump adds only what is its own, so no series has two sources.
TEST(AddReductionTest, GoroutineDumpBesideTheGoroutineProfileAddsOnlyWaits) {
  profile::GoroutineReduction r;
  r.goroutines = 6;
  r.by_function = {{"main.a", 6}};
  profile::GoroutineWaits& w = r.waits.emplace();
  w.by_state = {{"select", 6}};
  w.stuck = 1;
  FamilyBuilder out;
  AddReduction(profile::Kind::kGoroutineDump, r, {{"target", "t"}}, &out,
               /*totals_elsewhere=*/true);
  EXPECT_THAT(Names(std::move(out).Build()),
              ElementsAre("pprof_goroutines_by_state", "pprof_goroutines_stuck",
                          "pprof_goroutines_longest_wait_seconds"));
}

TEST(AddReductionTest, GoroutineLeaks) {
  profile::GoroutineLeakReduction r;
  r.leaks = 9;
  r.by_function = {{"app.(*Server).Aggregate.func1", 6},
                   {"main.leakForever", 3}};
  const auto families = Reduced(profile::Kind::kGoroutine, r);
  EXPECT_THAT(Names(families), ElementsAre("pprof_goroutine_leaks",
                                           "pprof_goroutine_leaks_by_function"));
  ExpectLabels(families);
  EXPECT_EQ(Find(families, "pprof_goroutine_leaks")->metric[0].gauge.value, 9);
  const MetricFamily* by_function =
      Find(families, "pprof_goroutine_leaks_by_function");
  ASSERT_NE(by_function, nullptr);
  ASSERT_EQ(by_function->metric.size(), 2u);
  EXPECT_EQ(Labels(by_function->metric[0]).back().second,
            "app.(*Server).Aggregate.func1");
  EXPECT_EQ(by_function->metric[0].gauge.value, 6);
  // No leaks: the count is 0 and there are no per-function series.
  EXPECT_THAT(Names(Reduced(profile::Kind::kGoroutine,
                            profile::GoroutineLeakReduction{})),
              ElementsAre("pprof_goroutine_leaks"));
}

TEST(AddReductionTest, MutexAndBlock) {
  profile::ContentionReduction r;
  r.delay_seconds = 1.25;
  r.contentions = 7;
  r.top_flat = {Share("sync.(*Mutex).Unlock", 1)};
  r.top_cum = {Share("main.mutexContender", 1)};
  for (const auto& [kind, name] :
       {std::pair{profile::Kind::kMutex, "mutex"},
        std::pair{profile::Kind::kBlock, "block"}}) {
    const std::string p = absl::StrCat("pprof_", name);
    const auto families = Reduced(kind, r);
    EXPECT_THAT(Names(families),
                ElementsAre(p + "_delay_seconds_total", p + "_contentions_total",
                            p + "_flat_ratio", p + "_cum_ratio"));
    ExpectLabels(families);
    EXPECT_EQ(Find(families, p + "_delay_seconds_total")
                  ->metric[0].counter.value,
              1.25);
    EXPECT_EQ(Find(families, p + "_contentions_total")->metric[0].counter.value,
              7);
  }
}

// The real pipeline over every fixture yields exactly the README's names.
struct FixtureCase {
  const char* file;
  profile::Kind kind;
  std::vector<std::string> names;
};

TEST(AddReductionTest, FixturesProduceExactlyTheDocumentedNames) {
  const std::vector<FixtureCase> cases = {
      {"cpu.pb.gz",
       profile::Kind::kCpu,
       {"pprof_cpu_sampled_seconds", "pprof_cpu_duration_seconds",
        "pprof_cpu_gc_ratio", "pprof_cpu_gc_idle_ratio", "pprof_cpu_flat_ratio",
        "pprof_cpu_cum_ratio"}},
      {"heap.pb.gz",
       profile::Kind::kHeap,
       {"pprof_heap_inuse_bytes", "pprof_heap_inuse_objects",
        "pprof_heap_alloc_bytes_total", "pprof_heap_alloc_objects_total",
        "pprof_heap_flat_ratio", "pprof_heap_cum_ratio"}},
      {"allocs.pb.gz",
       profile::Kind::kAllocs,
       {"pprof_heap_inuse_bytes", "pprof_heap_inuse_objects",
        "pprof_heap_alloc_bytes_total", "pprof_heap_alloc_objects_total",
        "pprof_allocs_flat_ratio", "pprof_allocs_cum_ratio"}},
      {"goroutine.pb.gz",
       profile::Kind::kGoroutine,
       {"pprof_goroutines", "pprof_services", "pprof_goroutines_per_service",
        "pprof_goroutines_by_function"}},
      {"mutex.pb.gz",
       profile::Kind::kMutex,
       {"pprof_mutex_delay_seconds_total", "pprof_mutex_contentions_total",
        "pprof_mutex_flat_ratio", "pprof_mutex_cum_ratio"}},
      {"block.pb.gz",
       profile::Kind::kBlock,
       {"pprof_block_delay_seconds_total", "pprof_block_contentions_total",
        "pprof_block_flat_ratio", "pprof_block_cum_ratio"}},
  };
  FamilyBuilder all;
  std::set<std::string> all_names;
  for (const FixtureCase& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string bytes = ReadFixture(c.file);
    ASSERT_FALSE(bytes.empty()) << FixtureDir();
    auto decoded = profile::Decode(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    auto reduction = profile::Reduce(c.kind, *decoded, {});
    ASSERT_TRUE(reduction.ok()) << reduction.status();
    FamilyBuilder b;
    AddReduction(c.kind, *reduction, TargetLabelsForTest(), &b);
    const auto families = std::move(b).Build();
    EXPECT_THAT(Names(families), UnorderedElementsAreArray(c.names));
    ExpectLabels(families);
    AddReduction(c.kind, *reduction, TargetLabelsForTest(), &all);
    all_names.insert(c.names.begin(), c.names.end());
  }
  const auto families = std::move(all).Build();
  std::vector<std::string> expected(all_names.begin(), all_names.end());
  EXPECT_THAT(Names(families), UnorderedElementsAreArray(expected));
  // Every sample line is unique and every family has one HELP and TYPE.
  const std::string text = SerializeText(families);
  std::set<std::string> samples;
  std::map<std::string, int> help_lines, type_lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "# HELP ")) {
      ++help_lines[std::string(line.substr(7, line.find(' ', 7) - 7))];
    } else if (absl::StartsWith(line, "# TYPE ")) {
      ++type_lines[std::string(line.substr(7, line.find(' ', 7) - 7))];
    } else {
      const std::string series(line.substr(0, line.rfind(' ')));
      EXPECT_TRUE(samples.insert(series).second) << "duplicate " << series;
    }
  }
  for (const auto& name : expected) {
    EXPECT_EQ(help_lines[name], 1) << name;
    EXPECT_EQ(type_lines[name], 1) << name;
  }
}

TEST(AddReductionTest, GoroutineFixtureWithServiceLabel) {
  auto decoded = profile::Decode(ReadFixture("goroutine.pb.gz"));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  profile::ReduceOptions options;
  options.services.method = profile::ServiceCounting::Method::kLabel;
  options.services.label = "service";
  auto reduction = profile::Reduce(profile::Kind::kGoroutine, *decoded, options);
  ASSERT_TRUE(reduction.ok()) << reduction.status();
  const auto families = Reduced(profile::Kind::kGoroutine, *reduction);
  EXPECT_THAT(Names(families),
              ElementsAre("pprof_goroutines", "pprof_services",
                          "pprof_goroutines_per_service",
                          "pprof_service_goroutines",
                          "pprof_goroutines_by_function"));
  ExpectLabels(families);
  EXPECT_EQ(Find(families, "pprof_goroutines")->metric[0].gauge.value, 48);
  EXPECT_EQ(Find(families, "pprof_services")->metric[0].gauge.value, 8);
  EXPECT_EQ(Find(families, "pprof_service_goroutines")->metric.size(), 8u);
}

// --- health ---

TEST(FailureReasonTest, LabelValues) {
  EXPECT_EQ(ReasonLabel(FailureReason::kConnect), "connect");
  EXPECT_EQ(ReasonLabel(FailureReason::kTimeout), "timeout");
  EXPECT_EQ(ReasonLabel(FailureReason::kHttpStatus), "http_status");
  EXPECT_EQ(ReasonLabel(FailureReason::kProfilerBusy), "profiler_busy");
  EXPECT_EQ(ReasonLabel(FailureReason::kTooLarge), "too_large");
  EXPECT_EQ(ReasonLabel(FailureReason::kDecode), "decode");
  EXPECT_EQ(ReasonLabel(FailureReason::kSeriesLimit), "series_limit");
  EXPECT_EQ(ReasonLabel(FailureReason::kCancelled), "cancelled");
  EXPECT_EQ(kNumCountedReasons, 7);
  EXPECT_EQ((ScrapeFailure{FailureReason::kTooLarge, "2 MiB"}.ToString()),
            "too_large: 2 MiB");
}

TEST(AddScrapeHealthTest, BeforeAnySuccess) {
  ScrapeHealth health;
  health.up = false;
  health.duration_seconds = 0.5;
  health.errors_total[static_cast<int>(FailureReason::kConnect)] = 3;
  health.errors_total[static_cast<int>(FailureReason::kDecode)] = 1;
  const LabelPairs labels = {{"target", "t"}, {"env", "e"}, {"profile", "heap"}};
  FamilyBuilder b;
  AddScrapeHealth(health, labels, &b);
  const auto families = std::move(b).Build();
  ASSERT_THAT(Names(families),
              ElementsAre("pprof_up", "pprof_scrape_duration_seconds",
                          "pprof_scrape_errors_total"));
  EXPECT_EQ(families[0].type, MetricType::Gauge);
  EXPECT_EQ(families[1].type, MetricType::Gauge);
  EXPECT_EQ(families[2].type, MetricType::Counter);
  EXPECT_EQ(families[0].metric[0].gauge.value, 0);
  EXPECT_THAT(Labels(families[0].metric[0]), ElementsAreArray(labels));
  EXPECT_EQ(families[1].metric[0].gauge.value, 0.5);

  const MetricFamily& errors = families[2];
  ASSERT_EQ(errors.metric.size(), 7u);
  const std::vector<std::string> reasons = {
      "connect",   "timeout", "http_status", "profiler_busy",
      "too_large", "decode",  "series_limit"};
  const std::vector<double> values = {3, 0, 0, 0, 0, 1, 0};
  for (size_t i = 0; i < 7; ++i) {
    LabelPairs want = labels;
    want.emplace_back("reason", reasons[i]);
    EXPECT_THAT(Labels(errors.metric[i]), ElementsAreArray(want));
    EXPECT_EQ(errors.metric[i].counter.value, values[i]) << reasons[i];
  }
}

TEST(AddScrapeHealthTest, AfterASuccess) {
  ScrapeHealth health;
  health.up = true;
  health.duration_seconds = 0.25;
  health.profile_bytes = 2687;
  health.last_success = absl::FromUnixMillis(1700000000500);
  const LabelPairs labels = {{"target", "t"}, {"profile", "goroutine"}};
  FamilyBuilder b;
  AddScrapeHealth(health, labels, &b);
  const auto families = std::move(b).Build();
  ASSERT_THAT(Names(families),
              ElementsAre("pprof_up", "pprof_scrape_duration_seconds",
                          "pprof_scrape_errors_total", "pprof_profile_bytes",
                          "pprof_last_success_timestamp_seconds"));
  EXPECT_EQ(families[0].metric[0].gauge.value, 1);
  EXPECT_EQ(families[2].metric.size(), 7u);
  EXPECT_EQ(families[3].type, MetricType::Gauge);
  EXPECT_EQ(families[3].metric[0].gauge.value, 2687);
  EXPECT_THAT(Labels(families[3].metric[0]), ElementsAreArray(labels));
  EXPECT_EQ(families[4].type, MetricType::Gauge);
  EXPECT_DOUBLE_EQ(families[4].metric[0].gauge.value, 1700000000.5);

  // Down again after a success: the last success stays visible.
  health.up = false;
  FamilyBuilder b2;
  AddScrapeHealth(health, labels, &b2);
  const auto down = std::move(b2).Build();
  EXPECT_EQ(down[0].metric[0].gauge.value, 0);
  EXPECT_NE(Find(down, "pprof_profile_bytes"), nullptr);
  EXPECT_NE(Find(down, "pprof_last_success_timestamp_seconds"), nullptr);
}

TEST(AddBuildInfoTest, Text) {
  FamilyBuilder b;
  AddBuildInfo(&b);
  const std::string text = SerializeText(std::move(b).Build());
  EXPECT_THAT(text, HasSubstr("# TYPE pprof_exporter_build_info gauge\n"));
  EXPECT_THAT(text,
              HasSubstr("\npprof_exporter_build_info{version=\"0.1.0\"} 1\n"));
}

// --- text format ---

TEST(SerializeTextTest, EscapesLabelValuesPerExpositionFormat) {
  FamilyBuilder b;
  b.Gauge("pprof_cpu_flat_ratio", "h",
          {{"target", "a\"b\\c\nd"}, {"function", "main.(*T).f"}}, 0.5);
  EXPECT_EQ(SerializeText(std::move(b).Build()),
            "# HELP pprof_cpu_flat_ratio h\n"
            "# TYPE pprof_cpu_flat_ratio gauge\n"
            "pprof_cpu_flat_ratio{target=\"a\\\"b\\\\c\\nd\","
            "function=\"main.(*T).f\"} 0.5\n");
}

TEST(SerializeTextTest, KeepsUtf8AsIs) {
  FamilyBuilder b;
  b.Gauge("g", "h", {{"target", "Zürich ✓ 日本"}}, 1);
  EXPECT_EQ(SerializeText(std::move(b).Build()),
            "# HELP g h\n# TYPE g gauge\ng{target=\"Zürich ✓ 日本\"} 1\n");
}

TEST(SerializeTextTest, InvalidUtf8BytesInLabelValuesBecomeQuestionMarks) {
  FamilyBuilder b;
  // A lone continuation byte, a truncated 3-byte sequence, an overlong '/'.
  b.Gauge("g", "h",
          {{"function", std::string("a" "\x80" "b" "\xe2\x82" "c"
                                    "\xc0\xaf" "d")}},
          1);
  EXPECT_EQ(SerializeText(std::move(b).Build()),
            "# HELP g h\n# TYPE g gauge\ng{function=\"a?b??c??d\"} 1\n");
}

TEST(SerializeTextTest, NoLineBreaksFromLabelValues) {
  FamilyBuilder b;
  b.Gauge("g", "h", {{"function", "x\n# TYPE evil gauge\nevil 1"}}, 1);
  const std::string text = SerializeText(std::move(b).Build());
  EXPECT_THAT(text, Not(HasSubstr("\n# TYPE evil")));
  EXPECT_THAT(text, Not(HasSubstr("\nevil 1")));
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  EXPECT_EQ(lines, 3u) << text;
}

TEST(SerializeTextTest, EmptyIsEmpty) { EXPECT_EQ(SerializeText({}), ""); }

}  // namespace
}  // namespace exporter
