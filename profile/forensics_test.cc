// Goroutine text dumps (goroutine_dump.h), the goroutineleak reducer and the
// idle-GC share of the CPU reducer: issue 13's additions to profile/.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/goroutine_dump.h"
#include "profile/options.h"
#include "profile/reduce.h"
#include "profile/testing/profile_builder.h"
#include "re2/re2.h"

namespace profile {
namespace {

using ::profile::testing::ProfileBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using Counts = std::vector<std::pair<std::string, int64_t>>;

std::string ReadTestdata(const std::string& name) {
  std::string dir = "tests/testdata";
  if (const char* src = std::getenv("TEST_SRCDIR")) {
    dir = absl::StrCat(src, "/pprof_exporter/tests/testdata");
  }
  std::ifstream in(dir + "/" + name, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

GoroutineReduction MustReduceDump(absl::string_view text,
                                  const ReduceOptions& options = {},
                                  absl::Duration stuck_after =
                                      absl::Minutes(10)) {
  auto r = ReduceGoroutineDump(text, options, stuck_after);
  if (!r.ok()) {
    ADD_FAILURE() << r.status();
    return {};
  }
  return std::get<GoroutineReduction>(*r);
}

// ---------------------------------------------------------------------------
// debug=2

// Every header form: running, a wait with minutes, the (scan) flag and
// "locked to thread", Go 1.27's labels after the bracket (a quoted value
// holding ", "), the early draft's labels inside it, elided frames, and
// created-by lines (not part of the stack).
constexpr absl::string_view kTraceback =
    "goroutine 1 [running]:\n"
    "main.main()\n"
    "\t/src/main.go:10 +0x1d\n"
    "\n"
    "goroutine 7 [chan receive, 12 minutes]:\n"
    "main.(*service).inboxLoop(0xc000010000, {0x1, 0x2})\n"
    "\t/src/main.go:100 +0x5a\n"
    "created by main.(*service).start in goroutine 1\n"
    "\t/src/main.go:70 +0x3c\n"
    "\n"
    "goroutine 8 [chan receive (scan), 15 minutes, locked to thread]:\n"
    "main.(*service).inboxLoop(...)\n"
    "\t/src/main.go:100\n"
    "main.run()\n"
    "\t/src/main.go:20 +0x10\n"
    "created by main.main in goroutine 1\n"
    "\t/src/main.go:12 +0x20\n"
    "\n"
    "goroutine 9 [select, 3 minutes] {service: svc-1, job: \"a, b\"}:\n"
    "net/http.(*persistConn).writeLoop(0xc0001)\n"
    "\t/usr/lib/go/src/net/http/transport.go:2590 +0xe6\n"
    "created by net/http.(*Transport).dialConn in goroutine 5\n"
    "\t/usr/lib/go/src/net/http/transport.go:1943 +0x1c5\n"
    "\n"
    "goroutine 10 [IO wait labels:{\"service\": \"svc-1\"}]:\n"
    "internal/poll.runtime_pollWait(0x7f, 0x72)\n"
    "\t/usr/lib/go/src/runtime/netpoll.go:343 +0x85\n"
    "...additional frames elided...\n"
    "\n"
    "goroutine 11 [sync.Mutex.Lock, 20 minutes]:\n"
    "sync.runtime_SemacquireMutex(0x1?, 0x0?, 0x0?)\n"
    "\t/usr/lib/go/src/runtime/sema.go:77 +0x25\n"
    "sync.(*Mutex).Lock(...)\n"
    "\t/usr/lib/go/src/sync/mutex.go:90\n"
    "main.mutexContender({0x6a, 0xc})\n"
    "\t/src/main.go:384 +0x41\n";

TEST(GoroutineDump, DetectsBothFormsAndNothingElse) {
  EXPECT_EQ(DetectGoroutineDump(kTraceback), GoroutineDumpFormat::kTraceback);
  EXPECT_EQ(DetectGoroutineDump("goroutine profile: total 3\n"),
            GoroutineDumpFormat::kCounted);
  EXPECT_EQ(DetectGoroutineDump("goroutine x [running]:"), std::nullopt);
  EXPECT_EQ(DetectGoroutineDump("\x1f\x8b\x08"), std::nullopt);
  EXPECT_EQ(DetectGoroutineDump("<html>"), std::nullopt);
}

TEST(GoroutineDump, ParsesTracebackHeadersFramesAndLabels) {
  auto dump = ParseGoroutineDump(kTraceback);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->stacks.size(), 6u);
  const GoroutineStack& scanned = dump->stacks[2];
  EXPECT_EQ(scanned.state, "chan receive");
  EXPECT_EQ(scanned.wait_minutes, 15);
  EXPECT_THAT(scanned.functions,
              ElementsAre("main.(*service).inboxLoop", "main.run"));
  const GoroutineStack& labelled = dump->stacks[3];
  EXPECT_EQ(labelled.state, "select");
  EXPECT_EQ(labelled.wait_minutes, 3);
  EXPECT_THAT(labelled.labels,
              ElementsAre(Pair("service", "svc-1"), Pair("job", "a, b")));
  EXPECT_THAT(labelled.functions,
              ElementsAre("net/http.(*persistConn).writeLoop"));
  const GoroutineStack& draft = dump->stacks[4];
  EXPECT_EQ(draft.state, "IO wait");
  EXPECT_THAT(draft.labels, ElementsAre(Pair("service", "svc-1")));
  EXPECT_THAT(draft.functions, ElementsAre("internal/poll.runtime_pollWait"));
}

TEST(GoroutineDump, TracebackReducesToStatesStuckAndWaits) {
  ReduceOptions options;
  options.services.method = ServiceCounting::Method::kLabel;
  options.services.label = "service";
  const GoroutineReduction r = MustReduceDump(kTraceback, options);
  EXPECT_EQ(r.goroutines, 6);
  EXPECT_EQ(r.services, 1);
  EXPECT_THAT(r.label_values, ElementsAre(Pair("svc-1", 2)));
  EXPECT_THAT(r.by_function,
              ElementsAre(Pair("main.(*service).inboxLoop", 2),
                          Pair("internal/poll.runtime_pollWait", 1),
                          Pair("main.main", 1), Pair("main.mutexContender", 1),
                          Pair("net/http.(*persistConn).writeLoop", 1)));
  ASSERT_TRUE(r.waits.has_value());
  EXPECT_THAT(r.waits->by_state,
              ElementsAre(Pair("chan receive", 2), Pair("IO wait", 1),
                          Pair("running", 1), Pair("select", 1),
                          Pair("sync.Mutex.Lock", 1)));
  EXPECT_EQ(r.waits->stuck, 3);
  EXPECT_THAT(r.waits->stuck_by_function,
              ElementsAre(Pair("main.(*service).inboxLoop", 2),
                          Pair("main.mutexContender", 1)));
  EXPECT_EQ(r.waits->longest_wait_seconds, 20 * 60);
}

TEST(GoroutineDump, StuckAfterIsTheThresholdInWholeMinutes) {
  auto stuck = [](absl::Duration after) {
    return MustReduceDump(kTraceback, {}, after).waits->stuck;
  };
  EXPECT_EQ(stuck(absl::Minutes(3)), 4);
  EXPECT_EQ(stuck(absl::Minutes(12)), 3);
  EXPECT_EQ(stuck(absl::Minutes(12) + absl::Seconds(1)), 2);
  EXPECT_EQ(stuck(absl::Minutes(21)), 0);
  // Below a minute the runtime prints no wait at all: nothing is known to
  // have waited less, so the threshold acts as one minute.
  EXPECT_EQ(stuck(absl::ZeroDuration()), 4);
}

TEST(GoroutineDump, StatesAreCappedAndImplausibleOnesAreOther) {
  std::string text;
  for (int i = 0; i < 50; ++i) {
    absl::StrAppend(&text, "goroutine ", i + 1, " [state ", i,
                    "]:\nmain.f()\n\t/f.go:1\n\n");
  }
  absl::StrAppend(&text, "goroutine 99 [", std::string(100, 'x'),
                  "]:\nmain.f()\n");
  const GoroutineReduction r = MustReduceDump(text);
  ASSERT_EQ(r.waits->by_state.size(), kMaxGoroutineStates);
  EXPECT_THAT(r.waits->by_state.back(),
              Pair("other", 51 - (kMaxGoroutineStates - 1)));
  int64_t sum = 0;
  for (const auto& [state, count] : r.waits->by_state) sum += count;
  EXPECT_EQ(sum, 51);
}

TEST(GoroutineDump, ServicesByRegexCountStacksThroughAFunction) {
  ReduceOptions options;
  options.services.method = ServiceCounting::Method::kRegex;
  options.services.regex = std::make_shared<RE2>(R"(main\.run)");
  EXPECT_EQ(MustReduceDump(kTraceback, options).services, 1);
}

// ---------------------------------------------------------------------------
// debug=1

TEST(GoroutineDump, CountedFixtureHasItsTotalLabelsAndLeaves) {
  const std::string text = ReadTestdata("goroutine-debug1.txt");
  ASSERT_FALSE(text.empty());
  ReduceOptions options;
  options.services.method = ServiceCounting::Method::kLabel;
  options.services.label = "component";
  options.top = 100;
  const GoroutineReduction r = MustReduceDump(text, options);
  EXPECT_EQ(r.goroutines, 48);  // "goroutine profile: total 48"
  EXPECT_FALSE(r.waits.has_value());
  // Records whose first shown frames are sync.runtime_SemacquireMutex (2)
  // and time.Sleep (2) group under main.mutexContender.
  EXPECT_THAT(r.by_function, ::testing::Contains(Pair("main.mutexContender", 4)));
  EXPECT_THAT(r.by_function, ::testing::Contains(Pair("main.hashLoop", 1)));
  EXPECT_THAT(r.label_values,
              ElementsAre(Pair("cpu-burn", 3), Pair("gc-churn", 1)));
  // All but the last record, "1 @ 0x46be81": its only frame,
  // runtime.goexit, is hidden, so it has no function to be grouped under.
  int64_t sum = 0;
  for (const auto& [function, count] : r.by_function) sum += count;
  EXPECT_EQ(sum, 47);
}

TEST(GoroutineDump, CountedFramesReadPastAlignmentTabsAndUnnamedFrames) {
  constexpr absl::string_view kText =
      "goroutine profile: total 5\n"
      "3 @ 0x1 0x2 0x3\n"
      "# labels: {\"service\":\"a\\\"b\", \"x\":\"y\"}\n"
      "#\t0x1\tsync.(*Cond).Wait+0x84\t\t\tsync/cond.go:71\n"
      "#\t0x2\t\tmain.worker+0x10\t\t/src/main.go:9\n"
      "\n"
      "2 @ 0x9\n"
      "#\t0x9\n";
  auto dump = ParseGoroutineDump(kText);
  ASSERT_TRUE(dump.ok()) << dump.status();
  ASSERT_EQ(dump->stacks.size(), 2u);
  EXPECT_EQ(dump->stacks[0].count, 3);
  EXPECT_THAT(dump->stacks[0].functions,
              ElementsAre("sync.(*Cond).Wait", "main.worker"));
  EXPECT_THAT(dump->stacks[0].labels,
              ElementsAre(Pair("service", "a\"b"), Pair("x", "y")));
  EXPECT_THAT(dump->stacks[1].functions, ElementsAre("0x9"));
}

// ---------------------------------------------------------------------------
// Bad input: clear errors, never a crash.

TEST(GoroutineDump, RejectsWhatIsNotADumpWithClearErrors) {
  struct Case {
    std::string text;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"<html>404</html>", absl::StatusCode::kInvalidArgument,
       "not a goroutine dump"},
      {"goroutine profile: total 3\n2 @ 0x1\n#\t0x1\tmain.f+0x1\tf.go:1\n",
       absl::StatusCode::kInvalidArgument,
       "add up to 2 goroutines but its header says 3"},
      {"goroutine profile: total x\n", absl::StatusCode::kInvalidArgument,
       "line 1"},
      {"goroutine profile: total 1\n#\t0x1\tmain.f\n",
       absl::StatusCode::kInvalidArgument, "line 2: a frame line outside"},
      {"goroutine profile: total 1\nsome text\n",
       absl::StatusCode::kInvalidArgument, "line 2"},
      {"goroutine 1 [running]:\nmain.main()\n\nstray text\n",
       absl::StatusCode::kInvalidArgument, "line 4"},
      {"goroutine 1 []:\n", absl::StatusCode::kInvalidArgument, "line 1"},
      {"goroutine 1 [running]\n", absl::StatusCode::kInvalidArgument,
       "line 1"},
      {"goroutine profile: total 2000000\n",
       absl::StatusCode::kResourceExhausted, "over the limit"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = ReduceGoroutineDump(c.text, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
  }
}

TEST(GoroutineDump, EnforcesItsLimits) {
  GoroutineDumpLimits limits;
  limits.max_bytes = 100;
  auto r = ParseGoroutineDump(std::string(101, 'g'), limits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("exceeds the limit of 100"));

  limits = {};
  limits.max_line_bytes = 25;
  r = ParseGoroutineDump(
      "goroutine 1 [running]:\nmain.aVeryLongFunctionName()\n", limits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("line 2 is 28 bytes long"));

  limits = {};
  limits.max_goroutines = 2;
  r = ParseGoroutineDump(
      "goroutine 1 [running]:\n\ngoroutine 2 [select]:\n\n"
      "goroutine 3 [select]:\n",
      limits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status().message(), HasSubstr("more than the limit of 2"));
  r = ParseGoroutineDump("goroutine profile: total 2\n2 @ 0x1\n1 @ 0x2\n",
                         limits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(GoroutineDump, MalformedLabelsAreIgnoredNotFatal) {
  auto dump = ParseGoroutineDump(
      "goroutine 1 [select] {unterminated: \"x}:\nmain.f()\n");
  ASSERT_TRUE(dump.ok()) << dump.status();
  EXPECT_TRUE(dump->stacks[0].labels.empty());
  EXPECT_EQ(dump->stacks[0].state, "select");
}

// ---------------------------------------------------------------------------
// goroutineleak

TEST(GoroutineLeak, CountsLeaksByFirstApplicationFrame) {
  ProfileBuilder b;
  b.SampleType("goroutineleak", "count");
  b.PeriodType("goroutineleak", "count", 1);
  b.Stack({"runtime.gopark", "runtime.chansend", "runtime.chansend1",
           "example.com/app.(*Server).Aggregate.func1", "runtime.goexit"},
          {6});
  b.Stack({"runtime.gopark", "runtime.chanrecv", "main.leakForever"}, {3},
          {{"service", "svc-1"}});
  b.Stack({"runtime.gopark", "runtime.goexit"}, {2});
  auto decoded = Decode(b.Gzipped());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  auto r = ReduceGoroutineLeak(*decoded, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& leaks = std::get<GoroutineLeakReduction>(*r);
  EXPECT_EQ(leaks.leaks, 11);
  EXPECT_THAT(leaks.by_function,
              ElementsAre(Pair("example.com/app.(*Server).Aggregate.func1", 6),
                          Pair("main.leakForever", 3),
                          Pair("runtime.gopark", 2)));
}

TEST(GoroutineLeak, RejectsOtherProfiles) {
  ProfileBuilder b;
  b.SampleType("goroutine", "count");
  b.Stack({"main.f"}, {1});
  auto decoded = Decode(b.Gzipped());
  ASSERT_TRUE(decoded.ok());
  auto r = ReduceGoroutineLeak(*decoded, {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("not a goroutineleak profile"));
}

// ---------------------------------------------------------------------------
// The idle-GC share.

// A CPU profile shaped like Go >= 1.20's (as the real capture in
// tsnsrv-storage/cpu.pb.gz): each mark worker mode's gcDrainMarkWorker*
// inlined into gcBgMarkWorker.func2, and an assist stack. 200 samples of
// 10ms: 40 idle (two stacks), 25 dedicated, 5 fractional, 10 assist, 120
// application. `go tool pprof -top -cum` on it (PPROF_WRITE_PROFILES_TO)
// shows runtime.gcDrainMarkWorkerIdle (inline) at 0.40s cum, 20.00%.
ProfileBuilder GoCpuProfileWithMarkWorkers() {
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  b.PeriodType("cpu", "nanoseconds", 10'000'000);
  b.DurationNanos(2'000'000'000);
  auto worker = [&](const std::string& mode) {
    return b.Location({"runtime.gcDrainMarkWorker" + mode,
                       "runtime.gcBgMarkWorker.func2"});
  };
  const uint64_t idle = worker("Idle"), dedicated = worker("Dedicated"),
                 fractional = worker("Fractional");
  auto mark = [&](uint64_t mode, std::vector<uint64_t> leaf, int64_t n) {
    leaf.insert(leaf.end(), {b.Frame("runtime.gcDrain"), mode,
                             b.Frame("runtime.systemstack"),
                             b.Frame("runtime.gcBgMarkWorker")});
    b.Sample(leaf, {n, n * 10'000'000});
  };
  mark(idle, {b.Frame("runtime.scanobject")}, 30);
  mark(idle, {b.Frame("runtime.greyobject"), b.Frame("runtime.scanobject")},
       10);
  mark(dedicated, {b.Frame("runtime.scanobject")}, 25);
  mark(fractional, {b.Frame("runtime.markroot")}, 5);
  b.Stack({"runtime.scanobject", "runtime.gcDrainN", "runtime.gcAssistAlloc1",
           "runtime.gcAssistAlloc.func2", "runtime.systemstack",
           "runtime.gcAssistAlloc", "runtime.mallocgc", "main.alloc",
           "main.main"},
          {10, 100'000'000});
  b.Stack({"main.work", "main.main"}, {120, 1'200'000'000});
  return b;
}

TEST(ReduceCpu, IdleGcShareIsTheCumOfTheIdleWorkerAsPprofShowsIt) {
  const ProfileBuilder b = GoCpuProfileWithMarkWorkers();
  if (const char* dir = std::getenv("PPROF_WRITE_PROFILES_TO")) {
    std::ofstream(absl::StrCat(dir, "/gc-idle-cpu.pb.gz"), std::ios::binary)
        << b.Gzipped();
  }
  auto decoded = Decode(b.Gzipped());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  auto r = Reduce(Kind::kCpu, *decoded, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& cpu = std::get<CpuReduction>(*r);
  EXPECT_DOUBLE_EQ(cpu.gc_idle_ratio, 0.20);  // pprof: 20.00% cum
  EXPECT_EQ(cpu.gc_idle_value, 400'000'000);
  // The GC share still counts every mode and the assist (pprof -focus on
  // the GC regex: 0.80s of 2s).
  EXPECT_DOUBLE_EQ(cpu.gc_ratio, 0.40);

  ReduceOptions dedicated;
  dedicated.gc_idle_regex =
      std::make_shared<RE2>(R"(^runtime\.gcDrainMarkWorkerDedicated$)");
  EXPECT_DOUBLE_EQ(
      std::get<CpuReduction>(*Reduce(Kind::kCpu, *decoded, dedicated))
          .gc_idle_ratio,
      0.125);
}

TEST(ReduceCpu, IdleGcShareIsZeroBeforeGo120) {
  // Go 1.19 and older: mark workers run gcDrain directly.
  ProfileBuilder b;
  b.SampleType("samples", "count").SampleType("cpu", "nanoseconds");
  b.Stack({"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"},
          {1, 10});
  b.Stack({"main.work"}, {3, 30});
  auto decoded = Decode(b.Gzipped());
  ASSERT_TRUE(decoded.ok());
  const auto cpu = std::get<CpuReduction>(*Reduce(Kind::kCpu, *decoded, {}));
  EXPECT_DOUBLE_EQ(cpu.gc_ratio, 0.25);
  EXPECT_EQ(cpu.gc_idle_ratio, 0);
}

}  // namespace
}  // namespace profile
