// The profile kinds the exporter scrapes, in one table: for each, the
// endpoint under a target's pprof base URL, whether it is scraped by
// default, and whether its request samples over a window.
//
// Everything kind-specific in the exporter reads this table: the config's
// `profiles:` keys and defaults, the URL of a scrape, the scheduler's
// worker accounting and retries. What a kind's profile means lives in
// profile/ (its reducer, and whether it is cumulative: profile/kind.h), and
// its series in metrics.cc. Adding a kind is a row here, a reducer there and
// its series; nothing else.
#ifndef PPROF_EXPORTER_EXPORTER_CONFIG_KINDS_H_
#define PPROF_EXPORTER_EXPORTER_CONFIG_KINDS_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "profile/kind.h"

namespace exporter {

struct KindSpec {
  profile::Kind kind;
  // The endpoint, appended to the target's base URL (".../debug/pprof/").
  absl::string_view path;
  // A sampled kind is fetched as `path?seconds=N`: Go profiles for N
  // seconds before it answers, so the request holds a worker for the
  // window, its timeout grows with it, and Go refuses a second one at the
  // same time ("profiler busy", retried). Only CPU today.
  bool sampled = false;
  // Scraped when a target lists no `profiles:`.
  bool on_by_default = true;
};

// Every kind, in the order of the config's default `profiles:`, of a
// target's slots and of the landing page.
absl::Span<const KindSpec> AllKindSpecs();

// The row of `kind`.
const KindSpec& SpecOf(profile::Kind kind);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_CONFIG_KINDS_H_
