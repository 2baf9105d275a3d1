#include "exporter/landing_page.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "exporter/config.h"
#include "exporter/html.h"
#include "exporter/snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "exporter/scrape.h"
#include "profile/decode.h"
#include "profile/kind.h"
#include "profile/reduce.h"

namespace exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HtmlEscapeTest, EscapesTheFiveCharacters) {
  EXPECT_EQ(HtmlEscape(""), "");
  EXPECT_EQ(HtmlEscape("plain text/ok"), "plain text/ok");
  EXPECT_EQ(HtmlEscape("&"), "&amp;");
  EXPECT_EQ(HtmlEscape("<"), "&lt;");
  EXPECT_EQ(HtmlEscape(">"), "&gt;");
  EXPECT_EQ(HtmlEscape("\""), "&quot;");
  EXPECT_EQ(HtmlEscape("'"), "&#39;");
  EXPECT_EQ(HtmlEscape("<a href=\"x\" title='y'>&amp;</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("Zürich"), "Zürich");
}

std::shared_ptr<Slot> MakeSlot(const std::string& name, profile::Kind kind) {
  auto target = std::make_shared<TargetConfig>();
  target->name = name;
  target->url = "http://127.0.0.1:9099/debug/pprof/";
  ProfileSchedule schedule;
  schedule.kind = kind;
  schedule.interval = absl::Seconds(60);
  schedule.timeout = absl::Seconds(10);
  schedule.cpu_seconds = kind == profile::Kind::kCpu ? 10 : 0;
  target->profiles = {schedule};
  return std::make_shared<Slot>(target, schedule);
}

TEST(RenderLandingPageTest, StatesAndEscaping) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  SlotTable table;
  auto pending = MakeSlot("<script>alert(1)</script>", profile::Kind::kHeap);
  auto up = MakeSlot("good", profile::Kind::kCpu);
  auto down = MakeSlot("bad", profile::Kind::kGoroutine);
  {
    ScrapeResult r;
    r.attempted = true;
    r.health.up = true;
    r.health.profile_bytes = 6895;
    r.health.duration_seconds = 1.5;
    r.health.last_success = now - absl::Seconds(30);
    up->Publish(r);
  }
  {
    ScrapeResult r;
    r.attempted = true;
    r.health.up = false;
    r.failure = ScrapeFailure{FailureReason::kDecode,
                              "<img src=x onerror=alert(2)> & \"stuff\""};
    down->Publish(r);
  }
  table.slots = {pending, up, down};

  const std::string html =
      RenderLandingPage(table, now, "/metrics?x=<y>&z=\"w\"");

  // No markup from data gets through.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("decode: &lt;img src=x onerror=alert(2)&gt; &amp; &quot;stuff&quot;"));
  EXPECT_THAT(html,
              HasSubstr("href=\"/metrics?x=&lt;y&gt;&amp;z=&quot;w&quot;\""));

  // States.
  EXPECT_THAT(html, HasSubstr("<td class=wait>pending</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=up>up</td><td>6895 bytes in 1.500s</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=down>down</td>"));
  EXPECT_THAT(html, HasSubstr("30s ago"));
  EXPECT_THAT(html, HasSubstr("never"));

  // Rows in table order, each linking its profile endpoint.
  const size_t p = html.find("&lt;script&gt;");
  const size_t u = html.find(">good<");
  const size_t d = html.find(">bad<");
  ASSERT_NE(p, std::string::npos);
  ASSERT_NE(u, std::string::npos);
  ASSERT_NE(d, std::string::npos);
  EXPECT_LT(p, u);
  EXPECT_LT(u, d);
  EXPECT_THAT(html, HasSubstr(
      "<a href=\"http://127.0.0.1:9099/debug/pprof/profile?seconds=10\">cpu</a>"));
  EXPECT_THAT(html, HasSubstr(
      "<a href=\"http://127.0.0.1:9099/debug/pprof/heap\">heap</a>"));
  EXPECT_THAT(html, HasSubstr(
      "<a href=\"http://127.0.0.1:9099/debug/pprof/goroutine\">goroutine</a>"));
  // The effective interval and timeout, and the CPU window.
  EXPECT_THAT(html, HasSubstr("heap</a></td><td>1m</td><td>10s</td>"));
  EXPECT_THAT(html, HasSubstr("cpu</a></td><td>1m</td><td>10s (10s profile)</td>"));
  // One row per slot.
  size_t rows = 0;
  for (size_t at = html.find("<tr><td>"); at != std::string::npos;
       at = html.find("<tr><td>", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 3u);
}

TEST(RenderLandingPageTest, AgesInMinutesAndHours) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  auto minutes = MakeSlot("m", profile::Kind::kHeap);
  auto hours = MakeSlot("h", profile::Kind::kHeap);
  for (const auto& [slot, age] :
       {std::pair{minutes, absl::Minutes(5)}, std::pair{hours, absl::Hours(3)}}) {
    ScrapeResult r;
    r.attempted = true;
    r.health.up = true;
    r.health.last_success = now - age;
    slot->Publish(r);
  }
  SlotTable table;
  table.slots = {minutes, hours};
  const std::string html = RenderLandingPage(table, now, "/metrics");
  EXPECT_THAT(html, HasSubstr("5m ago"));
  EXPECT_THAT(html, HasSubstr("3h ago"));
}

TEST(RenderLandingPageTest, LinksToReServedProfilesWhenEnabled) {
  SlotTable table;
  table.slots = {MakeSlot("a/b&c", profile::Kind::kHeap)};
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  EXPECT_THAT(RenderLandingPage(table, now, "/metrics"),
              Not(HasSubstr("/debug/pprof/a")));
  const std::string latest_only =
      RenderLandingPage(table, now, "/metrics", true, false);
  EXPECT_THAT(latest_only, HasSubstr("<th>re-served</th>"));
  // Never scraped: nothing re-served yet, so no link to it (it would 404).
  EXPECT_THAT(latest_only, Not(HasSubstr(">latest</a>")));
  EXPECT_THAT(latest_only, Not(HasSubstr("go tool pprof")));
  ScrapeResult scraped;
  scraped.attempted = true;
  scraped.health.up = true;
  scraped.health.last_success = now;
  table.slots[0]->Publish(scraped);
  const std::string after = RenderLandingPage(table, now, "/metrics", true,
                                              false, "http://h:9100");
  EXPECT_THAT(after,
              HasSubstr("<a href=\"/debug/pprof/a%2Fb%26c/heap\">latest</a>"));
  EXPECT_THAT(after, Not(HasSubstr("/archive")));
  EXPECT_THAT(after, HasSubstr("<code>go tool pprof -http=: "
                               "http://h:9100/debug/pprof/a%2Fb%26c/heap"
                               "</code>"));
  EXPECT_THAT(RenderLandingPage(table, now, "/metrics", true, true),
              HasSubstr("<a href=\"/debug/pprof/a%2Fb%26c/heap/archive\">"
                        "archive</a>"));
}

std::string ReadFixture(const std::string& name) {
  const char* src = std::getenv("TEST_SRCDIR");
  std::ifstream in(absl::StrCat(src ? src : ".", src ? "/pprof_exporter/" : "",
                                "tests/testdata/", name),
                   std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// What the page shows for `fixture` reduced as `kind` with the target's
// settings: the summary goes through Summarize, as in a scrape.
std::string PageOf(const TargetConfig& target, profile::Kind kind,
                   const std::string& fixture) {
  const std::string bytes = ReadFixture(fixture);
  EXPECT_FALSE(bytes.empty()) << fixture;
  auto decoded = profile::Decode(bytes, profile::DecodeLimits{});
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  auto reduction = profile::Reduce(kind, *decoded, target.reduce);
  EXPECT_TRUE(reduction.ok()) << reduction.status();
  ProfileSchedule schedule;
  schedule.kind = kind;
  auto slot = std::make_shared<Slot>(
      std::make_shared<TargetConfig>(target), schedule);
  ScrapeResult result;
  result.attempted = true;
  result.health.up = true;
  result.summary = Summarize(
      target, kind, static_cast<int64_t>(decoded->num_samples()), *reduction);
  slot->Publish(result);
  SlotTable table;
  table.slots = {slot};
  return RenderLandingPage(table, absl::FromUnixSeconds(0), "/metrics");
}

TEST(RenderLandingPageTest, WarnsOfAServiceLabelNoGoroutineCarries) {
  // tsnsrv's 6,257 goroutines carry no pprof labels at all.
  TargetConfig target;
  target.name = "tsnsrv";
  target.reduce.services.method = profile::ServiceCounting::Method::kLabel;
  target.reduce.services.label = "service";
  const std::string html = PageOf(target, profile::Kind::kGoroutine,
                                  "tsnsrv-storage/goroutine.pb.gz");
  EXPECT_THAT(html, HasSubstr("<dd class=goroutines>6257</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd class=services>0</dd>"));
  EXPECT_THAT(html, HasSubstr("<li class=warning data-profile=goroutine>"
                              "<b>service_label matches no goroutine</b> "
                              "(service_label: <code>service</code>)"));
  EXPECT_THAT(html, HasSubstr("service_count_regex"));
  EXPECT_THAT(html, HasSubstr("services: N"));

  // Counted by a regex, or with a label some goroutine has: no warning.
  target.reduce.services.method = profile::ServiceCounting::Method::kStatic;
  target.reduce.services.static_count = 57;
  EXPECT_THAT(PageOf(target, profile::Kind::kGoroutine,
                     "tsnsrv-storage/goroutine.pb.gz"),
              Not(HasSubstr("class=warning")));
}

TEST(RenderLandingPageTest, SaysHowToEnableEmptyMutexAndBlockProfiles) {
  // tsnsrv never sets a mutex or block profile rate: both have no samples.
  TargetConfig target;
  target.name = "tsnsrv";
  EXPECT_THAT(PageOf(target, profile::Kind::kMutex,
                     "tsnsrv-storage/mutex.pb.gz"),
              HasSubstr("<b>mutex profile is empty</b>. Go records no mutex "
                        "contention unless the program calls "
                        "runtime.SetMutexProfileFraction(n)"));
  EXPECT_THAT(PageOf(target, profile::Kind::kBlock,
                     "tsnsrv-storage/block.pb.gz"),
              HasSubstr("<b>block profile is empty</b>. Go records no "
                        "blocking unless the program calls "
                        "runtime.SetBlockProfileRate(ns)"));
  // A profile with samples needs no advice.
  EXPECT_THAT(PageOf(target, profile::Kind::kMutex, "mutex.pb.gz"),
              Not(HasSubstr("class=warning")));
}

TEST(RenderLandingPageTest, ShowsGcShareAndTopCpuFunctionsAsBars) {
  TargetConfig target;
  target.name = "demo";
  const std::string html = PageOf(target, profile::Kind::kCpu, "cpu.pb.gz");
  // cpu.json, by Go's pprof: gc_ratio 0.0974; main.hashLoop flat 0.3961,
  // cum 0.5032.
  EXPECT_THAT(html, HasSubstr("<dd class=gc-share>9.7%</dd>"));
  EXPECT_THAT(html, HasSubstr(
      "<li><span class=fn title=\"main.hashLoop\">main.hashLoop</span>"
      "<span class=bar><span style=\"width:39.6%\"></span></span>"
      "<span class=flat>39.6%</span><span class=cum>cum 50.3%</span></li>"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
}

TEST(RenderLandingPageTest, EmptyTableIsAValidPage) {
  SlotTable table;
  const std::string html =
      RenderLandingPage(table, absl::FromUnixSeconds(0), "/metrics");
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("href=\"/metrics\""));
  EXPECT_THAT(html, HasSubstr("</html>"));
}

}  // namespace
}  // namespace exporter
