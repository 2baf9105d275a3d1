#include "exporter/config.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/kind.h"
#include "profile/options.h"

namespace exporter {
namespace {

using ::profile::Kind;
using ::profile::ServiceCounting;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using Method = ServiceCounting::Method;

std::vector<Kind> KindsOf(const TargetConfig& target) {
  std::vector<Kind> kinds;
  for (const ProfileSchedule& schedule : target.profiles) {
    kinds.push_back(schedule.kind);
  }
  return kinds;
}

const ProfileSchedule& ScheduleOf(const TargetConfig& target, Kind kind) {
  for (const ProfileSchedule& schedule : target.profiles) {
    if (schedule.kind == kind) return schedule;
  }
  ADD_FAILURE() << "no schedule for " << profile::KindName(kind);
  static const ProfileSchedule kNone;
  return kNone;
}

// The example of the issue, extended with every key; line numbers matter.
constexpr char kFullConfig[] = R"(global:
  scrape_interval: 2m
  scrape_timeout: 15s
  top: 20
  gc_regex: '^runtime\.gc'
targets:
  - name: tsnsrv
    url: http://127.0.0.1:9099/debug/pprof/
    labels: {host: storage, Zone_2: eu}
    services: 57
    profiles:
      goroutine: {interval: 15s}
      cpu: {interval: 60s, seconds: 20}
      heap: {}
      allocs:
      mutex: {timeout: 5s}
      block: {interval: 1h, timeout: 1m}
  - name: web
    url: https://web.internal:6060
    top: 5
    gc_regex: 'gcBgMarkWorker'
    service_label: service
  - name: batch
    url: http://batch:6060/custom/pprof
    service_count_regex: '^tailscale\.com/tsnet\.\(\*Server\)\.Up$'
    profiles:
      heap:
)";

TEST(ParseConfigTest, FullValidConfig) {
  absl::StatusOr<Config> config = ParseConfig(kFullConfig, "config.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.scrape_interval, absl::Minutes(2));
  EXPECT_EQ(config->global.scrape_timeout, absl::Seconds(15));
  EXPECT_EQ(config->global.reduce.top, 20);
  EXPECT_EQ(config->global.reduce.gc_regex->pattern(), R"(^runtime\.gc)");
  ASSERT_EQ(config->targets.size(), 3u);

  const TargetConfig& tsnsrv = config->targets[0];
  EXPECT_EQ(tsnsrv.name, "tsnsrv");
  EXPECT_EQ(tsnsrv.url, "http://127.0.0.1:9099/debug/pprof/");
  EXPECT_THAT(tsnsrv.labels,
              ElementsAre(Pair("Zone_2", "eu"), Pair("host", "storage")));
  EXPECT_EQ(tsnsrv.reduce.top, 20);
  ASSERT_NE(tsnsrv.reduce.gc_regex, nullptr);
  EXPECT_EQ(tsnsrv.reduce.gc_regex->pattern(), R"(^runtime\.gc)");
  EXPECT_EQ(tsnsrv.reduce.services.method, Method::kStatic);
  EXPECT_EQ(tsnsrv.reduce.services.static_count, 57);
  // kAllKinds order, not file order.
  EXPECT_THAT(KindsOf(tsnsrv),
              ElementsAre(Kind::kCpu, Kind::kHeap, Kind::kAllocs,
                          Kind::kGoroutine, Kind::kMutex, Kind::kBlock));
  const ProfileSchedule& cpu = ScheduleOf(tsnsrv, Kind::kCpu);
  EXPECT_EQ(cpu.interval, absl::Seconds(60));
  EXPECT_EQ(cpu.cpu_seconds, 20);
  EXPECT_EQ(cpu.timeout, absl::Seconds(20 * 3 / 2 + 15));
  const ProfileSchedule& goroutine = ScheduleOf(tsnsrv, Kind::kGoroutine);
  EXPECT_EQ(goroutine.interval, absl::Seconds(15));
  EXPECT_EQ(goroutine.timeout, absl::Seconds(15));
  EXPECT_EQ(goroutine.cpu_seconds, 0);
  EXPECT_EQ(ScheduleOf(tsnsrv, Kind::kHeap).interval, absl::Minutes(2));
  EXPECT_EQ(ScheduleOf(tsnsrv, Kind::kAllocs).timeout, absl::Seconds(15));
  EXPECT_EQ(ScheduleOf(tsnsrv, Kind::kMutex).timeout, absl::Seconds(5));
  EXPECT_EQ(ScheduleOf(tsnsrv, Kind::kBlock).interval, absl::Hours(1));
  EXPECT_EQ(ScheduleOf(tsnsrv, Kind::kBlock).timeout, absl::Minutes(1));

  const TargetConfig& web = config->targets[1];
  EXPECT_EQ(web.url, "https://web.internal:6060/debug/pprof/");
  EXPECT_EQ(web.reduce.top, 5);
  EXPECT_EQ(web.reduce.gc_regex->pattern(), "gcBgMarkWorker");
  EXPECT_EQ(web.reduce.services.method, Method::kLabel);
  EXPECT_EQ(web.reduce.services.label, "service");
  EXPECT_EQ(web.profiles.size(), 6u);

  const TargetConfig& batch = config->targets[2];
  EXPECT_EQ(batch.url, "http://batch:6060/custom/pprof/");
  EXPECT_EQ(batch.reduce.services.method, Method::kRegex);
  ASSERT_NE(batch.reduce.services.regex, nullptr);
  EXPECT_TRUE(RE2::FullMatch("tailscale.com/tsnet.(*Server).Up",
                             *batch.reduce.services.regex));
  EXPECT_THAT(KindsOf(batch), ElementsAre(Kind::kHeap));
  // The global gc_regex is compiled once and shared.
  EXPECT_EQ(batch.reduce.gc_regex, tsnsrv.reduce.gc_regex);
}

TEST(ParseConfigTest, Defaults) {
  absl::StatusOr<Config> config = ParseConfig(
      "targets:\n  - {name: a, url: 'http://a:1'}\n  - {name: b, url: "
      "'http://b:1'}\n",
      "config.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.scrape_interval, absl::Seconds(60));
  EXPECT_EQ(config->global.scrape_timeout, absl::Seconds(10));
  EXPECT_EQ(config->global.reduce.top, 10);
  EXPECT_EQ(config->global.reduce.gc_regex, DefaultGcRegex());
  ASSERT_EQ(config->targets.size(), 2u);
  const TargetConfig& a = config->targets[0];
  EXPECT_TRUE(a.labels.empty());
  EXPECT_EQ(a.reduce.top, 10);
  ASSERT_NE(a.reduce.gc_regex, nullptr);
  EXPECT_EQ(a.reduce.gc_regex->pattern(), profile::kDefaultGcRegex);
  EXPECT_EQ(a.reduce.gc_regex, config->targets[1].reduce.gc_regex);
  EXPECT_EQ(a.reduce.services.method, Method::kStatic);
  EXPECT_EQ(a.reduce.services.static_count, 1);
  ASSERT_EQ(a.profiles.size(), 6u);
  for (const ProfileSchedule& schedule : a.profiles) {
    EXPECT_EQ(schedule.interval, absl::Seconds(60));
    if (schedule.kind == Kind::kCpu) {
      EXPECT_EQ(schedule.cpu_seconds, kDefaultCpuSeconds);
      EXPECT_EQ(schedule.timeout, absl::Seconds(25));
    } else {
      EXPECT_EQ(schedule.cpu_seconds, 0);
      EXPECT_EQ(schedule.timeout, absl::Seconds(10));
    }
  }
}

TEST(ParseConfigTest, EmptyDocumentAndEmptyProfilesMeanDefaults) {
  for (const char* text : {"", "# nothing\n", "global:\ntargets:\n"}) {
    absl::StatusOr<Config> config = ParseConfig(text, "c.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_TRUE(config->targets.empty());
    EXPECT_EQ(config->global.scrape_interval, absl::Seconds(60));
  }
  for (const char* profiles : {"{}", ""}) {
    absl::StatusOr<Config> config = ParseConfig(
        std::string("targets:\n- name: a\n  url: http://a\n  profiles: ") +
            profiles + "\n",
        "c.yml");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(config->targets[0].profiles.size(), 6u) << profiles;
  }
}

TEST(ScrapeTimeoutTest, CpuAddsHalfTheWindowAgain) {
  EXPECT_EQ(ScrapeTimeout(Kind::kHeap, 0, absl::Seconds(10)),
            absl::Seconds(10));
  EXPECT_EQ(ScrapeTimeout(Kind::kCpu, 10, absl::Seconds(10)),
            absl::Seconds(25));
  EXPECT_EQ(ScrapeTimeout(Kind::kCpu, 1, absl::Seconds(2)),
            absl::Milliseconds(3500));
}

TEST(TargetFromFlagTest, BuildsAllKindsAtGlobalDefaults) {
  Config defaults;
  defaults.global.scrape_interval = absl::Seconds(30);
  defaults.global.scrape_timeout = absl::Seconds(5);
  defaults.global.reduce.top = 7;
  absl::StatusOr<TargetConfig> target =
      TargetFromFlag("tsnsrv=http://10.0.0.1:9099", defaults);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->name, "tsnsrv");
  EXPECT_EQ(target->url, "http://10.0.0.1:9099/debug/pprof/");
  EXPECT_TRUE(target->labels.empty());
  EXPECT_EQ(target->reduce.top, 7);
  ASSERT_NE(target->reduce.gc_regex, nullptr);
  EXPECT_EQ(target->reduce.gc_regex->pattern(), profile::kDefaultGcRegex);
  EXPECT_EQ(target->reduce.services.method, Method::kStatic);
  EXPECT_EQ(target->reduce.services.static_count, 1);
  EXPECT_THAT(KindsOf(*target),
              ElementsAre(Kind::kCpu, Kind::kHeap, Kind::kAllocs,
                          Kind::kGoroutine, Kind::kMutex, Kind::kBlock));
  EXPECT_EQ(ScheduleOf(*target, Kind::kCpu).timeout, absl::Seconds(20));
  EXPECT_EQ(ScheduleOf(*target, Kind::kCpu).cpu_seconds, 10);
  EXPECT_EQ(ScheduleOf(*target, Kind::kMutex).interval, absl::Seconds(30));
  EXPECT_EQ(ScheduleOf(*target, Kind::kMutex).timeout, absl::Seconds(5));
}

TEST(TargetFromFlagTest, NameIsEverythingBeforeTheFirstEquals) {
  absl::StatusOr<TargetConfig> target =
      TargetFromFlag("a=http://h/p=q/", Config());
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->name, "a");
  EXPECT_EQ(target->url, "http://h/p=q/");
}

TEST(TargetFromFlagTest, Rejects) {
  struct RejectCase {
    std::string flag;
    std::string error;
  };
  const RejectCase cases[] = {
      {"http://h/", "--target=http://h/: expected NAME=URL"},
      {"=http://h/", "--target==http://h/: NAME must not be empty"},
      {"a=", "--target=a=: URL \"\" must start with http:// or https://"},
      {"a=ftp://h/", "must start with http:// or https://"},
  };
  for (const RejectCase& c : cases) {
    absl::StatusOr<TargetConfig> target = TargetFromFlag(c.flag, Config());
    ASSERT_FALSE(target.ok()) << c.flag;
    EXPECT_THAT(std::string(target.status().message()), HasSubstr(c.error));
  }
}

TEST(TargetFromFlagTest, RejectsUnusableDefaults) {
  // Not even a 1s CPU window fits a 1s interval.
  Config short_interval;
  short_interval.global.scrape_interval = absl::Seconds(1);
  short_interval.global.scrape_timeout = absl::Seconds(1);
  EXPECT_THAT(
      TargetFromFlag("a=http://h", short_interval).status().message(),
      HasSubstr("cpu: cpu seconds (1) must be less than interval (1s)"));
  Config zero_top;
  zero_top.global.reduce.top = 0;
  EXPECT_FALSE(TargetFromFlag("a=http://h", zero_top).ok());
}

TEST(DefaultConfigTest, OneLocalTsnsrv) {
  const Config config = DefaultConfig();
  EXPECT_EQ(config.global.scrape_interval, absl::Seconds(60));
  EXPECT_EQ(config.global.scrape_timeout, absl::Seconds(10));
  ASSERT_EQ(config.targets.size(), 1u);
  EXPECT_EQ(config.targets[0].name, "default");
  EXPECT_EQ(config.targets[0].url, "http://127.0.0.1:9099/debug/pprof/");
  EXPECT_EQ(config.targets[0].profiles.size(), 6u);
}

TEST(LoadConfigFileTest, ReadsFileAndNamesItInErrors) {
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  const std::string dir = tmpdir != nullptr ? tmpdir : "/tmp";
  const std::string good = dir + "/good.yml";
  std::ofstream(good) << kFullConfig;
  absl::StatusOr<Config> config = LoadConfigFile(good);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->targets.size(), 3u);

  const std::string bad = dir + "/bad.yml";
  std::ofstream(bad) << "global:\n  top: 0\n";
  EXPECT_THAT(LoadConfigFile(bad).status().message(),
              HasSubstr(bad + ":2: global.top: must be at least 1"));

  absl::StatusOr<Config> missing = LoadConfigFile(dir + "/missing.yml");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.yml"));
}

}  // namespace
}  // namespace exporter

