// The HTML page at "/": for each target and profile kind, whether the last
// scrape worked, how old it is, and the error if not, with links to the
// target's pprof endpoint and to the metrics. Read-only; no scripts.
#ifndef PPROF_EXPORTER_EXPORTER_LANDING_PAGE_H_
#define PPROF_EXPORTER_EXPORTER_LANDING_PAGE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/snapshot.h"

namespace exporter {

// With `mirror_links`, each row links to the profile re-served under
// /debug/pprof/ (pprof_mirror.h), and with `archive_links` to its archive list.
std::string RenderLandingPage(const SlotTable& table, absl::Time now,
                              absl::string_view telemetry_path,
                              bool mirror_links = false,
                              bool archive_links = false);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_LANDING_PAGE_H_
