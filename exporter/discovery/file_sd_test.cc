#include "exporter/discovery/file_sd.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/testing/poll.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;

using Labels = std::vector<std::pair<std::string, std::string>>;

// Generous: CI is a loaded 2-core machine.
constexpr absl::Duration kDeadline = absl::Seconds(20);

bool WaitFor(const std::function<bool()>& done,
             absl::Duration timeout = kDeadline) {
  return testing::PollUntil(done, timeout);
}

std::vector<DiscoveredTarget> ParseOk(const std::string& text,
                                      const std::string& file = "t.json") {
  auto parsed = ParseTargetGroups(text, file);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : std::vector<DiscoveredTarget>{};
}

std::string ParseError(const std::string& text,
                       const std::string& file = "t.json") {
  auto parsed = ParseTargetGroups(text, file);
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.ok() ? "" : std::string(parsed.status().message());
}

TEST(ParseTargetGroupsTest, JsonGroupsBecomeTargets) {
  const auto targets = ParseOk(R"([
    {"targets": ["10.0.0.1:6060", "10.0.0.2:6060"],
     "labels": {"env": "prod", "__meta_x": "dropped", "team": "a"}},
    {"targets": ["127.0.0.1:9099"], "labels": {"name": "tsnsrv"}},
    {"targets": ["10.0.0.3:443"], "labels": {"__scheme__": "https"}},
    {"targets": ["http://10.0.0.4:8080/custom/pprof"],
     "labels": {"__scheme__": "https"}},
    {"targets": []},
    {"labels": {"only": "labels"}}
  ])");
  ASSERT_EQ(targets.size(), 5u);
  EXPECT_EQ(targets[0].name, "10.0.0.1:6060");
  EXPECT_EQ(targets[0].url, "http://10.0.0.1:6060/debug/pprof/");
  EXPECT_EQ(targets[0].labels, (Labels{{"env", "prod"}, {"team", "a"}}));
  EXPECT_EQ(targets[0].source, "t.json:2");
  EXPECT_EQ(targets[1].name, "10.0.0.2:6060");
  EXPECT_EQ(targets[1].labels, targets[0].labels);
  // `name` names the target and is no series label.
  EXPECT_EQ(targets[2].name, "tsnsrv");
  EXPECT_EQ(targets[2].url, "http://127.0.0.1:9099/debug/pprof/");
  EXPECT_TRUE(targets[2].labels.empty());
  EXPECT_EQ(targets[2].source, "t.json:4");
  EXPECT_EQ(targets[3].url, "https://10.0.0.3:443/debug/pprof/");
  EXPECT_TRUE(targets[3].labels.empty());
  // A full URL is taken as written; __scheme__ does not override it.
  EXPECT_EQ(targets[4].name, "http://10.0.0.4:8080/custom/pprof");
  EXPECT_EQ(targets[4].url, "http://10.0.0.4:8080/custom/pprof/");
}

TEST(ParseTargetGroupsTest, YamlGroupsAndBareLists) {
  const auto targets = ParseOk(
      "- targets: ['[::1]:6060']\n"
      "  labels:\n"
      "    rack: r1\n"
      "- targets:\n"
      "    - 'localhost:7070'\n",
      "t.yml");
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].url, "http://[::1]:6060/debug/pprof/");
  EXPECT_EQ(targets[0].labels, (Labels{{"rack", "r1"}}));
  EXPECT_EQ(targets[1].name, "localhost:7070");
  EXPECT_EQ(targets[1].source, "t.yml:5");
  EXPECT_TRUE(ParseOk("[]").empty());
}

