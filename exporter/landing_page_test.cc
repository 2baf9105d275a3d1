#include "exporter/landing_page.h"

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "exporter/config.h"
#include "exporter/html.h"
#include "exporter/snapshot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "profile/kind.h"

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
  EXPECT_THAT(latest_only,
              HasSubstr("<a href=\"/debug/pprof/a%2Fb%26c/heap\">latest</a>"));
  EXPECT_THAT(latest_only, Not(HasSubstr("/archive")));
  EXPECT_THAT(RenderLandingPage(table, now, "/metrics", true, true),
              HasSubstr("<a href=\"/debug/pprof/a%2Fb%26c/heap/archive\">"
                        "archive</a>"));
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
