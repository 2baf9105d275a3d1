// The profile kinds the exporter scrapes, in one table: for each, the
// endpoint under a target's pprof base URL, how its body is reduced, its
// defaults, and whether its request samples over a window.
//
// Everything kind-specific in the exporter reads this table: the config's
// `profiles:` keys and defaults, the URL and the reduction of a scrape, the
// scheduler's worker accounting and retries, what a 404 means. What a
// profile means lives in profile/ (its reducer), and its series in
// metrics.cc. Adding a kind is a row here, a reducer there and its series;
// nothing else.
#ifndef PPROF_EXPORTER_EXPORTER_KINDS_H_
#define PPROF_EXPORTER_EXPORTER_KINDS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "profile/decode.h"
#include "profile/kind.h"
#include "profile/options.h"
#include "profile/reduce.h"

namespace exporter {

// What a reducer needs besides the body.
struct ReduceInput {
  const profile::ReduceOptions* options = nullptr;
  // Cumulative kinds: the previous scrape's table, or null.
  const profile::FunctionBaseline* previous = nullptr;
  profile::DecodeLimits limits;
  absl::Duration stuck_after;  // goroutine_dump only
};

struct Reduced {
  profile::Reduction reduction;
  int64_t samples = 0;  // samples, or goroutine records of a text dump
};

// Fetched bytes to numbers. ResourceExhausted means over a size limit
// (reason too_large); any other error is reason decode.
using BodyReducer = absl::StatusOr<Reduced> (*)(absl::string_view body,
                                                const ReduceInput& input);

struct KindSpec {
  profile::Kind kind;
  // The endpoint with any fixed query, appended to the target's base URL
  // (".../debug/pprof/").
  absl::string_view path;
  BodyReducer reduce;
  // A sampled kind is fetched as `path?seconds=N`: Go profiles for N
  // seconds before it answers, so the request holds a worker for the
  // window, its timeout grows with it, and Go refuses a second one at the
  // same time ("profiler busy", retried). Only CPU.
  bool sampled = false;
  // Scraped when a target lists no `profiles:`.
  bool on_by_default = true;
  // The interval when the kind sets none; nullopt: scrape_interval.
  std::optional<absl::Duration> default_interval;
  // Its `profiles:` entry takes stuck_after (the reduction's threshold).
  bool takes_stuck_after = false;
  // Another kind whose totals this one repeats (allocs: heap's totals;
  // goroutine_dump: the goroutine counts). When a target scrapes both,
  // only that one exports them, so no series comes from two profiles.
  std::optional<profile::Kind> totals_from;
  // What a 404 means, when it means more than a wrong URL: logged once,
  // and the slot backs off.
  absl::string_view not_found_means;
};

// Every kind, in the order of the config's default `profiles:`, of a
// target's slots and of the landing page.
absl::Span<const KindSpec> AllKindSpecs();

// The kinds scraped when a target lists no `profiles:`, in table order.
std::vector<profile::Kind> DefaultKinds();

// The row of `kind`.
const KindSpec& SpecOf(profile::Kind kind);

// The default stuck_after of goroutine_dump.
inline constexpr absl::Duration kDefaultStuckAfter = absl::Minutes(10);

}  // namespace exporter

#endif  // PPROF_EXPORTER_EXPORTER_KINDS_H_
