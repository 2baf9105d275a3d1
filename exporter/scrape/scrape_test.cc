#include "exporter/scrape/scrape.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/net/fetch.h"
#include "exporter/metrics/metrics.h"
#include "exporter/scrape/slot.h"
#include "exporter/testing/fixture.h"
#include "exporter/testing/http_stub.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/decode.h"
#include "profile/kind.h"

namespace exporter {
namespace {

using ::prometheus::MetricFamily;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using testing::ReadFixture;

using ::exporter::testing::ClosedPort;

// A fake Go program's net/http/pprof on 127.0.0.1, on an ephemeral port.
class FakePprof {
 public:
  enum class Mode { kProfile, kHtml, kBusy };

  FakePprof()
      : goroutine_(ReadFixture("goroutine.pb.gz")),
        cpu_(ReadFixture("cpu.pb.gz")) {
    stub_.server.Get("/debug/pprof/goroutine",
                [this](const httplib::Request&, httplib::Response& res) {
                  switch (goroutine_mode.load()) {
                    case Mode::kProfile:
                      res.set_content(goroutine_, "application/octet-stream");
                      break;
                    case Mode::kHtml:
                      ServeHtml(res);
                      break;
                    case Mode::kBusy:
                      ServeBusy(res);
                      break;
                  }
                });
    stub_.server.Get("/debug/pprof/profile",
                [this](const httplib::Request& req, httplib::Response& res) {
                  {
                    absl::MutexLock lock(&mu_);
                    cpu_seconds_.push_back(
                        req.has_param("seconds")
                            ? req.get_param_value("seconds")
                            : "<absent>");
                  }
                  res.set_content(cpu_, "application/octet-stream");
                });
    stub_.server.Get("/debug/pprof/heap",
                [](const httplib::Request&, httplib::Response& res) {
                  ServeHtml(res);
                });
    stub_.server.Get("/debug/pprof/mutex",
                [](const httplib::Request&, httplib::Response& res) {
                  ServeBusy(res);
                });
    stub_.server.Get("/debug/pprof/block",
                [](const httplib::Request&, httplib::Response& res) {
                  res.status = 404;
                  res.set_content("404 page not found\n", "text/plain");
                });
  }

  bool Start() { return stub_.Start(); }

  std::string BaseUrl() const {
    return stub_.Url("/debug/pprof/");
  }

  std::vector<std::string> cpu_seconds() {
    absl::MutexLock lock(&mu_);
    return cpu_seconds_;
  }

  std::atomic<Mode> goroutine_mode{Mode::kProfile};

 private:
  static void ServeHtml(httplib::Response& res) {
    res.set_content(
        "<html><head><title>/debug/pprof/</title></head>"
        "<body>Types of profiles available: ...</body></html>\n",
        "text/html; charset=utf-8");
  }
  static void ServeBusy(httplib::Response& res) {
    res.status = 500;
    res.set_header("X-Go-Pprof", "1");
    res.set_content("Could not enable CPU profiling: cpu profiling already in use\n",
                    "text/plain; charset=utf-8");
  }