TEST(ParseTargetGroupsTest, BadFilesNameFileLineAndProblem) {
  EXPECT_THAT(ParseError(""), HasSubstr("file is empty; write []"));
  EXPECT_THAT(ParseError("  \n"), HasSubstr("file is empty"));
  EXPECT_THAT(ParseError("[{\"targets\": [\"a:1\"]"),
              HasSubstr("t.json:1: syntax error"));
  EXPECT_THAT(ParseError("{\"targets\": [\"a:1\"]}"),
              HasSubstr("expected a list of target groups"));
  EXPECT_THAT(ParseError("[{\"targets\": [\"a:1\"], \"lables\": {}}]"),
              HasSubstr("[0].lables: unknown key"));
  EXPECT_THAT(ParseError("[{\"targets\": \"a:1\"}]"),
              HasSubstr("[0].targets: expected a list"));
  EXPECT_THAT(
      ParseError("[\n{\"targets\": [\"a:1\", \"b:1\"],\n \"labels\": "
                 "{\"name\": \"x\"}}]"),
      HasSubstr("t.json:3: [0].labels: the label name=\"x\" names one target, "
                "but the group has 2"));
  EXPECT_THAT(
      ParseError("[{\"targets\": [\"a:1\"], \"labels\": {\"1x\": \"v\"}}]"),
      HasSubstr("[0].labels.1x: invalid label name"));
  EXPECT_THAT(
      ParseError("[{\"targets\": [\"a:1\"], \"labels\": {\"target\": \"v\"}}]"),
      HasSubstr("[0].labels.target: label name is reserved"));
  EXPECT_THAT(
      ParseError("[{\"targets\": [\"a:1\"], \"labels\": {\"k\": {\"x\": 1}}}]"),
      HasSubstr("[0].labels.k: expected a string"));
  EXPECT_THAT(
      ParseError(
          "[{\"targets\": [\"a:1\"], \"labels\": {\"__scheme__\": \"ftp\"}}]"),
      HasSubstr("__scheme__: must be http or https"));
  EXPECT_THAT(ParseError("[{\"targets\": [\"a:1/x\"]}]"),
              HasSubstr("[0].targets[0]: \"a:1/x\" is neither host:port"));
  EXPECT_THAT(ParseError("[{\"targets\": [\"\"]}]"),
              HasSubstr("[0].targets[0]: must not be empty"));
  EXPECT_THAT(ParseError("[{\"targets\": [\"ftp://a:1/\"]}]"),
              HasSubstr("must start with http:// or https://"));
  // Credentials are never echoed.
  const std::string secret =
      ParseError("[{\"targets\": [\"http://u:hunter2@a:1/\"]}]");
  EXPECT_THAT(secret, HasSubstr("credentials"));
  EXPECT_THAT(secret, ::testing::Not(HasSubstr("hunter2")));
  const std::string secret2 =
      ParseError("[{\"targets\": [\"u:hunter2@a:1\"]}]");
  EXPECT_THAT(secret2, ::testing::Not(HasSubstr("hunter2")));
  EXPECT_THAT(
      ParseError("[{\"targets\": [\"a:1\"], \"labels\": {\"name\": \"\"}}]"),
      HasSubstr("labels.name: must not be empty"));
  EXPECT_THAT(
      ParseError("- targets: ['a:1']\n---\n- targets: ['b:1']\n", "t.yml"),
      HasSubstr("expected one list of target groups, got 2 documents"));
}

Config ParseConfigOk(const std::string& text,
                     const std::string& file = "/etc/pprof/config.yml") {
  auto config = ParseConfig(text, file);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : Config{};
}

