#include "exporter/landing_page.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/html.h"
#include "exporter/kinds.h"
#include "exporter/metrics.h"
#include "exporter/pprof_mirror.h"
#include "exporter/scrape.h"

namespace exporter {
namespace {

std::string Age(absl::Time then, absl::Time now) {
  if (then == absl::InfinitePast()) return "never";
  const int64_t seconds = absl::ToInt64Seconds(now - then);
  if (seconds < 120) return absl::StrCat(seconds, "s ago");
  if (seconds < 7200) return absl::StrCat(seconds / 60, "m ago");
  return absl::StrCat(seconds / 3600, "h ago");
}

std::string StatusCell(const ScrapeResult& result) {
  if (!result.attempted) return "<td class=wait>pending</td><td></td>";
  if (result.health.up) {
    return absl::StrFormat("<td class=up>up</td><td>%d bytes in %.3fs</td>",
                           result.health.profile_bytes,
                           result.health.duration_seconds);
  }
  const std::string why = result.failure ? result.failure->ToString() : "";
  return absl::StrCat("<td class=down>down</td><td>", HtmlEscape(why),
                      "</td>");
}

// The effective values after inheritance (config.h): the request timeout,
// and for CPU the sampling window it includes.
std::string ScheduleTimeout(const ProfileSchedule& schedule) {
  if (!SpecOf(schedule.kind).sampled) {
    return absl::FormatDuration(schedule.timeout);
  }
  return absl::StrCat(absl::FormatDuration(schedule.timeout), " (",
                      schedule.cpu_seconds, "s profile)");
}

}  // namespace

std::string RenderLandingPage(const SlotTable& table, absl::Time now,
                              absl::string_view telemetry_path,
                              bool mirror_links, bool archive_links) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset=utf-8>"
      "<title>pprof_exporter</title><style>"
      "body{font-family:sans-serif;margin:2em}"
      "td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}"
      ".up{color:#080}.down{color:#b00}.wait{color:#888}"
      "</style></head><body><h1>pprof_exporter ",
      kVersion, "</h1><p><a href=\"", HtmlEscape(telemetry_path),
      "\">Metrics</a> &middot; <a href=\"/-/healthy\">Health</a> &middot; "
      "<a href=\"/-/ready\">Readiness</a></p>"
      "<p>Scrapes the Go pprof endpoints below and exports what they show. "
      "Values on the metrics page come from the last successful scrape of "
      "each profile.</p><table><tr><th>target</th><th>profile</th>"
      "<th>every</th><th>timeout</th><th>status</th><th>last result</th>"
      "<th>last success</th>",
      mirror_links ? "<th>re-served</th>" : "", "</tr>");
  for (const auto& slot : table.slots) {
    const auto result = slot->result();
    const std::string url = ProfileUrl(slot->target(), slot->schedule());
    absl::StrAppend(
        &html, "<tr><td>", HtmlEscape(slot->target().name),
        "</td><td><a href=\"", HtmlEscape(url), "\">",
        profile::KindName(slot->schedule().kind), "</a></td><td>",
        absl::FormatDuration(slot->schedule().interval), "</td><td>",
        ScheduleTimeout(slot->schedule()), "</td>", StatusCell(*result),
        "<td>", Age(result->health.last_success, now), "</td>");
    if (mirror_links) {
      const auto& name = slot->target().name;
      const profile::Kind kind = slot->schedule().kind;
      absl::StrAppend(&html, "<td><a href=\"",
                      HtmlEscape(MirrorPath(name, kind)), "\">latest</a>");
      if (archive_links) {
        absl::StrAppend(&html, " &middot; <a href=\"",
                        HtmlEscape(ArchiveListPath(name, kind)),
                        "\">archive</a>");
      }
      absl::StrAppend(&html, "</td>");
    }
    absl::StrAppend(&html, "</tr>");
  }
  absl::StrAppend(&html, "</table></body></html>\n");
  return html;
}

}  // namespace exporter