  const std::string goroutine_;
  const std::string cpu_;
  absl::Mutex mu_;
  std::vector<std::string> cpu_seconds_;
  testing::HttpStub stub_;
};

TargetConfig Target(const std::string& base_url) {
  TargetConfig t;
  t.name = "svchost";
  t.url = base_url;
  t.labels = {{"env", "test"}};
  return t;
}

ProfileSchedule Schedule(profile::Kind kind) {
  ProfileSchedule s;
  s.kind = kind;
  s.interval = absl::Seconds(60);
  s.timeout = absl::Seconds(20);
  if (kind == profile::Kind::kCpu) s.cpu_seconds = 1;
  return s;
}

const MetricFamily* Find(const std::vector<MetricFamily>& families,
                         const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The failure as logged and shown; "" when up.
std::string Shown(const ScrapeResult& r) {
  return r.failure ? r.failure->ToString() : "";
}

uint64_t Errors(const ScrapeResult& r, FailureReason e) {
  return r.health.errors_total[static_cast<int>(e)];
}

uint64_t AllErrors(const ScrapeResult& r) {
  uint64_t sum = 0;
  for (uint64_t n : r.health.errors_total) sum += n;
  return sum;
}

class ScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  std::optional<ScrapeResult> Run(profile::Kind kind,
                                  const ScrapeResult& previous = {},
                                  const profile::DecodeLimits& limits = {}) {
    return Scrape(Target(server_.BaseUrl()), Schedule(kind), previous,
                  fetcher_, limits);
  }

  FakePprof server_;
  Fetcher fetcher_;
};

TEST(ProfileUrlTest, EndpointsUnderTheBaseUrl) {
  const TargetConfig t = Target("http://127.0.0.1:9099/debug/pprof/");
  ProfileSchedule cpu = Schedule(profile::Kind::kCpu);
  cpu.cpu_seconds = 10;
  EXPECT_EQ(ProfileUrl(t, cpu),
            "http://127.0.0.1:9099/debug/pprof/profile?seconds=10");
  EXPECT_EQ(ProfileUrl(t, Schedule(profile::Kind::kHeap)),
            "http://127.0.0.1:9099/debug/pprof/heap");
  EXPECT_EQ(ProfileUrl(t, Schedule(profile::Kind::kAllocs)),
            "http://127.0.0.1:9099/debug/pprof/allocs");
  EXPECT_EQ(ProfileUrl(t, Schedule(profile::Kind::kGoroutine)),
            "http://127.0.0.1:9099/debug/pprof/goroutine");
  EXPECT_EQ(ProfileUrl(t, Schedule(profile::Kind::kMutex)),
            "http://127.0.0.1:9099/debug/pprof/mutex");
  EXPECT_EQ(ProfileUrl(t, Schedule(profile::Kind::kBlock)),
            "http://127.0.0.1:9099/debug/pprof/block");
  const TargetConfig other = Target("https://app.example:8443/custom/path/");
  EXPECT_EQ(ProfileUrl(other, Schedule(profile::Kind::kHeap)),
            "https://app.example:8443/custom/path/heap");
}

TEST_F(ScrapeTest, GoroutineSuccess) {
  const absl::Time before = absl::Now();
  auto r = Run(profile::Kind::kGoroutine);
  const absl::Time after = absl::Now();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->attempted);
  EXPECT_TRUE(r->health.up) << Shown(*r);
  EXPECT_EQ(Shown(*r), "");
  EXPECT_EQ(r->health.profile_bytes,
            static_cast<int64_t>(ReadFixture("goroutine.pb.gz").size()));
  EXPECT_EQ(r->health.profile_bytes, 2687);
  EXPECT_EQ(AllErrors(*r), 0u);
  EXPECT_GE(r->finished, before);
  EXPECT_LE(r->finished, after);
  EXPECT_EQ(r->health.last_success, r->finished);
  EXPECT_GE(r->health.duration_seconds, 0);
  EXPECT_LE(r->health.duration_seconds, absl::ToDoubleSeconds(after - before));

  const MetricFamily* goroutines = Find(r->series, "pprof_goroutines");
  ASSERT_NE(goroutines, nullptr) << SerializeText(r->series);
  ASSERT_EQ(goroutines->metric.size(), 1u);
  EXPECT_EQ(goroutines->metric[0].gauge.value, 48);
  ASSERT_EQ(goroutines->metric[0].label.size(), 2u);
  EXPECT_EQ(goroutines->metric[0].label[0].name, "target");
  EXPECT_EQ(goroutines->metric[0].label[0].value, "svchost");
  EXPECT_EQ(goroutines->metric[0].label[1].name, "env");
  EXPECT_EQ(goroutines->metric[0].label[1].value, "test");
  // Only derived series: health is added by the snapshot.
  EXPECT_EQ(Find(r->series, "pprof_up"), nullptr);
}

TEST_F(ScrapeTest, SeriesOverTheTargetsShareOfSeriesLimitFailTheScrape) {
  TargetConfig target = Target(server_.BaseUrl());
  target.profiles = {Schedule(profile::Kind::kGoroutine),
                     Schedule(profile::Kind::kHeap)};
  // The goroutine fixture reduces to 13 series; two kinds share 24.
  target.series_limit = 24;
  auto r = Scrape(target, Schedule(profile::Kind::kGoroutine), {}, fetcher_,
                  {});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->health.up);
  EXPECT_EQ(Errors(*r, FailureReason::kSeriesLimit), 1u);
  EXPECT_THAT(Shown(*r), HasSubstr("13 series exceed"));
  EXPECT_TRUE(r->series.empty());

