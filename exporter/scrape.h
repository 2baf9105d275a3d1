// One scrape: fetch a target's profile endpoint, decode it, reduce it and
// render its series. The result replaces the slot's previous one; error
// counters carry over from it. Fetching is the only I/O; everything after
// it is the pure profile library.
#ifndef PPROF_EXPORTER_EXPORTER_SCRAPE_H_
#define PPROF_EXPORTER_EXPORTER_SCRAPE_H_

#include <cstddef>
#include <optional>
#include <string>

#include "exporter/config.h"
#include "exporter/fetch.h"
#include "exporter/snapshot.h"
#include "profile/decode.h"
#include "profile/kind.h"
#include "profile/profile.h"
#include "profile/reduce.h"

namespace exporter {

// The URL of one profile kind under a target's pprof base URL, e.g.
// http://127.0.0.1:9099/debug/pprof/profile?seconds=10 for CPU.
std::string ProfileUrl(const TargetConfig& target,
                       const ProfileSchedule& schedule);

// What a scrape produced: series (up) or a failure. Nothing when it was
// cancelled by shutdown: a cancelled scrape must neither count as an error
// nor replace the previous result. With `raw_body`, a fetched body that
// decoded and reduced as a profile is moved there (for the archive and
// re-serving; also when the scrape then fails on series_limit); else it
// stays empty.
std::optional<ScrapeResult> Scrape(const TargetConfig& target,
                                   const ProfileSchedule& schedule,
                                   const ScrapeResult& previous,
                                   Fetcher& fetcher,
                                   const profile::DecodeLimits& limits,
                                   std::string* raw_body = nullptr);

// The landing page's figures of one reduced profile (ScrapeSummary), and
// warnings about what makes them mislead: a service_label that no
// goroutine carries, a mutex or block profile the target never enabled.
// `samples` counts the profile's samples (a text dump's goroutine records).
ScrapeSummary Summarize(const TargetConfig& target, profile::Kind kind,
                        int64_t samples, const profile::Reduction& reduction);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_SCRAPE_H_
