// The HTML page at "/": per target the figures an engineer opens it for
// (goroutines, per service, GC share, top CPU functions as bars) and the
// warnings of its last scrapes (ScrapeSummary); then for each target and
// profile kind whether the last scrape worked, how old it is, and the error
// if not, with links to the target's pprof endpoint and to the metrics.
// Read-only, server-rendered; no scripts.
#ifndef PPROF_EXPORTER_EXPORTER_WEB_LANDING_PAGE_H_
#define PPROF_EXPORTER_EXPORTER_WEB_LANDING_PAGE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/scrape/slot.h"

namespace exporter {

// With `mirror_links`, each row of a profile scraped at least once links to
// it as re-served under /debug/pprof/ (pprof_mirror.h), and the target shows
// the `go tool pprof -http=:` command for it, with `self_url` (e.g.
// "http://host:9100", no trailing slash) as the exporter's address; with
// `archive_links` each row links to its archive list.
std::string RenderLandingPage(const SlotTable& table, absl::Time now,
                              absl::string_view telemetry_path,
                              bool mirror_links = false,
                              bool archive_links = false,
                              absl::string_view self_url = "");

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_WEB_LANDING_PAGE_H_