std::string ConfigError(const std::string& text) {
  auto config = ParseConfig(text, "/etc/pprof/config.yml");
  EXPECT_FALSE(config.ok()) << text;
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(FileSdConfigTest, ParsesFilesIntervalAndTargetDefaults) {
  const Config config = ParseConfigOk(R"(
global: {scrape_interval: 30s, top: 7}
file_sd_configs:
  - files: ['targets/*.json', '/abs/more.yml']
    refresh_interval: 30s
    labels: {env: prod}
    service_label: service
    profiles: {cpu: {interval: 60s, seconds: 10}, goroutine: {interval: 15s}}
  - files: [one.yaml]
)");
  EXPECT_TRUE(config.targets.empty());
  ASSERT_EQ(config.file_sd_configs.size(), 2u);
  const FileSdConfig& sd = config.file_sd_configs[0];
  EXPECT_EQ(sd.files, (std::vector<std::string>{"/etc/pprof/targets/*.json",
                                                "/abs/more.yml"}));
  EXPECT_EQ(sd.refresh_interval, absl::Seconds(30));
  EXPECT_EQ(sd.defaults.labels, (Labels{{"env", "prod"}}));
  EXPECT_EQ(sd.defaults.reduce.top, 7);
  EXPECT_EQ(sd.defaults.reduce.services.label, "service");
  ASSERT_EQ(sd.defaults.profiles.size(), 2u);
  EXPECT_EQ(sd.defaults.profiles[0].kind, profile::Kind::kCpu);
  EXPECT_EQ(sd.defaults.profiles[0].cpu_seconds, 10);
  EXPECT_EQ(sd.defaults.profiles[1].interval, absl::Seconds(15));

  const FileSdConfig& plain = config.file_sd_configs[1];
  EXPECT_EQ(plain.files, (std::vector<std::string>{"/etc/pprof/one.yaml"}));
  EXPECT_EQ(plain.refresh_interval, absl::Minutes(5));
  EXPECT_EQ(plain.defaults.profiles.size(), 6u);  // all kinds
  EXPECT_EQ(plain.defaults.profiles[0].interval, absl::Seconds(30));
  ASSERT_NE(plain.defaults.reduce.gc_regex, nullptr);
}

TEST(FileSdConfigTest, RejectsBadEntriesWithFileAndLine) {
  EXPECT_THAT(
      ConfigError("file_sd_configs:\n  - refresh_interval: 1m\n"),
      HasSubstr(
          "config.yml:2: file_sd_configs[0]: missing required key \"files\""));
  EXPECT_THAT(
      ConfigError("file_sd_configs:\n  - files: []\n"),
      HasSubstr("file_sd_configs[0].files: must list at least one file"));
  EXPECT_THAT(ConfigError("file_sd_configs:\n  - files: ['targets/*']\n"),
              HasSubstr("files[0]: must end in .json, .yml or .yaml"));
  EXPECT_THAT(ConfigError("file_sd_configs:\n  - files: ['*/t.json']\n"),
              HasSubstr("wildcards are only allowed in the last path element"));
  EXPECT_THAT(
      ConfigError("file_sd_configs:\n  - files: [a.json]\n    name: x\n"),
      HasSubstr("config.yml:3: file_sd_configs[0].name: unknown key"));
  EXPECT_THAT(
      ConfigError(
          "file_sd_configs:\n  - files: [a.json]\n    url: http://x/\n"),
      HasSubstr("file_sd_configs[0].url: unknown key"));
  EXPECT_THAT(
      ConfigError(
          "file_sd_configs:\n  - files: [a.json]\n    refresh_interval: 0s\n"),
      HasSubstr("refresh_interval"));
  EXPECT_THAT(ConfigError("file_sd_configs:\n  - files: [a.json]\n"
                          "    refresh_interval: 500ms\n"),
              HasSubstr("refresh_interval: must be at least 1s"));
  EXPECT_THAT(
      ConfigError("file_sd_configs:\n  - files: [a.json]\n"
                  "    profiles: {cpu: {interval: 5s, seconds: 10}}\n"),
      HasSubstr("file_sd_configs[0].profiles.cpu.seconds: cpu seconds (10)"));
  EXPECT_THAT(
      ConfigError(
          "file_sd_configs:\n  - files: [a.json]\n    labels: {__x: y}\n"),
      HasSubstr("labels.__x: label name is reserved"));
  EXPECT_THAT(ConfigError("file_sd_configs: {files: [a.json]}\n"),
              HasSubstr("file_sd_configs: expected a list"));
}

TEST(MakeDiscoveredTargetTest, AppliesDefaultsAndMergesLabels) {
  const Config config = ParseConfigOk(R"(
file_sd_configs:
  - files: [a.json]
    labels: {env: prod, team: core}
    services: 3
    profiles: {goroutine: {interval: 15s}}
)");
  const FileSdConfig& sd = config.file_sd_configs[0];
  DiscoveredTarget discovered;
  discovered.name = "10.0.0.1:6060";
  discovered.url = "http://10.0.0.1:6060/debug/pprof/";
  discovered.labels = {{"env", "staging"}, {"zone", "b"}};
  auto target = MakeDiscoveredTarget(sd, discovered);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->name, "10.0.0.1:6060");
  EXPECT_EQ(target->url, "http://10.0.0.1:6060/debug/pprof/");
  EXPECT_EQ(target->labels,
            (Labels{{"env", "staging"}, {"team", "core"}, {"zone", "b"}}));
  EXPECT_EQ(target->reduce.services.static_count, 3);
  ASSERT_EQ(target->profiles.size(), 1u);
  EXPECT_EQ(target->profiles[0].interval, absl::Seconds(15));
}

TEST(MakeDiscoveredTargetTest, TlsConfigNeedsHttps) {
  const Config config = ParseConfigOk(R"(
file_sd_configs:
  - files: [a.json]
    tls_config: {insecure_skip_verify: true}
)");
  const FileSdConfig& sd = config.file_sd_configs[0];
  EXPECT_TRUE(sd.defaults.fetch.tls.insecure_skip_verify);
  DiscoveredTarget discovered;
  discovered.name = "a:1";
  discovered.url = "http://a:1/debug/pprof/";
  auto target = MakeDiscoveredTarget(sd, discovered);
  ASSERT_FALSE(target.ok());
  EXPECT_THAT(std::string(target.status().message()),
              HasSubstr("must be https://"));
  discovered.url = "https://a:1/debug/pprof/";
  EXPECT_TRUE(MakeDiscoveredTarget(sd, discovered).ok());
}