namespace exporter {
namespace {

// The forensics kinds: off unless listed, with defaults of their own.
TEST(ForensicsKindsTest, OffByDefaultWithTheirOwnDefaultsWhenListed) {
  auto quiet = ParseConfig(R"(targets:
  - {name: a, url: 'http://a:1/'}
)", "f.yml");
  ASSERT_TRUE(quiet.ok()) << quiet.status();
  EXPECT_THAT(KindsOf(quiet->targets[0]),
              ElementsAre(Kind::kCpu, Kind::kHeap, Kind::kAllocs,
                          Kind::kGoroutine, Kind::kMutex, Kind::kBlock));

  auto listed = ParseConfig(R"(global: {scrape_interval: 30s, gc_idle_regex: '^idle$'}
targets:
  - name: a
    url: 'http://a:1/'
    profiles:
      goroutine_dump: {}
      goroutineleak: {}
  - name: b
    url: 'http://b:1/'
    profiles: {goroutine_dump: {interval: 2m, stuck_after: 90s}}
)", "f.yml");
  ASSERT_TRUE(listed.ok()) << listed.status();
  const TargetConfig& a = listed->targets[0];
  EXPECT_THAT(KindsOf(a),
              ElementsAre(Kind::kGoroutineDump, Kind::kGoroutineLeak));
  EXPECT_EQ(ScheduleOf(a, Kind::kGoroutineDump).interval, absl::Minutes(5));
  EXPECT_EQ(ScheduleOf(a, Kind::kGoroutineDump).stuck_after,
            absl::Minutes(10));
  EXPECT_EQ(ScheduleOf(a, Kind::kGoroutineLeak).interval, absl::Hours(6));
  EXPECT_EQ(ScheduleOf(a, Kind::kGoroutineLeak).timeout, absl::Seconds(10));
  ASSERT_NE(a.reduce.gc_idle_regex, nullptr);
  EXPECT_EQ(a.reduce.gc_idle_regex->pattern(), "^idle$");
  const TargetConfig& b = listed->targets[1];
  EXPECT_EQ(ScheduleOf(b, Kind::kGoroutineDump).interval, absl::Minutes(2));
  EXPECT_EQ(ScheduleOf(b, Kind::kGoroutineDump).stuck_after,
            absl::Seconds(90));
}

TEST(ForensicsKindsTest, StuckAfterBelongsToGoroutineDumpOnly) {
  auto bad = ParseConfig(R"(targets:
  - name: a
    url: 'http://a:1/'
    profiles: {goroutine: {stuck_after: 1m}}
)", "f.yml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("f.yml:4: targets[0].profiles.goroutine.stuck_after: "
                        "only the goroutine_dump profile takes stuck_after"));
}

}  // namespace
}  // namespace exporter