  target.series_limit = 26;  // a share of 13: exactly enough
  r = Scrape(target, Schedule(profile::Kind::kGoroutine), {}, fetcher_, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->health.up) << Shown(*r);
}

TEST_F(ScrapeTest, CpuAsksForTheConfiguredSeconds) {
  auto r = Run(profile::Kind::kCpu);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->health.up) << Shown(*r);
  EXPECT_EQ(r->health.profile_bytes,
            static_cast<int64_t>(ReadFixture("cpu.pb.gz").size()));
  EXPECT_THAT(server_.cpu_seconds(), ::testing::ElementsAre("1"));
  EXPECT_NE(Find(r->series, "pprof_cpu_duration_seconds"), nullptr);
  EXPECT_NE(Find(r->series, "pprof_cpu_flat_ratio"), nullptr);
}

TEST_F(ScrapeTest, HtmlIsADecodeError) {
  auto r = Run(profile::Kind::kHeap);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->attempted);
  EXPECT_FALSE(r->health.up);
  EXPECT_EQ(Errors(*r, FailureReason::kDecode), 1u);
  EXPECT_EQ(AllErrors(*r), 1u);
  EXPECT_TRUE(r->series.empty());
  EXPECT_THAT(Shown(*r), StartsWith("decode: "));
  EXPECT_GT(Shown(*r).size(), std::string("decode: ").size());
  EXPECT_EQ(r->health.last_success, absl::InfinitePast());
  EXPECT_GE(r->health.duration_seconds, 0);
}

TEST_F(ScrapeTest, GoPprofBusyIsProfilerBusy) {
  auto r = Run(profile::Kind::kMutex);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->health.up);
  EXPECT_EQ(Errors(*r, FailureReason::kProfilerBusy), 1u);
  EXPECT_EQ(AllErrors(*r), 1u);
  EXPECT_TRUE(r->series.empty());
  EXPECT_THAT(Shown(*r), StartsWith("profiler_busy: "));
}

TEST_F(ScrapeTest, NotFoundIsHttpStatus) {
  auto r = Run(profile::Kind::kBlock);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->health.up);
  EXPECT_EQ(Errors(*r, FailureReason::kHttpStatus), 1u);
  EXPECT_EQ(AllErrors(*r), 1u);
  EXPECT_THAT(Shown(*r), StartsWith("http_status: "));
}

TEST_F(ScrapeTest, SizeLimitsAreTooLarge) {
  profile::DecodeLimits small_download;
  small_download.max_compressed_bytes = 100;
  auto r = Run(profile::Kind::kGoroutine, {}, small_download);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->health.up);
  EXPECT_EQ(Errors(*r, FailureReason::kTooLarge), 1u) << Shown(*r);
  EXPECT_EQ(AllErrors(*r), 1u);

  profile::DecodeLimits small_inflate;
  small_inflate.max_decompressed_bytes = 1000;
  r = Run(profile::Kind::kGoroutine, *r, small_inflate);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->health.up);
  EXPECT_EQ(Errors(*r, FailureReason::kTooLarge), 2u) << Shown(*r);
  EXPECT_EQ(AllErrors(*r), 2u);
  EXPECT_THAT(Shown(*r), StartsWith("too_large: "));
}