// --- FileDiscovery on real files ---

class FileDiscoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = getenv("TEST_TMPDIR");
    std::string templ =
        absl::StrCat(base != nullptr ? base : "/tmp", "/file_sd_test.XXXXXX");
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }

  std::string Path(const std::string& name) const {
    return absl::StrCat(dir_, "/", name);
  }

  // Written to a temporary name and renamed into place, as tools should.
  void WriteAtomically(const std::string& name, const std::string& text) {
    const std::string partial = Path(name + ".partial");
    {
      std::ofstream out(partial, std::ios::binary | std::ios::trunc);
      out << text;
    }
    ASSERT_EQ(rename(partial.c_str(), Path(name).c_str()), 0);
  }

  // Truncated and rewritten in place, as an editor without backups does.
  void WriteInPlace(const std::string& name, const std::string& text) {
    std::ofstream out(Path(name), std::ios::binary | std::ios::trunc);
    out << text;
  }

  FileSdConfig Sd(std::vector<std::string> files,
                  absl::Duration refresh = absl::Hours(1)) {
    FileSdConfig sd;
    for (std::string& f : files) sd.files.push_back(Path(f));
    sd.refresh_interval = refresh;
    ProfileSchedule schedule;
    schedule.kind = profile::Kind::kGoroutine;
    schedule.interval = absl::Seconds(15);
    schedule.timeout = absl::Seconds(10);
    sd.defaults.profiles = {schedule};
    return sd;
  }

  static std::vector<std::string> Names(const FileDiscovery& discovery) {
    std::vector<std::string> names;
    for (const TargetConfig& t : discovery.Current().targets) {
      names.push_back(t.name);
    }
    return names;
  }

  std::string dir_;
};

