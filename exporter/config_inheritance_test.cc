// Targets inherit `global:` as Prometheus's scrape configs do: a timeout or
// CPU window that is not set on a profile kind adapts to its interval.
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "exporter/config.h"
#include "exporter/kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/kind.h"
#include "profile/options.h"

namespace exporter {
namespace {

using ::profile::Kind;
using ::testing::HasSubstr;

struct Want {
  Kind kind;
  absl::Duration interval;
  absl::Duration timeout;
  int cpu_seconds;
};

void ExpectSchedules(const TargetSettings& target,
                     const std::vector<Want>& want) {
  ASSERT_EQ(target.profiles.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const ProfileSchedule& got = target.profiles[i];
    SCOPED_TRACE(profile::KindName(want[i].kind));
    EXPECT_EQ(got.kind, want[i].kind);
    EXPECT_EQ(got.interval, want[i].interval);
    EXPECT_EQ(got.timeout, want[i].timeout);
    EXPECT_EQ(got.cpu_seconds, want[i].cpu_seconds);
  }
}

// All six kinds at `interval`, the non-CPU ones with `timeout`, the CPU one
// with a `cpu_seconds` window (request timeout: 1.5 windows + timeout).
std::vector<Want> AllKinds(absl::Duration interval, absl::Duration timeout,
                           int cpu_seconds) {
  std::vector<Want> want;
  for (Kind kind : DefaultKinds()) {
    const bool cpu = kind == Kind::kCpu;
    want.push_back({kind, interval,
                    cpu ? absl::Seconds(cpu_seconds) * 3 / 2 + timeout
                        : timeout,
                    cpu ? cpu_seconds : 0});
  }
  return want;
}

// The configuration of issue 11, refused twice before.
TEST(InheritanceTest, TimeoutAndCpuWindowFitAShorterInterval) {
  absl::StatusOr<Config> config = ParseConfig(R"(
global: {scrape_interval: 3s, scrape_timeout: 3s}
targets:
  - name: fast
    url: http://127.0.0.1:6060
    profiles:
      goroutine: {interval: 2s}
  - name: plain
    url: http://127.0.0.1:6061
)",
                                              "c.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->targets.size(), 2u);
  // The inherited 3s timeout is lowered to the 2s interval.
  ExpectSchedules(config->targets[0],
                  {{Kind::kGoroutine, absl::Seconds(2), absl::Seconds(2), 0}});
  // The default 10s CPU window shrinks to 3s - 1s.
  ExpectSchedules(config->targets[1],
                  AllKinds(absl::Seconds(3), absl::Seconds(3), 2));
}

TEST(InheritanceTest, ParcaIntervalWithDefaultProfiles) {
  absl::StatusOr<Config> config = ParseConfig(
      "global: {scrape_interval: 10s}\n"
      "targets: [{name: a, url: 'http://127.0.0.1:6060'}]\n",
      "c.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ExpectSchedules(config->targets[0],
                  AllKinds(absl::Seconds(10), absl::Seconds(10), 9));
}

TEST(InheritanceTest, DefaultGlobalTimeoutIsLoweredToTheGlobalInterval) {
  // Prometheus: GlobalConfig's default scrape_timeout (10s) becomes
  // min(10s, scrape_interval).
  absl::StatusOr<Config> config =
      ParseConfig("global: {scrape_interval: 5s}\n", "c.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->global.scrape_timeout, absl::Seconds(5));
}

TEST(InheritanceTest, FlagsAndFileSdInheritTheSameWay) {
  absl::StatusOr<Config> config = ParseConfig(R"(
global: {scrape_interval: 3s, scrape_timeout: 3s}
file_sd_configs:
  - files: [/etc/targets.json]
    profiles: {cpu: {}, heap: {interval: 2s}}
)",
                                              "c.yml");
  ASSERT_TRUE(config.ok()) << config.status();
  ExpectSchedules(
      config->file_sd_configs[0].defaults,
      {{Kind::kCpu, absl::Seconds(3), absl::Seconds(6), 2},
       {Kind::kHeap, absl::Seconds(2), absl::Seconds(2), 0}});
  absl::StatusOr<TargetConfig> flag = TargetFromFlag("f=http://h", *config);
  ASSERT_TRUE(flag.ok()) << flag.status();
  ExpectSchedules(*flag, AllKinds(absl::Seconds(3), absl::Seconds(3), 2));
}

TEST(InheritanceTest, ValuesSetOnTheKindAreStillChecked) {
  const std::pair<const char*, const char*> cases[] = {
      {"goroutine: {interval: 2s, timeout: 3s}",
       "c.yml:6: targets[0].profiles.goroutine.timeout: timeout (3s) must "
       "not exceed interval (2s)"},
      {"cpu: {interval: 3s, seconds: 3}",
       "c.yml:6: targets[0].profiles.cpu.seconds: cpu seconds (3) must be "
       "less than interval (3s)"},
  };
  for (const auto& [kind, error] : cases) {
    absl::StatusOr<Config> config = ParseConfig(
        absl::StrCat("global: {scrape_interval: 3s, scrape_timeout: 3s}\n"
                     "targets:\n"
                     "  - name: a\n"
                     "    url: http://127.0.0.1:6060\n"
                     "    profiles:\n"
                     "      ",
                     kind, "\n"),
        "c.yml");
    ASSERT_FALSE(config.ok()) << kind;
    EXPECT_EQ(config.status().message(), error);
  }
}

// reduce's flags meet the rules of the config keys of the same names.
TEST(ApplyReduceOptionsTest, SameRulesAsTheConfig) {
  profile::ReduceOptions options;
  ASSERT_TRUE(ApplyReduceOptions({{"top", "3"}, {"service_label", "svc"}},
                                 options)
                  .ok());
  EXPECT_EQ(options.top, 3);
  EXPECT_EQ(options.services.label, "svc");
  EXPECT_EQ(options.gc_regex, nullptr);  // untouched when not given
  const std::pair<std::vector<std::pair<std::string, std::string>>,
                  const char*>
      rejected[] = {
          {{{"gc_regex", ""}}, "gc_regex: regex must not be empty"},
          {{{"service_count_regex", ""}},
           "service_count_regex: regex must not be empty"},
          {{{"service_label", ""}}, "service_label: must not be empty"},
          {{{"top", "0"}}, "top: must be at least 1"},
          {{{"services", "2"}, {"service_label", "x"}}, "only one of"},
      };
  for (const auto& [values, error] : rejected) {
    profile::ReduceOptions ignored;
    EXPECT_THAT(std::string(ApplyReduceOptions(values, ignored).message()),
                HasSubstr(error))
        << values[0].first;
  }
}

}  // namespace
}  // namespace exporter