TEST(ScrapeConnectTest, RefusedIsConnect) {
  Fetcher fetcher;
  const TargetConfig t =
      Target(absl::StrCat("http://127.0.0.1:", ClosedPort(), "/debug/pprof/"));
  auto r = Scrape(t, Schedule(profile::Kind::kGoroutine), {}, fetcher, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->attempted);
  EXPECT_FALSE(r->health.up);
  EXPECT_EQ(Errors(*r, FailureReason::kConnect), 1u) << Shown(*r);
  EXPECT_EQ(AllErrors(*r), 1u);
  EXPECT_THAT(Shown(*r), StartsWith("connect: "));
  // Counters accumulate through `previous`.
  r = Scrape(t, Schedule(profile::Kind::kGoroutine), *r, fetcher, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(Errors(*r, FailureReason::kConnect), 2u);
  EXPECT_EQ(AllErrors(*r), 2u);
}

TEST_F(ScrapeTest, ErrorCountersAccumulateAndSuccessIsRemembered) {
  auto first = Run(profile::Kind::kGoroutine);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->health.up) << Shown(*first);

  server_.goroutine_mode = FakePprof::Mode::kHtml;
  auto second = Run(profile::Kind::kGoroutine, *first);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->health.up);
  EXPECT_TRUE(second->series.empty());
  EXPECT_EQ(Errors(*second, FailureReason::kDecode), 1u);
  EXPECT_THAT(Shown(*second), StartsWith("decode: "));
  // The last success and its size stay those of the first scrape.
  EXPECT_EQ(second->health.last_success, first->health.last_success);
  EXPECT_EQ(second->health.profile_bytes, first->health.profile_bytes);
  EXPECT_GE(second->finished, first->finished);

  auto third = Run(profile::Kind::kGoroutine, *second);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(Errors(*third, FailureReason::kDecode), 2u);

  server_.goroutine_mode = FakePprof::Mode::kBusy;
  auto fourth = Run(profile::Kind::kGoroutine, *third);
  ASSERT_TRUE(fourth.has_value());
  EXPECT_EQ(Errors(*fourth, FailureReason::kDecode), 2u);
  EXPECT_EQ(Errors(*fourth, FailureReason::kProfilerBusy), 1u);
  EXPECT_EQ(AllErrors(*fourth), 3u);
  EXPECT_THAT(Shown(*fourth), StartsWith("profiler_busy: "));

  server_.goroutine_mode = FakePprof::Mode::kProfile;
  auto fifth = Run(profile::Kind::kGoroutine, *fourth);
  ASSERT_TRUE(fifth.has_value());
  EXPECT_TRUE(fifth->health.up) << Shown(*fifth);
  EXPECT_EQ(Shown(*fifth), "");
  EXPECT_EQ(Errors(*fifth, FailureReason::kDecode), 2u);
  EXPECT_EQ(Errors(*fifth, FailureReason::kProfilerBusy), 1u);
  EXPECT_EQ(AllErrors(*fifth), 3u);
  EXPECT_EQ(fifth->health.last_success, fifth->finished);
  EXPECT_GE(fifth->health.last_success, first->health.last_success);
  ASSERT_NE(Find(fifth->series, "pprof_goroutines"), nullptr);
}

TEST_F(ScrapeTest, CancelledScrapeIsNotAResult) {
  ScrapeResult previous;
  previous.attempted = true;
  previous.health.errors_total[0] = 5;
  Fetcher stopped;
  stopped.StopAll();
  auto r = Scrape(Target(server_.BaseUrl()),
                  Schedule(profile::Kind::kGoroutine), previous, stopped, {});
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(previous.health.errors_total[0], 5u);
  // The CPU endpoint was not asked either.
  auto cpu = Scrape(Target(server_.BaseUrl()), Schedule(profile::Kind::kCpu),
                    previous, stopped, {});
  EXPECT_FALSE(cpu.has_value());
  EXPECT_TRUE(server_.cpu_seconds().empty());
}

}  // namespace
}  // namespace exporter
