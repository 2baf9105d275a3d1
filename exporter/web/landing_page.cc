#include "exporter/web/landing_page.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "exporter/base/html.h"
#include "exporter/config/kinds.h"
#include "exporter/metrics/metrics.h"
#include "exporter/archive/pprof_mirror.h"
#include "exporter/scrape/scrape.h"

namespace exporter {
namespace {

// Service label values listed per target; the rest are counted.
constexpr size_t kServicesShown = 12;

constexpr char kStyle[] =
    "body{font-family:sans-serif;margin:2em;max-width:72em}"
    "td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}"
    ".up{color:#080}.down{color:#b00}.wait{color:#888}"
    "section{border:1px solid #ccc;border-radius:4px;padding:.2em 1em 1em;"
    "margin:1em 0}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}"
    "dt{color:#555}dd{margin:0;font-weight:bold}"
    ".warnings{padding:0}.warning{background:#fff4d6;border-left:4px solid #e0a000;"
    "padding:.4em .8em;margin:.4em 0;list-style:none}"
    ".top{list-style:none;padding:0}.top li{display:grid;"
    "grid-template-columns:28em 16em 5em 7em;gap:.6em;align-items:center;"
    "font-size:90%}"
    ".fn{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    ".bar{background:#eee;height:.9em}.bar span{display:block;height:100%;"
    "background:#4a7bd0}.cum{color:#666}"
    "code{background:#f4f4f4;padding:.1em .3em}";

std::string Age(absl::Time then, absl::Time now) {
  if (then == absl::InfinitePast()) return "never";
  const int64_t seconds = absl::ToInt64Seconds(now - then);
  if (seconds < 120) return absl::StrCat(seconds, "s ago");
  if (seconds < 7200) return absl::StrCat(seconds / 60, "m ago");
  return absl::StrCat(seconds / 3600, "h ago");
}

std::string Percent(double ratio) {
  return absl::StrFormat("%.1f%%", 100 * ratio);
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

bool EverScraped(const ScrapeResult& result) {
  return result.health.last_success != absl::InfinitePast();
}

void AppendWarning(const ScrapeWarning& w, profile::Kind kind,
                   std::string* html) {
  absl::StrAppend(html, "<li class=warning data-profile=",
                  profile::KindName(kind), "><b>", HtmlEscape(w.message),
                  "</b>");
  if (!w.setting.empty()) {
    absl::StrAppend(html, " (", HtmlEscape(w.setting), ": <code>",
                    HtmlEscape(w.value), "</code>)");
  }
  absl::StrAppend(html, ". ", HtmlEscape(w.advice), "</li>");
}

void AppendGoroutines(const ScrapeSummary& s, std::string* html) {
  absl::StrAppend(html, "<dt>goroutines</dt><dd class=goroutines>",
                  *s.goroutines, "</dd><dt>services</dt><dd class=services>",
                  s.services.value_or(0), "</dd>");
  if (s.goroutines_per_service) {
    absl::StrAppend(html,
                    "<dt>goroutines per service</dt>"
                    "<dd class=goroutines-per-service>",
                    absl::StrFormat("%.1f", *s.goroutines_per_service),
                    "</dd>");
  }
  if (s.service_goroutines.empty()) return;
  absl::StrAppend(html, "<dt>goroutines by service</dt><dd>");
  const size_t shown = std::min(kServicesShown, s.service_goroutines.size());
  for (size_t i = 0; i < shown; ++i) {
    const auto& [service, count] = s.service_goroutines[i];
    absl::StrAppend(html, i ? ", " : "", "<span class=service data-service=\"",
                    HtmlEscape(service), "\">", HtmlEscape(service), ": ",
                    count, "</span>");
  }
  if (shown < s.service_goroutines.size()) {
    absl::StrAppend(html, " and ", s.service_goroutines.size() - shown,
                    " more");
  }
  absl::StrAppend(html, "</dd>");
}

// CPU: the GC share and the top functions by flat as bars.
void AppendCpu(const ScrapeSummary& s, std::string* html) {
  absl::StrAppend(html, "<dt>GC share of CPU</dt><dd class=gc-share>",
                  Percent(*s.gc_ratio), "</dd>");
  // The GC share without idle marking (forensics issue) goes here.
}

void AppendTopCpu(const ScrapeSummary& s, std::string* html) {
  if (s.top_cpu.empty()) return;
  absl::StrAppend(html,
                  "<h3>Top CPU functions (flat, cum)</h3><ol class=top>");
  for (const auto& f : s.top_cpu) {
    absl::StrAppend(
        html, "<li><span class=fn title=\"", HtmlEscape(f.name), "\">",
        HtmlEscape(f.name), "</span><span class=bar><span style=\"width:",
        absl::StrFormat("%.1f", 100 * std::clamp(f.flat_ratio, 0.0, 1.0)),
        "%\"></span></span><span class=flat>", Percent(f.flat_ratio),
        "</span><span class=cum>cum ", Percent(f.cum_ratio), "</span></li>");
  }
  absl::StrAppend(html, "</ol>");
}

// One target's figures, warnings and pprof commands, from its slots.
void AppendTarget(const std::vector<const Slot*>& slots, bool mirror,
                  absl::string_view self_url, std::string* html) {
  const std::string& name = slots.front()->target().name;
  absl::StrAppend(html, "<section data-target=\"", HtmlEscape(name),
                  "\"><h2>", HtmlEscape(name), "</h2>");
  std::string warnings, figures, top, commands;
  for (const Slot* slot : slots) {
    const auto result = slot->result();
    const ScrapeSummary& s = result->summary;
    const profile::Kind kind = slot->schedule().kind;
    for (const auto& w : s.warnings) AppendWarning(w, kind, &warnings);
    if (s.goroutines) AppendGoroutines(s, &figures);
    if (s.gc_ratio) AppendCpu(s, &figures);
    AppendTopCpu(s, &top);
    if (mirror && EverScraped(*result) && !self_url.empty()) {
      absl::StrAppend(&commands, "<li><code>go tool pprof -http=: ",
                      HtmlEscape(self_url),
                      HtmlEscape(MirrorPath(name, kind)), "</code></li>");
    }
  }
  if (!warnings.empty()) {
    absl::StrAppend(html, "<ul class=warnings>", warnings, "</ul>");
  }
  if (figures.empty() && top.empty()) {
    absl::StrAppend(html, "<p class=wait>No goroutine or CPU profile of "
                          "this target scraped successfully.</p>");
  }
  if (!figures.empty()) absl::StrAppend(html, "<dl>", figures, "</dl>");
  absl::StrAppend(html, top);
  if (!commands.empty()) {
    absl::StrAppend(html,
                    "<h3>Open the latest profiles in pprof</h3>"
                    "<ul class=pprof-commands>",
                    commands, "</ul>");
  }
  absl::StrAppend(html, "</section>");
}

// The slots grouped by target, targets in table order.
std::vector<std::vector<const Slot*>> ByTarget(const SlotTable& table) {
  std::vector<std::vector<const Slot*>> targets;
  for (const auto& slot : table.slots) {
    auto it = std::find_if(targets.begin(), targets.end(), [&](auto& t) {
      return t.front()->target().name == slot->target().name;
    });
    if (it == targets.end()) {
      targets.push_back({slot.get()});
    } else {
      it->push_back(slot.get());
    }
  }
  return targets;
}

}  // namespace

std::string RenderLandingPage(const SlotTable& table, absl::Time now,
                              absl::string_view telemetry_path,
                              bool mirror_links, bool archive_links,
                              absl::string_view self_url) {
  std::string html = absl::StrCat(
      "<!DOCTYPE html><html><head><meta charset=utf-8>"
      "<title>pprof_exporter</title><style>",
      kStyle, "</style></head><body><h1>pprof_exporter ", kVersion,
      "</h1><p><a href=\"", HtmlEscape(telemetry_path),
      "\">Metrics</a> &middot; <a href=\"/-/healthy\">Health</a> &middot; "
      "<a href=\"/-/ready\">Readiness</a></p>"
      "<p>Scrapes the Go pprof endpoints below and exports what they show. "
      "The figures here and on the metrics page come from the last "
      "successful scrape of each profile.</p>");
  for (const auto& slots : ByTarget(table)) {
    AppendTarget(slots, mirror_links, self_url, &html);
  }
  absl::StrAppend(
      &html,
      "<h2>Profiles</h2><table><tr><th>target</th><th>profile</th>"
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
      std::vector<std::string> links;
      // The mirror has a profile only once a scrape succeeded.
      if (EverScraped(*result)) {
        links.push_back(absl::StrCat("<a href=\"",
                                     HtmlEscape(MirrorPath(name, kind)),
                                     "\">latest</a>"));
      }
      if (archive_links) {
        links.push_back(absl::StrCat("<a href=\"",
                                     HtmlEscape(ArchiveListPath(name, kind)),
                                     "\">archive</a>"));
      }
      absl::StrAppend(&html, "<td>", absl::StrJoin(links, " &middot; "),
                      "</td>");
    }
    absl::StrAppend(&html, "</tr>");
  }
  absl::StrAppend(&html, "</table></body></html>\n");
  return html;
}

}  // namespace exporter