TEST_F(FileDiscoveryTest, ReadsAtOnceAndFollowsChangesWithoutPolling) {
  WriteAtomically("a.json", R"([{"targets": ["127.0.0.1:1", "127.0.0.1:2"]}])");
  WriteAtomically("b.yml",
                  "- targets: ['127.0.0.1:3']\n  labels: {name: three}\n");
  WriteAtomically("ignored.txt", "not a target file");
  std::atomic<int> changes{0};
  FileDiscovery discovery([&] { changes.fetch_add(1); });
  // The refresh interval is an hour: only inotify can notice changes.
  discovery.SetConfigs({Sd({"*.json", "*.yml"})});
  EXPECT_EQ(Names(discovery),
            (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2", "three"}));
  EXPECT_EQ(discovery.discovered_targets(), 3);
  EXPECT_EQ(discovery.refresh_failures(), 0u);
  EXPECT_EQ(changes.load(), 0);  // SetConfigs reports by returning

  // Atomic replacement.
  WriteAtomically("a.json",
                  R"([{"targets": ["127.0.0.1:2"], "labels": {"k": "v"}}])");
  ASSERT_TRUE(WaitFor([&] {
    return Names(discovery) == std::vector<std::string>{"127.0.0.1:2", "three"};
  })) << absl::StrJoin(Names(discovery), ",");
  // The callback runs just after the new targets are published.
  EXPECT_TRUE(WaitFor([&] { return changes.load() >= 1; }));
  EXPECT_EQ(discovery.Current().targets[0].labels, (Labels{{"k", "v"}}));

  // In-place rewrite.
  const int before = changes.load();
  WriteInPlace("b.yml", "- targets: ['127.0.0.1:3']\n  labels: {name: drei}\n");
  ASSERT_TRUE(WaitFor([&] {
    return Names(discovery) == std::vector<std::string>{"127.0.0.1:2", "drei"};
  })) << absl::StrJoin(Names(discovery), ",");
  EXPECT_TRUE(WaitFor([&] { return changes.load() > before; }));

  // A new file matching the pattern, and one removed.
  WriteAtomically("c.json", R"([{"targets": ["127.0.0.1:4"]}])");
  ASSERT_TRUE(WaitFor([&] { return Names(discovery).size() == 3; }));
  ASSERT_EQ(unlink(Path("b.yml").c_str()), 0);
  ASSERT_TRUE(WaitFor([&] {
    return Names(discovery) ==
           std::vector<std::string>{"127.0.0.1:2", "127.0.0.1:4"};
  })) << absl::StrJoin(Names(discovery), ",");
  EXPECT_EQ(discovery.refresh_failures(), 0u);
}

TEST_F(FileDiscoveryTest, BrokenFileKeepsItsPreviousTargets) {
  WriteAtomically("a.json", R"([{"targets": ["127.0.0.1:1"]}])");
  WriteAtomically("b.json", R"([{"targets": ["127.0.0.1:2"]}])");
  std::atomic<int> changes{0};
  FileDiscovery discovery([&] { changes.fetch_add(1); });
  discovery.SetConfigs({Sd({"*.json"})});
  ASSERT_EQ(Names(discovery).size(), 2u);

  WriteAtomically("a.json", R"([{"targets": ["127.0.0.1:1"]})");  // cut short
  ASSERT_TRUE(WaitFor([&] { return discovery.refresh_failures() >= 1; }));
  EXPECT_EQ(Names(discovery),
            (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));
  EXPECT_EQ(discovery.discovered_targets(), 2);
  // Another file still follows its changes meanwhile.
  WriteAtomically("b.json", R"([{"targets": ["127.0.0.1:3"]}])");
  ASSERT_TRUE(WaitFor([&] {
    return Names(discovery) ==
           std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:3"};
  })) << absl::StrJoin(Names(discovery), ",");
  // An empty file is no exception (it may be half-written).
  WriteInPlace("a.json", "");
  const uint64_t failures = discovery.refresh_failures();
  ASSERT_TRUE(WaitFor([&] { return discovery.refresh_failures() > failures; }));
  EXPECT_EQ(Names(discovery).size(), 2u);

  // Fixed.
  WriteAtomically("a.json", R"([{"targets": ["127.0.0.1:5"]}])");
  ASSERT_TRUE(WaitFor([&] {
    return Names(discovery) ==
           std::vector<std::string>{"127.0.0.1:5", "127.0.0.1:3"};
  })) << absl::StrJoin(Names(discovery), ",");

  // A broken file also keeps its targets across SetConfigs (a reload).
  WriteAtomically("a.json", "[{]");
  ASSERT_TRUE(
      WaitFor([&] { return discovery.refresh_failures() > failures + 1; }));
  discovery.SetConfigs({Sd({"*.json"})});
  EXPECT_EQ(Names(discovery),
            (std::vector<std::string>{"127.0.0.1:5", "127.0.0.1:3"}));
}

TEST_F(FileDiscoveryTest, RefreshIntervalFindsWhatInotifyCannotSee) {
  // The directory does not exist yet, so it cannot be watched; the
  // periodic refresh finds the file (and starts watching the directory).
  std::atomic<int> changes{0};
  FileDiscovery discovery([&] { changes.fetch_add(1); });
  discovery.SetConfigs({Sd({"later/*.json"}, absl::Milliseconds(200))});
  EXPECT_TRUE(Names(discovery).empty());
  ASSERT_EQ(mkdir(Path("later").c_str(), 0755), 0);
  WriteAtomically("later/t.json", R"([{"targets": ["127.0.0.1:1"]}])");
  ASSERT_TRUE(WaitFor([&] { return Names(discovery).size() == 1; }));
  EXPECT_TRUE(WaitFor([&] { return changes.load() >= 1; }));
  EXPECT_EQ(discovery.refresh_failures(), 0u);
}

TEST_F(FileDiscoveryTest, TargetsFollowTheirConfigsDefaults) {
  WriteAtomically("a.json",
                  R"([{"targets": ["127.0.0.1:1"], "labels": {"x": "1"}}])");
  FileDiscovery discovery([] {});
  FileSdConfig plain = Sd({"a.json"});
  FileSdConfig tls = Sd({"a.json"});
  tls.defaults.fetch.tls.insecure_skip_verify = true;
  tls.defaults.labels = {{"x", "0"}, {"y", "2"}};
  discovery.SetConfigs({plain, tls});
  const FileDiscovery::Targets current = discovery.Current();
  // The same file under two configs: one target each, and the second is
  // rejected because its config wants TLS on an http:// target.
  ASSERT_EQ(current.targets.size(), 1u);
  EXPECT_EQ(current.targets[0].labels, (Labels{{"x", "1"}}));
  EXPECT_EQ(current.sources[0], absl::StrCat(Path("a.json"), ":1"));
  ASSERT_EQ(current.errors.size(), 1u);
  EXPECT_THAT(current.errors[0], HasSubstr("must be https://"));
  EXPECT_EQ(discovery.discovered_targets(), 2);

  discovery.SetConfigs({});
  EXPECT_TRUE(discovery.Current().targets.empty());
  EXPECT_EQ(discovery.discovered_targets(), 0);
  discovery.Stop();
  discovery.Stop();  // idempotent
}

}  // namespace
}  // namespace exporter
