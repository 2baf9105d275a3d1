// Every way ParseConfig rejects a file, each with the "file:line: key:"
// prefix that lets a user find the problem. Valid configs are in
// config_test.cc.
#include <string>

#include "absl/status/status.h"
#include "exporter/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;

struct RejectCase {
  std::string yaml;
  std::string error;  // must appear in the message
};

// Each case: the config and "file:line: key: problem" (or a part of it).
const RejectCase kRejectCases[] = {
    // YAML itself.
    {"targets: [\n  {name: a,\n", "config.yml:3: YAML syntax error"},
    {"global: {}\n---\ntargets: []\n",
     "config.yml:3: only one YAML document is allowed"},
    // Node types.
    {"- a\n- b\n", "config.yml:1: expected a map, got a list"},
    {"targets: {name: a}\n",
     "config.yml:1: targets: expected a list, got a map"},
    {"global: 60s\n", "config.yml:1: global: expected a map, got \"60s\""},
    {"targets:\n  - tsnsrv\n",
     "config.yml:2: targets[0]: expected a map, got \"tsnsrv\""},
    {"targets:\n  -\n", "targets[0]: expected a map, got nothing"},
    {"targets:\n- name: a\n  url: http://a\n  profiles: [cpu, heap]\n",
     "config.yml:4: targets[0].profiles: expected a map, got a list"},
    {"targets:\n- name: a\n  url: http://a\n  labels: [host]\n",
     "config.yml:4: targets[0].labels: expected a map, got a list"},
    {"targets:\n- name: a\n  url: http://a\n  labels:\n    host: {x: 1}\n",
     "config.yml:5: targets[0].labels.host: expected a string, got a map"},
    {"targets:\n- name: [a]\n  url: http://a\n",
     "config.yml:2: targets[0].name: expected a string, got a list"},
    {"global:\n  top: ten\n",
     "config.yml:2: global.top: expected an integer, got \"ten\""},
    {"global:\n  top: 1.5\n", "global.top: expected an integer"},
    {"global:\n  scrape_interval: [1m]\n",
     "config.yml:2: global.scrape_interval: expected a duration like 30s"},
    {"global:\n  {[a]: 1}\n",
     "config.yml:2: global: map keys must be plain strings"},
    // Unknown and duplicate keys at every level.
    {"globals:\n  top: 3\n",
     "config.yml:1: globals: unknown key; expected one of global, targets"},
    {"global:\n  scrape_intervall: 1m\n",
     "config.yml:2: global.scrape_intervall: unknown key; expected one of "
     "scrape_interval, scrape_timeout, top, series_limit, gc_regex"},
    {"targets:\n- name: a\n  url: http://a\n  service: 3\n",
     "config.yml:4: targets[0].service: unknown key"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n    goroutines: {}\n",
     "config.yml:5: targets[0].profiles.goroutines: unknown key; expected one "
     "of cpu, heap, allocs, goroutine, mutex, block"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n    heap: {intreval: "
     "1m}\n",
     "config.yml:5: targets[0].profiles.heap.intreval: unknown key"},
    {"global:\n  top: 3\n  top: 4\n",
     "config.yml:3: global.top: duplicate key (first at line 2)"},
    {"targets:\n- name: a\n  url: http://a\n  labels:\n    host: x\n    host: "
     "y\n",
     "config.yml:6: targets[0].labels.host: duplicate key (first at line 5)"},
    // Durations.
    {"global:\n  scrape_interval: 6O s\n",
     "config.yml:2: global.scrape_interval: bad duration \"6O s\": unknown "
     "unit"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n    heap:\n"
     "      interval: 1.5m\n",
     "config.yml:6: targets[0].profiles.heap.interval: bad duration \"1.5m\""},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n"
     "    cpu: {interval: 60, seconds: 10}\n",
     "config.yml:5: targets[0].profiles.cpu.interval: bad duration \"60\": "
     "missing unit"},
    {"global:\n  scrape_timeout: 0s\n",
     "config.yml:2: global.scrape_timeout: must be greater than 0, got 0s"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n    block: {timeout: "
     "0}\n",
     "config.yml:5: targets[0].profiles.block.timeout: must be greater than 0"},
    // Regexes.
    {"global:\n  gc_regex: 'gc(Start'\n",
     "config.yml:2: global.gc_regex: bad regex \"gc(Start\": missing )"},
    {"global:\n  gc_regex: ''\n",
     "config.yml:2: global.gc_regex: regex must not be empty"},
    {"targets:\n- name: a\n  url: http://a\n  gc_regex: '[a'\n",
     "config.yml:4: targets[0].gc_regex: bad regex \"[a\": missing ]"},
    {"targets:\n- name: a\n  url: http://a\n  service_count_regex: '*Up'\n",
     "config.yml:4: targets[0].service_count_regex: bad regex \"*Up\": "
     "no argument for repetition operator"},
    // Names and URLs.
    {"targets:\n- name: a\n  url: http://a\n- name: b\n  url: http://b\n"
     "- url: http://c\n  name: a\n",
     "config.yml:7: targets[2].name: duplicate target name \"a\" (first at "
     "line 2)"},
    {"targets:\n- name: ''\n  url: http://a\n",
     "config.yml:2: targets[0].name: must not be empty"},
    {"targets:\n- url: http://a\n",
     "config.yml:2: targets[0]: missing required key \"name\""},
    {"targets:\n- name: a\n",
     "config.yml:2: targets[0]: missing required key \"url\""},
    {"targets:\n- name: a\n  url: ftp://a/\n",
     "config.yml:3: targets[0].url: URL \"ftp://a/\" must start with http:// "
     "or "
     "https://"},
    {"targets:\n- name: a\n  url: 127.0.0.1:9099\n",
     "config.yml:3: targets[0].url: URL \"127.0.0.1:9099\" must start with"},
    {"targets:\n- name: a\n  url: http:///debug/pprof/\n",
     "config.yml:3: targets[0].url: URL \"http:///debug/pprof/\" has no host"},
    {"targets:\n- name: a\n  url: 'http://a/debug/pprof/?debug=1'\n",
     "config.yml:3: targets[0].url: URL \"http://a/debug/pprof/?debug=1\" must "
     "not have a query or fragment"},
    // Service counting.
    {"targets:\n- name: a\n  url: http://a\n  services: 2\n  service_label: "
     "svc\n",
     "config.yml:5: targets[0].service_label: only one of services, "
     "service_label, service_count_regex may be set"},
    {"targets:\n- name: a\n  url: http://a\n  service_label: svc\n"
     "  service_count_regex: x\n",
     "config.yml:5: targets[0].service_count_regex: only one of"},
    {"targets:\n- name: a\n  url: http://a\n  services: 0\n",
     "config.yml:4: targets[0].services: must be at least 1, got 0"},
    {"targets:\n- name: a\n  url: http://a\n  services: -3\n",
     "config.yml:4: targets[0].services: must be at least 1, got -3"},
    {"targets:\n- name: a\n  url: http://a\n  service_label: ''\n",
     "config.yml:4: targets[0].service_label: must not be empty"},
    // top.
    {"global:\n  top: 0\n",
     "config.yml:2: global.top: must be at least 1, got 0"},
    {"targets:\n- name: a\n  url: http://a\n  top: 0\n",
     "config.yml:4: targets[0].top: must be at least 1, got 0"},
    {"global:\n  top: 3000000000\n",
     "config.yml:2: global.top: must be at most 2147483647, got 3000000000"},
    // Schedules.
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n"
     "    cpu: {interval: 2d, seconds: 100000}\n",
     "config.yml:5: targets[0].profiles.cpu.seconds: must be at most 86400"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n    cpu: {seconds: "
     "0}\n",
     "config.yml:5: targets[0].profiles.cpu.seconds: must be at least 1, got "
     "0"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n"
     "    cpu: {interval: 30s, seconds: 30}\n",
     "config.yml:5: targets[0].profiles.cpu.seconds: cpu seconds (30) must be "
     "less than interval (30s)"},
    // The default window shrinks to fit (config_test.cc), but not below 1s.
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n"
     "    cpu:\n      interval: 1s\n",
     "config.yml:6: targets[0].profiles.cpu.interval: cpu seconds (1) must be "
     "less than interval (1s)"},
    {"global:\n  scrape_interval: 1s\ntargets:\n"
     "- name: a\n  url: http://a\n",
     "config.yml:4: targets[0].profiles.cpu: cpu seconds (1) must be less "
     "than interval (1s)"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n    heap: {seconds: "
     "5}\n",
     "config.yml:5: targets[0].profiles.heap.seconds: only the cpu profile "
     "takes seconds"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n"
     "    goroutine: {interval: 5s, timeout: 10s}\n",
     "config.yml:5: targets[0].profiles.goroutine.timeout: timeout (10s) must "
     "not exceed interval (5s)"},
    {"targets:\n- name: a\n  url: http://a\n  profiles:\n"
     "    mutex: {interval: 1m, timeout: 2m}\n",
     "config.yml:5: targets[0].profiles.mutex.timeout: timeout (2m) must not "
     "exceed interval (1m)"},
    {"global:\n  scrape_interval: 30s\n  scrape_timeout: 45s\n",
     "config.yml:3: global.scrape_timeout: scrape_timeout (45s) must not "
     "exceed scrape_interval (30s)"},
    // Labels.
    {"targets:\n- name: a\n  url: http://a\n  labels: {host-name: x}\n",
     "config.yml:4: targets[0].labels.host-name: invalid label name; must "
     "match [a-zA-Z_][a-zA-Z0-9_]*"},
    {"targets:\n- name: a\n  url: http://a\n  labels: {2host: x}\n",
     "targets[0].labels.2host: invalid label name"},
    {"targets:\n- name: a\n  url: http://a\n  labels: {'': x}\n",
     "targets[0].labels.\"\": invalid label name"},
    {"targets:\n- name: a\n  url: http://a\n  labels:\n    ok: 1\n    target: "
     "x\n",
     "config.yml:6: targets[0].labels.target: label name is reserved"},
    {"targets:\n- name: a\n  url: http://a\n  labels: {function: x}\n",
     "targets[0].labels.function: label name is reserved"},
    {"targets:\n- name: a\n  url: http://a\n  labels: {profile: x}\n",
     "targets[0].labels.profile: label name is reserved"},
    {"targets:\n- name: a\n  url: http://a\n  labels: {service: x}\n",
     "targets[0].labels.service: label name is reserved"},
    {"targets:\n- name: a\n  url: http://a\n  labels: {reason: x}\n",
     "targets[0].labels.reason: label name is reserved"},
    {"targets:\n- name: a\n  url: http://a\n  labels: {__name__: x}\n",
     "targets[0].labels.__name__: label name is reserved"},
};

TEST(ParseConfigTest, RejectsInvalidConfigsWithLocation) {
  for (const RejectCase& c : kRejectCases) {
    absl::StatusOr<Config> config = ParseConfig(c.yaml, "config.yml");
    ASSERT_FALSE(config.ok()) << "accepted:\n" << c.yaml;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(config.status().message()), HasSubstr(c.error))
        << "for:\n"
        << c.yaml;
  }
}

TEST(ParseConfigTest, ErrorNamesTheFileAndLineOfTheIssueExample) {
  absl::StatusOr<Config> config = ParseConfig(
      "global:\n  scrape_interval: 60s\ntargets:\n  - name: tsnsrv\n"
      "    url: http://127.0.0.1:9099/debug/pprof/\n    profiles:\n"
      "      cpu: {interval: 6O s, seconds: 10}\n",
      "config.yml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            "config.yml:7: targets[0].profiles.cpu.interval: bad duration "
            "\"6O s\": unknown unit \"O\" after 6 (want one of y, w, d, h, m, "
            "s, ms)");
}

}  // namespace
}  // namespace exporter
